"""Reseller discounts and coupons: their own lines on every quote, order and invoice, applied
in one order (the reseller discount, then the coupon on what is left), never below zero; a
coupon's uses counted in the order's transaction, once per organization, never past its
maximum, on SQLite and PostgreSQL, through one portal instance or two."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from seattui.domain.accounts import NewOrganization
from seattui.domain.discounts import Coupon, coupon_refusal, discount_lines
from seattui.domain.errors import Conflict, ValidationFailed
from seattui.domain.licensing import LicenseOrder, NewActivationKey, SubscriptionOrder, Term
from seattui.domain.pricing import PriceLine
from seattui.domain.roles import OrgKind
from seattui.portal.app import create_app
from seattui.portal.context import Tx
from seattui.portal.services import accounts, credits, discounts, keys, licenses
from seattui.portal.store import Store
from seattui.portal.store.tables import coupon_redemptions, coupons

from harness import PASSWORD, PortalHarness
from harness import test_settings as settings_for  # not collected as a test

PRICE = Decimal("490.00")  # RemoteDesk Standard, 10 users


def line(amount: str, product_id: str | None = "remotedesk") -> PriceLine:
    return PriceLine(description="x", quantity=1, unit_price=Decimal(amount), amount=Decimal(amount),
                     product_id=product_id)


# -- the rules, as pure functions -----------------------------------------------------------

def test_the_reseller_discount_applies_first_and_the_coupon_on_what_is_left() -> None:
    coupon = Coupon(code="SPRING", percent=Decimal("10"))
    off = discount_lines([line("100.00")], {None: Decimal("20")}, coupon)
    # 20% of 100 = 20, then 10% of the 80 left = 8 (not 10% of 100).
    assert [(item.description, item.amount) for item in off] == [
        ("Reseller discount 20%", Decimal("-20.00")), ("Coupon SPRING: 10% off", Decimal("-8.00"))]
    # The README's example: 490.00, 10% off, then 12.5% of the 441.00 left (55.125, half up).
    off = discount_lines([line("490.00")], {None: Decimal("10")}, Coupon(code="S", percent=Decimal("12.5")))
    assert [item.amount for item in off] == [Decimal("-49.00"), Decimal("-55.13")]


def test_a_product_discount_wins_over_the_overall_one_and_each_line_rounds_once_half_up() -> None:
    off = discount_lines([line("10.05"), line("33.33", "mailguard")],
                         {None: Decimal("10"), "remotedesk": Decimal("12.5")})
    # 12.5% of 10.05 = 1.25625 -> 1.26; 10% of 33.33 = 3.333 -> 3.33
    assert [(item.description, item.amount, item.product_id) for item in off] == [
        ("Reseller discount 12.5% on remotedesk", Decimal("-1.26"), "remotedesk"),
        ("Reseller discount 10%", Decimal("-3.33"), "mailguard")]


def test_no_discount_takes_an_order_below_zero() -> None:
    big = Coupon(code="BIG", amount=Decimal("500.00"))
    off = discount_lines([line("100.00")], {None: Decimal("100")}, big)
    assert [item.amount for item in off] == [Decimal("-100.00")]  # the coupon has nothing left to take
    off = discount_lines([line("100.00")], {None: Decimal("50")}, big)
    assert sum(item.amount for item in off) == Decimal("-100.00")
    # An upgrade's net is what is discounted; a credit line is never discounted further.
    assert discount_lines([line("-40.00")], {None: Decimal("10")}, big) == []


def test_a_coupon_for_other_products_takes_nothing_off_these() -> None:
    coupon = Coupon(code="MAIL", percent=Decimal("50"), product_ids=["mailguard"])
    off = discount_lines([line("100.00"), line("10.00", "mailguard")], {}, coupon)
    assert [item.amount for item in off] == [Decimal("-5.00")]


def test_each_reason_a_coupon_does_not_apply_is_said_in_plain_words() -> None:
    today = date(2026, 3, 10)
    coupon = Coupon(code="SPRING", percent=Decimal("10"), valid_from=date(2026, 3, 1), valid_until=date(2026, 3, 31),
                    max_redemptions=5, redeemed=1, product_ids=["remotedesk"])
    assert coupon_refusal(coupon, "spring", today, False, ["remotedesk"]) is None
    assert coupon_refusal(None, "nope", today, False, []) == "There is no coupon NOPE; check the code."
    assert "not valid yet" in coupon_refusal(coupon, "SPRING", date(2026, 2, 1), False, ["remotedesk"])
    assert "has expired" in coupon_refusal(coupon, "SPRING", date(2026, 4, 1), False, ["remotedesk"])
    used_up = coupon.model_copy(update={"redeemed": 5})
    assert "is used up" in coupon_refusal(used_up, "SPRING", today, False, ["remotedesk"])
    assert "used coupon SPRING already" in coupon_refusal(coupon, "SPRING", today, True, ["remotedesk"])
    assert "not for this product" in coupon_refusal(coupon, "SPRING", today, False, ["mailguard"])


# -- through the portal -----------------------------------------------------------------------

async def a_key(harness: PortalHarness, org: str = "Acme") -> str:
    async with harness.as_org(org) as tx:
        return (await keys.create(tx, NewActivationKey(name="test"))).key


def permanent(key: str, **purchase: object) -> LicenseOrder:
    return LicenseOrder(key=key, product_id="remotedesk", edition_id="standard", term=Term.PERMANENT,
                        quantity=10, **purchase)


async def give_discount(harness: PortalHarness, org: str, percent: str, product_id: str | None = None) -> None:
    async with harness.as_org(org) as tx:
        await discounts.set_reseller(tx, product_id, Decimal(percent))


async def make_coupon(harness: PortalHarness, code: str, **terms: object) -> Coupon:
    terms.setdefault("percent", None)
    terms.setdefault("amount", None)
    async with harness.portal.store.write() as conn:
        return await discounts.create_coupon(conn, harness.portal.catalog, harness.clock.now, code, **terms)  # type: ignore[arg-type]


async def test_a_reseller_discount_is_its_own_line_on_the_quote_the_order_and_the_invoice(
    harness: PortalHarness,
) -> None:
    await give_discount(harness, "Acme", "10")
    owner = await harness.login("acme-owner")
    key = await a_key(harness)
    quote = await owner.quote_license(permanent(key))
    assert [(item.unit_price, item.amount) for item in quote.lines] == [
        (Decimal("49.00"), PRICE), (Decimal("-49.00"), Decimal("-49.00"))]
    assert quote.lines[1].description == "Reseller discount 10%"
    assert (quote.cost, quote.balance_after) == (Decimal("441.00"), Decimal("559.00"))
    license = await owner.create_license(permanent(key))
    [order] = (await owner.orders()).items
    assert order.total == Decimal("441.00")
    assert [(item.description.startswith("Reseller"), item.amount, item.object_id) for item in order.lines] == [
        (False, PRICE, license.id), (True, Decimal("-49.00"), license.id)]
    invoice = await owner.invoice(order.invoice_number or "")
    assert [item.amount for item in invoice.lines] == [PRICE, Decimal("-49.00")]
    assert invoice.total == Decimal("441.00")
    assert (await owner.balance()).balance == Decimal("559.00")
    async with harness.portal.store.read() as conn:
        assert await credits.ledger_sum(conn, harness.world.org_ids["Acme"]) == Decimal("559.00")
    # Other organizations pay the catalog price.
    globex = await harness.login("globex-owner")
    assert (await globex.quote_license(permanent(await a_key(harness, "Globex")))).cost == PRICE


async def test_the_discount_reaches_subscriptions_too(harness: PortalHarness) -> None:
    await give_discount(harness, "Acme", "25", "connect")
    owner = await harness.login("acme-owner")
    key = await a_key(harness)
    order = SubscriptionOrder(key=key, product_id="connect", channels=2)
    quote = await owner.quote_subscription(order)
    assert quote.lines[-1].description == "Reseller discount 25% on connect"
    assert quote.cost == quote.lines[0].amount * Decimal("0.75")
    # A product discount leaves the others at the catalog price.
    assert (await owner.quote_license(permanent(key))).cost == PRICE


async def test_a_coupon_takes_its_amount_off_after_the_reseller_discount(harness: PortalHarness) -> None:
    await give_discount(harness, "Acme", "10")
    await make_coupon(harness, "SPRING", amount=Decimal("41.00"))
    owner = await harness.login("acme-owner")
    key = await a_key(harness)
    quote = await owner.quote_license(permanent(key, coupon="spring"))
    assert quote.coupon_refusal is None
    assert [item.amount for item in quote.lines] == [PRICE, Decimal("-49.00"), Decimal("-41.00")]
    assert quote.cost == Decimal("400.00")
    await owner.create_license(permanent(key, coupon="spring"))
    [order] = (await owner.orders()).items
    assert order.total == Decimal("400.00")
    assert order.lines[-1].description == "Coupon SPRING: 41.00 credits off"
    assert (await owner.balance()).balance == Decimal("600.00")


async def test_a_quote_says_why_a_coupon_does_not_apply_and_the_order_is_refused_for_it(
    harness: PortalHarness,
) -> None:
    today = harness.clock.now.date()
    await make_coupon(harness, "LATER", percent=Decimal("10"), valid_from=today + timedelta(days=3))
    await make_coupon(harness, "GONE", percent=Decimal("10"), valid_until=today - timedelta(days=1))
    await make_coupon(harness, "MAILONLY", percent=Decimal("10"), product_ids=["mailguard"])
    owner = await harness.login("acme-owner")
    key = await a_key(harness)
    for code, words in (("NOSUCH", "There is no coupon NOSUCH"), ("LATER", "is not valid yet"),
                        ("GONE", "has expired"), ("MAILONLY", "is not for this product")):
        quote = await owner.quote_license(permanent(key, coupon=code))
        assert quote.coupon_refusal is not None and words in quote.coupon_refusal
        assert quote.cost == PRICE  # the quote without the coupon
    with pytest.raises(ValidationFailed, match="has expired.*Nothing was ordered"):
        await owner.create_license(permanent(key, coupon="GONE"))
    assert (await owner.orders()).items == []
    assert (await owner.balance()).balance == Decimal("1000.00")


async def test_a_coupon_is_used_once_per_organization_and_a_retry_redeems_it_once(harness: PortalHarness) -> None:
    await make_coupon(harness, "ONCE", percent=Decimal("50"), max_redemptions=5)
    owner = await harness.login("acme-owner")
    retry = str(uuid.uuid4())
    order = permanent(await a_key(harness), coupon="ONCE")
    first = await owner.create_license(order, idempotency_key=retry)
    again = await owner.create_license(order, idempotency_key=retry)
    assert first == again
    assert (await owner.balance()).balance == Decimal("755.00")
    second = permanent(await a_key(harness), coupon="ONCE")
    assert "used coupon ONCE already" in ((await owner.quote_license(second)).coupon_refusal or "")
    with pytest.raises(ValidationFailed, match="used coupon ONCE already"):
        await owner.create_license(second)
    async with harness.portal.store.read() as conn:
        assert await conn.scalar(select(coupons.c.redeemed).where(coupons.c.code == "ONCE")) == 1
    globex = await harness.login("globex-owner")
    await globex.create_license(permanent(await a_key(harness, "Globex"), coupon="ONCE"))
    async with harness.portal.store.read() as conn:
        assert await conn.scalar(select(coupons.c.redeemed).where(coupons.c.code == "ONCE")) == 2


async def test_the_operator_checks_a_coupon_and_a_discount_before_keeping_them(harness: PortalHarness) -> None:
    with pytest.raises(ValidationFailed, match="a percentage or an amount"):
        await make_coupon(harness, "BOTH", percent=Decimal("5"), amount=Decimal("5"))
    with pytest.raises(ValidationFailed, match="letters, digits"):
        await make_coupon(harness, "no spaces", percent=Decimal("5"))
    await make_coupon(harness, "TWICE", percent=Decimal("5"))
    with pytest.raises(Conflict, match="already"):
        await make_coupon(harness, "twice", percent=Decimal("5"))
    with pytest.raises(ValidationFailed, match="at most 100"):
        await give_discount(harness, "Acme", "120")
    async with harness.portal.store.read() as conn:
        assert [coupon.code for coupon in await discounts.list_coupons(conn)] == ["TWICE"]


# -- many organizations at once ---------------------------------------------------------------

BUYERS = 50
USES = 10


@asynccontextmanager
async def stores(harness: PortalHarness, instances: int) -> AsyncIterator[list[Store]]:
    if instances == 1:
        yield [harness.portal.store]
        return
    app = create_app(settings_for(harness.portal.settings.database_url, harness.clock))
    async with app.router.lifespan_context(app):
        yield [harness.portal.store, app.state.portal.store]


@pytest.mark.parametrize("instances", [1, 2], ids=["one-portal", "two-portals"])
async def test_fifty_orders_with_a_coupon_of_ten_uses_redeem_exactly_ten(harness: PortalHarness, instances: int) -> None:
    await make_coupon(harness, "TEN", percent=Decimal("10"), max_redemptions=USES)
    buyers: list[tuple[int, str, str]] = []
    async with harness.portal.store.write() as conn:
        for number in range(BUYERS):
            name = f"Buyer {number}"
            actor = await accounts.create_organization(
                harness.portal, conn, NewOrganization(organization_name=name, owner_login=f"buyer-{number}",
                                                      password=PASSWORD), PRICE)
            tx = Tx(conn=conn, actor=actor, catalog=harness.portal.catalog, now=harness.clock.now)
            buyers.append((actor.org_id, name, (await keys.create(tx, NewActivationKey(name="race"))).key))

    async def buy(store: Store, org_id: int, name: str, key: str) -> object:
        async with store.write() as conn:
            actor = accounts.system_actor(org_id, name, OrgKind.RESELLER)
            tx = Tx(conn=conn, actor=actor, catalog=harness.portal.catalog, now=harness.clock.now)
            return await licenses.create(tx, permanent(key, coupon="TEN"))

    async with stores(harness, instances) as portals:
        results = await asyncio.gather(*(buy(portals[index % len(portals)], *buyer)
                                         for index, buyer in enumerate(buyers)), return_exceptions=True)
    bought = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, ValidationFailed | Conflict)]
    assert (len(bought), len(refused)) == (USES, BUYERS - USES), [r for r in results if isinstance(r, BaseException)][:3]
    assert all("used up" in str(error) for error in refused)
    async with harness.portal.store.read() as conn:
        assert await conn.scalar(select(coupons.c.redeemed).where(coupons.c.code == "TEN")) == USES
        assert await conn.scalar(select(func.count()).select_from(coupon_redemptions)) == USES
        paid = [await credits.balance_of(conn, org_id) for org_id, _, _ in buyers]
    # Who got the coupon paid 441 (49 left); who was refused paid nothing.
    assert sorted(paid) == [Decimal("49.00")] * USES + [PRICE] * (BUYERS - USES)


async def test_a_discounted_support_extension_records_what_each_license_paid(harness: PortalHarness) -> None:
    from seattui.domain.licensing import SupportExtension
    from seattui.portal.services import support

    await give_discount(harness, "Acme", "50")
    bought = []
    for _ in range(2):
        async with harness.as_org("Acme") as tx:
            key = (await keys.create(tx, NewActivationKey(name="support"))).key
            bought.append(await licenses.create(tx, permanent(key)))
    async with harness.as_org("Acme") as tx:
        result = await support.extend(tx, SupportExtension(license_ids=[item.id for item in bought], years=1))
    async with harness.as_org("Acme") as tx:
        paid = [(await licenses.get(tx, item.id)).paid - item.paid for item in bought]
    # Each license's paid grows by its share of the discounted order: a refund gives back no more.
    assert sum(paid) == result.amount and all(amount >= 0 for amount in paid)
    async with harness.portal.store.read() as conn:
        assert await credits.ledger_sum(conn, harness.world.org_ids["Acme"]) == (
            Decimal("1000.00") - sum(item.paid for item in bought) - result.amount)


# -- coupons for the first months of a subscription, and once per customer ---------------------------

async def test_a_coupon_for_three_months_comes_off_the_first_renewals_once_each_then_full_price(
        harness: PortalHarness) -> None:
    from seattui.domain.billing import OrderKind
    from seattui.domain.dates import add_months
    from seattui.portal.billing_run import run_billing

    await give_discount(harness, "Acme", "10")
    await make_coupon(harness, "QUARTER", percent=Decimal("50"), months=3)
    owner = await harness.login("acme-owner")
    subscription = await owner.create_subscription(
        SubscriptionOrder(key=await a_key(harness), product_id="connect", channels=2, coupon="quarter"))
    [order] = (await owner.orders()).items
    # 39.80, less 10% (3.98), less 50% of the 35.82 left (17.91): the first month.
    assert order.total == Decimal("17.91")
    assert order.lines[-1].description == "Coupon QUARTER: 50% off, for 3 months"
    today = harness.clock.now.date()
    for _ in range(2):  # a second run bills nothing twice
        await run_billing(harness.portal.store, add_months(today, 3), harness.clock, catalog=harness.portal.catalog)
    renewals = sorted((item for item in (await owner.orders(limit=50)).items if item.kind is OrderKind.RENEWAL),
                      key=lambda item: item.lines[0].service_start or today)
    assert [item.lines[0].service_start for item in renewals] == [add_months(today, n) for n in (1, 2, 3)]
    coupon_line = f"Coupon QUARTER: 50% off, for 3 months from {today.isoformat()}"
    # Months two and three (within three months of the redemption) get it, as a line of its own
    # on the subscription; the fourth pays full price less the reseller discount.
    assert [[(item.description, item.amount) for item in renewal.lines[1:]] for renewal in renewals] == [
        [("Reseller discount 10%", Decimal("-3.98")), (coupon_line, Decimal("-17.91"))],
        [("Reseller discount 10%", Decimal("-3.98")), (coupon_line, Decimal("-17.91"))],
        [("Reseller discount 10%", Decimal("-3.98"))]]
    assert [renewal.total for renewal in renewals] == [Decimal("17.91"), Decimal("17.91"), Decimal("35.82")]
    assert all(item.object_type == "subscription" and item.object_id == subscription.id
               for renewal in renewals for item in renewal.lines)
    paid = Decimal("17.91") * 3 + Decimal("35.82")
    assert (await owner.balance()).balance == Decimal("1000.00") - paid
    async with harness.portal.store.read() as conn:
        assert await credits.ledger_sum(conn, harness.world.org_ids["Acme"]) == Decimal("1000.00") - paid
        assert await conn.scalar(select(coupons.c.redeemed).where(coupons.c.code == "QUARTER")) == 1


async def test_a_once_coupon_takes_nothing_off_renewals(harness: PortalHarness) -> None:
    from seattui.domain.billing import OrderKind
    from seattui.domain.dates import add_months
    from seattui.portal.billing_run import run_billing

    await make_coupon(harness, "FIRST", percent=Decimal("50"))
    owner = await harness.login("acme-owner")
    await owner.create_subscription(
        SubscriptionOrder(key=await a_key(harness), product_id="connect", channels=2, coupon="FIRST"))
    await run_billing(harness.portal.store, add_months(harness.clock.now.date(), 1), harness.clock,
                      catalog=harness.portal.catalog)
    [renewal] = [item for item in (await owner.orders()).items if item.kind is OrderKind.RENEWAL]
    assert (renewal.total, len(renewal.lines)) == (Decimal("39.80"), 1)


async def test_a_coupon_once_per_customer_is_used_once_by_each_customer_and_a_retry_redeems_once(
        harness: PortalHarness) -> None:
    from seattui.domain.discounts import OncePer

    await make_coupon(harness, "EACH", percent=Decimal("50"), once_per=OncePer.CUSTOMER)
    owner = await harness.login("acme-owner")
    retry = str(uuid.uuid4())
    ada = permanent(await a_key(harness), coupon="EACH", customer_email="ada@contoso.example")
    first = await owner.create_license(ada, idempotency_key=retry)
    assert await owner.create_license(ada, idempotency_key=retry) == first  # the retry: one use
    await owner.create_license(permanent(await a_key(harness), coupon="EACH", customer_email="bob@contoso.example"))
    again = permanent(await a_key(harness), coupon="EACH", customer_email="ADA@contoso.example")
    refusal = (await owner.quote_license(again)).coupon_refusal or ""
    assert "This customer has used coupon EACH already; it can be used once per customer." in refusal
    with pytest.raises(ValidationFailed, match="This customer has used coupon EACH already"):
        await owner.create_license(again)
    # Orders for no customer count as the organization's, once.
    await owner.create_license(permanent(await a_key(harness), coupon="EACH"))
    with pytest.raises(ValidationFailed, match="used coupon EACH already"):
        await owner.create_license(permanent(await a_key(harness), coupon="EACH"))
    assert (await owner.balance()).balance == Decimal("1000.00") - 3 * Decimal("245.00")
    async with harness.portal.store.read() as conn:
        assert await conn.scalar(select(coupons.c.redeemed).where(coupons.c.code == "EACH")) == 3
        assert await conn.scalar(select(func.count()).select_from(coupon_redemptions)) == 3


async def test_a_coupon_is_made_for_one_to_thirty_six_months(harness: PortalHarness) -> None:
    with pytest.raises(ValidationFailed, match="1 to 36 months"):
        await make_coupon(harness, "LONG", percent=Decimal("5"), months=37)
    made = await make_coupon(harness, "YEAR", percent=Decimal("5"), months=12)
    assert (made.months, made.words()) == (12, "5% off, for 12 months")


async def test_an_annual_contract_bought_with_a_coupon_for_thirteen_months_gets_it_on_its_first_renewal_only(
        harness: PortalHarness) -> None:
    from seattui.domain.billing import OrderKind
    from seattui.domain.dates import add_months
    from seattui.portal.billing_run import run_billing

    await make_coupon(harness, "LOYAL", percent=Decimal("10"), months=13, product_ids=["workspace"])
    owner = await harness.login("acme-owner")
    plan = await owner.create_license(LicenseOrder(key=await a_key(harness), product_id="workspace",
                                                   term=Term.ANNUAL, quantity=2, seat_cap=4, coupon="LOYAL"))
    [order] = (await owner.orders()).items
    full = order.lines[0].amount
    today = harness.clock.now.date()
    await run_billing(harness.portal.store, add_months(today, 24), harness.clock, catalog=harness.portal.catalog)
    renewals = sorted((item for item in (await owner.orders(limit=50)).items if item.kind is OrderKind.RENEWAL),
                      key=lambda item: item.lines[0].service_start or today)
    assert [item.lines[0].service_start for item in renewals] == [add_months(today, 12), add_months(today, 24)]
    off = (full * Decimal("0.10")).quantize(Decimal("0.01"))
    assert [(item.total, [line.description for line in item.lines[1:]]) for item in renewals] == [
        (full - off, [f"Coupon LOYAL: 10% off workspace, for 13 months from {today.isoformat()}"]),
        (full, [])]
    assert all(line.object_id == plan.id for item in renewals for line in item.lines)
