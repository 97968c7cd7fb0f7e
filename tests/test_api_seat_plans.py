"""Seat plans and renewing subscriptions through the client: a flexible plan's cap, seat-days
billed in arrears by the billing run, annual contracts that grow mid-term and renew as set,
seat trials, channel subscriptions that renew, are suspended and resume, and a billing run that
bills each period once however often (and from however many instances) it runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from seattui.client import PortalClient
from seattui.domain.billing import BillingTerms, OrderKind, PaymentMethod, PaymentTerms
from seattui.domain.catalog import SeatPlan
from seattui.domain.errors import Conflict, PermissionDenied, SeatsExhausted, ValidationFailed
from seattui.domain.licensing import LicenseOrder, LicenseStatus, NewActivationKey, Renewal, SubscriptionOrder, Term
from seattui.domain.seat_plans import (
    CapChange,
    PlanConversion,
    RenewalChange,
    SeatAddition,
    SubscriptionKind,
    SubscriptionStatus,
    seat_days,
)
from seattui.portal.billing_run import run_billing
from seattui.portal.context import Tx
from seattui.portal.seed import add_workforce
from seattui.portal.services import accounts, billing, keys
from seattui.portal.store import Store

from harness import PortalHarness


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


async def people(harness: PortalHarness, count: int, org: str = "Acme") -> list[int]:
    async with harness.as_org(org) as tx:
        return await add_workforce(tx, people=count, seats_bought=0, domain=f"{org.lower()}.example")


async def seat_plan(harness: PortalHarness, term: Term, quantity: int, org: str = "Acme", **extra: object) -> int:
    async with harness.as_org(org) as tx:
        key = (await keys.create(tx, NewActivationKey(name="seats"))).key
    owner = await harness.login(f"{org.lower()}-owner")
    return (await owner.create_license(LicenseOrder(key=key, product_id="workspace", term=term, quantity=quantity,
                                                    **extra))).id


async def bill(harness: PortalHarness, as_of: date, store: Store | None = None):  # type: ignore[no-untyped-def]
    return await run_billing(store or harness.portal.store, as_of, harness.clock, catalog=harness.portal.catalog)


async def seat_orders(client: PortalClient, license_id: int, kind: OrderKind = OrderKind.SEATS) -> list:  # type: ignore[type-arg]
    return [order for order in (await client.orders(limit=200)).items if order.kind is kind
            and any(line.object_id == license_id and line.object_type == "license" for line in order.lines)]


async def set_terms(harness: PortalHarness, org: str, terms: BillingTerms) -> None:
    async with harness.portal.store.write() as conn:
        actor = await accounts.organization_by_name(conn, org)
        await billing.set_terms(Tx(conn=conn, actor=actor, catalog=harness.portal.catalog, now=harness.clock.now), terms)


# -- seat-days -----------------------------------------------------------------------------------

def test_seat_days_count_nights_within_the_month() -> None:
    november = date(2026, 11, 1)
    assert seat_days([(date(2026, 11, 20), None)] * 10, november) == 100  # the source's example
    assert seat_days([(date(2026, 10, 3), None)], november) == 30  # held all month
    assert seat_days([(date(2026, 11, 5), date(2026, 11, 12))], november) == 7
    assert seat_days([(date(2026, 11, 5), date(2026, 11, 5))], november) == 0  # same day: free
    assert seat_days([(date(2026, 10, 30), date(2026, 11, 2))], november) == 2  # nights of the 1st and 2nd
    assert seat_days([(date(2026, 11, 28), date(2026, 12, 9))], november) == 2
    assert seat_days([(date(2026, 12, 1), None)], november) == 0


# -- flexible plans ---------------------------------------------------------------------------------

async def test_ten_users_added_on_the_20th_of_a_30_day_month_are_billed_ten_days_each(harness: PortalHarness) -> None:
    harness.clock.now = at(date(2026, 11, 20))
    ids = await people(harness, 10)
    license_id = await seat_plan(harness, Term.FLEXIBLE, 10)
    owner = await harness.login("acme-owner")
    assert await seat_orders(owner, license_id, OrderKind.PURCHASE) == []  # nothing charged at purchase
    before = await owner.balance()
    operator = await harness.login("acme-op")
    await operator.assign_seats(ids, "workspace")
    assert (await owner.balance()).balance == before.balance  # nor at assignment
    harness.clock.now = at(date(2026, 12, 1))
    report = await bill(harness, date(2026, 12, 1))
    assert report.seat_months == 1
    (order,) = await seat_orders(owner, license_id)
    (line,) = order.lines
    # 8.00 a seat a month × 100 seat-days ÷ 30 days, rounded once.
    assert (line.quantity, line.amount, order.paid_with) == (100, Decimal("26.67"), PaymentMethod.CREDITS)
    assert (line.service_start, line.service_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert "100 seat-days" in line.description
    assert (await owner.balance()).balance == before.balance - Decimal("26.67")


async def test_a_seat_assigned_and_taken_back_within_the_month_is_billed_its_days(harness: PortalHarness) -> None:
    harness.clock.now = at(date(2026, 11, 5))
    ids = await people(harness, 3)
    license_id = await seat_plan(harness, Term.FLEXIBLE, 5)
    operator = await harness.login("acme-op")
    await operator.assign_seats(ids[:2], "workspace")
    await operator.unassign_seats([ids[1]], "workspace")  # the same day: nothing
    harness.clock.now = at(date(2026, 11, 12))
    await operator.unassign_seats([ids[0]], "workspace")  # 7 nights
    harness.clock.now = at(date(2026, 12, 2))
    await bill(harness, date(2026, 12, 2))
    owner = await harness.login("acme-owner")
    (order,) = await seat_orders(owner, license_id)
    assert (order.lines[0].quantity, order.total) == (7, Decimal("1.87"))  # 8.00 × 7 ÷ 30 = 1.8666…


async def test_the_cap_limits_assignment_and_moves_within_its_bounds(harness: PortalHarness) -> None:
    ids = await people(harness, 6)
    license_id = await seat_plan(harness, Term.FLEXIBLE, 4)
    operator = await harness.login("acme-op")
    await operator.assign_seats(ids[:4], "workspace")
    with pytest.raises(SeatsExhausted) as refused:
        await operator.assign_seats([ids[4]], "workspace")
    assert "cap 4" in str(refused.value) and f"seattui subscription cap {license_id} N" in str(refused.value)
    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed, match="4 seats are assigned now; the cap cannot go below"):
        await owner.change_seat_plan(license_id, CapChange(cap=3))
    with pytest.raises(ValidationFailed, match="at most 500 seats"):
        await owner.change_seat_plan(license_id, CapChange(cap=501))
    quote = await owner.quote_seat_plan(license_id, CapChange(cap=6))
    assert quote.cost == 0 and "nothing now" in quote.lines[0].description and quote.payment is not None
    assert (await owner.change_seat_plan(license_id, CapChange(cap=6))).quantity == 6
    await operator.assign_seats(ids[4:6], "workspace")
    await operator.unassign_seats(ids[:2], "workspace")
    assert (await owner.change_seat_plan(license_id, CapChange(cap=4))).quantity == 4  # lowered to what is assigned
    with pytest.raises(PermissionDenied):
        await operator.change_seat_plan(license_id, CapChange(cap=5))  # operators assign, never buy


async def test_thirty_concurrent_assignments_against_a_cap_of_ten_give_exactly_ten(harness: PortalHarness) -> None:
    ids = await people(harness, 30)
    await seat_plan(harness, Term.FLEXIBLE, 10)
    clients = [await harness.login("acme-op") for _ in range(3)]
    results = await asyncio.gather(*(clients[index % 3].assign_seats([employee], "workspace")
                                     for index, employee in enumerate(ids)), return_exceptions=True)
    assert sum(1 for result in results if not isinstance(result, BaseException)) == 10
    assert all(isinstance(result, SeatsExhausted) for result in results if isinstance(result, BaseException))
    (pool,) = await clients[0].seat_pools()
    assert (pool.bought, pool.assigned) == (10, 10)


async def test_a_flexible_month_is_billed_once_however_often_and_from_however_many_instances(
    harness: PortalHarness,
) -> None:
    harness.clock.now = at(date(2026, 10, 11))
    ids = await people(harness, 4)
    license_id = await seat_plan(harness, Term.FLEXIBLE, 4)
    await (await harness.login("acme-op")).assign_seats(ids, "workspace")
    other = Store(harness.portal.settings.database_url)
    try:
        runs = await asyncio.gather(bill(harness, date(2026, 11, 1)), bill(harness, date(2026, 11, 1), other))
    finally:
        await other.dispose()
    again = await bill(harness, date(2026, 11, 2))
    assert sorted(run.seat_months for run in runs) == [0, 1] and again.seat_months == 0
    owner = await harness.login("acme-owner")
    (order,) = await seat_orders(owner, license_id)
    assert (order.lines[0].quantity, order.total) == (4 * 20, Decimal("20.65"))  # 8 × 80 ÷ 31
    # November is a month of its own, billed at its end.
    assert (await bill(harness, date(2026, 12, 1))).seat_months == 1
    totals = sorted(order.total for order in await seat_orders(owner, license_id))
    assert totals == [Decimal("20.65"), Decimal("32.00")]


async def test_on_monthly_terms_the_seat_days_go_on_that_month_invoice(harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", BillingTerms(terms=PaymentTerms.MONTHLY, credit_limit=Decimal("5000.00")))
    harness.clock.now = at(date(2026, 11, 20))
    ids = await people(harness, 10)
    license_id = await seat_plan(harness, Term.FLEXIBLE, 10)
    await (await harness.login("acme-op")).assign_seats(ids, "workspace")
    harness.clock.now = at(date(2026, 12, 1))
    report = await bill(harness, date(2026, 12, 1))
    owner = await harness.login("acme-owner")
    (order,) = await seat_orders(owner, license_id)
    assert order.paid_with is PaymentMethod.INVOICE and order.invoice_number in report.finalized
    invoice = await owner.invoice(order.invoice_number)
    assert (invoice.period_start, invoice.total) == (date(2026, 11, 1), Decimal("26.67"))


# -- annual contracts --------------------------------------------------------------------------------

async def test_annual_seats_added_mid_term_cost_the_days_left_and_are_never_refunded(harness: PortalHarness) -> None:
    license_id = await seat_plan(harness, Term.ANNUAL, 10, seat_cap=20)  # 2026-03-02 to 2027-03-02
    harness.clock.now = at(date(2026, 9, 2))
    owner = await harness.login("acme-owner")
    before = (await owner.balance()).balance
    quote = await owner.quote_seat_plan(license_id, SeatAddition(seats=5))
    # 80.00 a seat a year × 5 × 181 days left ÷ 365 days of the term = 198.356…
    assert quote.cost == Decimal("198.36") and "not refundable" in quote.lines[0].description
    assert quote.payment is not None and quote.payment.summary.startswith("Paid now from credits")
    after = await owner.change_seat_plan(license_id, SeatAddition(seats=5))
    assert after.quantity == 15 and (await owner.balance()).balance == before - Decimal("198.36")
    (order,) = await seat_orders(owner, license_id)
    assert order.lines[0].service_end == date(2027, 3, 2)
    with pytest.raises(ValidationFailed, match="maximum of 20: add at most 5"):
        await owner.change_seat_plan(license_id, SeatAddition(seats=6))
    deletion = await owner.quote_deletion([license_id])
    assert deletion.cost == 0 and "not refundable" in deletion.lines[0].description
    with pytest.raises(ValidationFailed, match="for flexible plans"):
        await owner.change_seat_plan(license_id, CapChange(cap=12))


@pytest.mark.parametrize(("renewal", "seats_after", "renewed"), [
    (Renewal.SAME, 10, True), (Renewal.ASSIGNED, 3, True), (Renewal.END, 10, False)])
async def test_each_renewal_setting_is_applied_on_the_renewal_date_once(
    harness: PortalHarness, renewal: Renewal, seats_after: int, renewed: bool,
) -> None:
    ids = await people(harness, 3)
    license_id = await seat_plan(harness, Term.ANNUAL, 10)
    owner = await harness.login("acme-owner")
    await (await harness.login("acme-op")).assign_seats(ids, "workspace")
    quote = await owner.quote_seat_plan(license_id, RenewalChange(renewal=renewal))
    assert quote.cost == 0 and "2027-03-02" in quote.lines[0].description
    await owner.change_seat_plan(license_id, RenewalChange(renewal=renewal))
    async with harness.as_org("Acme") as tx:
        await accounts.opening_grant(tx, Decimal("1000.00"), "for the renewal")
    before = (await owner.balance()).balance
    harness.clock.now = at(date(2027, 3, 2))
    first = await bill(harness, date(2027, 3, 2))
    second = await bill(harness, date(2027, 3, 3))
    owner = await harness.login("acme-owner")
    assert (first.renewed, second.renewed) == (int(renewed), 0)
    license = await owner.license(license_id)
    assert license.quantity == seats_after
    renewals = await seat_orders(owner, license_id, OrderKind.RENEWAL)
    if renewed:
        assert license.term_ends_on == date(2028, 3, 2) and license.status is not LicenseStatus.TERM_ENDED
        (order,) = renewals
        assert order.total == Decimal("80.00") * seats_after
        assert (await owner.balance()).balance == before - order.total
    else:
        harness.clock.now = at(date(2027, 3, 3))
        assert renewals == [] and (await owner.license(license_id)).status is LicenseStatus.TERM_ENDED


async def test_on_the_renewal_date_the_scheduled_renewal_wins_over_a_seat_change(harness: PortalHarness) -> None:
    ids = await people(harness, 2)
    license_id = await seat_plan(harness, Term.ANNUAL, 10)
    owner = await harness.login("acme-owner")
    await (await harness.login("acme-op")).assign_seats(ids, "workspace")
    harness.clock.now = at(date(2027, 3, 2))
    owner = await harness.login("acme-owner")
    with pytest.raises(Conflict, match="applied by the billing run first"):
        await owner.change_seat_plan(license_id, SeatAddition(seats=2))
    # The setting may still change until the run applies it, and the run applies the latest.
    await owner.change_seat_plan(license_id, RenewalChange(renewal=Renewal.ASSIGNED))
    await bill(harness, date(2027, 3, 2))
    assert (await owner.license(license_id)).quantity == 2
    async with harness.as_org("Acme") as tx:
        await accounts.opening_grant(tx, Decimal("100.00"), "for the new term's seat")
    added = await owner.change_seat_plan(license_id, SeatAddition(seats=1))  # the new term takes seats again
    assert added.quantity == 3


# -- seat trials ---------------------------------------------------------------------------------

async def test_a_seat_trial_has_at_most_ten_seats_and_converts_keeping_its_seats(harness: PortalHarness) -> None:
    with pytest.raises(ValidationFailed, match="at most 10 seats"):
        await seat_plan(harness, Term.TRIAL, 11, trial_days=30)
    ids = await people(harness, 4)
    license_id = await seat_plan(harness, Term.TRIAL, 3, trial_days=14)
    operator = await harness.login("acme-op")
    await operator.assign_seats(ids[:3], "workspace")
    with pytest.raises(SeatsExhausted):
        await operator.assign_seats([ids[3]], "workspace")
    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed, match="at least 3"):
        await owner.change_seat_plan(license_id, PlanConversion(plan=SeatPlan.FLEXIBLE, seats=2))
    converted = await owner.change_seat_plan(license_id, PlanConversion(plan=SeatPlan.ANNUAL, seats=5))
    assert (converted.term, converted.quantity, converted.term_ends_on) == (Term.ANNUAL, 5, date(2027, 3, 2))
    assert (await seat_orders(owner, license_id, OrderKind.PURCHASE))[0].total == Decimal("400.00")
    (pool,) = await operator.seat_pools()
    assert (pool.assigned, pool.bought) == (3, 5)


# -- channel subscriptions --------------------------------------------------------------------------

async def channel_subscription(harness: PortalHarness, channels: int, org: str = "Globex") -> tuple[PortalClient, int]:
    async with harness.as_org(org) as tx:
        key = (await keys.create(tx, NewActivationKey(name="channels"))).key
    owner = await harness.login(f"{org.lower()}-owner")
    subscription = await owner.create_subscription(SubscriptionOrder(key=key, product_id="connect", channels=channels))
    return owner, subscription.id


async def test_a_subscription_renews_monthly_once_and_is_listed(harness: PortalHarness) -> None:
    owner, subscription_id = await channel_subscription(harness, 5)  # 99.50 a month, to 2026-04-02
    before = (await owner.balance()).balance
    harness.clock.now = at(date(2026, 4, 2))
    assert (await bill(harness, date(2026, 4, 2))).renewed == 1
    assert (await bill(harness, date(2026, 4, 3))).renewed == 0
    owner = await harness.login("globex-owner")  # the session of a month ago has expired
    renewed = await owner.subscription(subscription_id)
    assert (renewed.period_ends_on, renewed.status) == (date(2026, 5, 2), "active")
    assert (await owner.balance()).balance == before - Decimal("99.50")
    (listed,) = [row for row in await owner.subscriptions() if row.kind is SubscriptionKind.CHANNELS]
    assert (listed.id, listed.size, listed.next_renewal, listed.monthly_cost) == (
        subscription_id, 5, date(2026, 5, 2), Decimal("99.50"))


async def test_a_prepaid_subscription_short_of_credits_is_suspended_after_the_grace_days_and_resumes_when_paid(
    harness: PortalHarness,
) -> None:
    owner, subscription_id = await channel_subscription(harness, 20)  # 398.00 of Globex's 500.00
    harness.clock.now = at(date(2026, 4, 2))
    await bill(harness, date(2026, 4, 2))
    owner = await harness.login("globex-owner")
    unpaid = await owner.subscription(subscription_id)
    assert (unpaid.status, unpaid.unpaid_since) == ("active", date(2026, 4, 2))  # the grace days run
    harness.clock.now = at(date(2026, 4, 8))
    assert (await bill(harness, date(2026, 4, 8))).suspended == 0
    harness.clock.now = at(date(2026, 4, 9))
    assert (await bill(harness, date(2026, 4, 9))).suspended == 1
    assert (await owner.subscription(subscription_id)).status == SubscriptionStatus.SUSPENDED.value
    with pytest.raises(Conflict, match="suspended"):
        await owner.change_channels(subscription_id, 21)
    async with harness.as_org("Globex") as tx:
        await accounts.opening_grant(tx, Decimal("500.00"), "paid")
    harness.clock.now = at(date(2026, 4, 12))
    assert (await bill(harness, date(2026, 4, 12))).renewed == 1
    resumed = await owner.subscription(subscription_id)
    assert (resumed.status, resumed.period_ends_on, resumed.unpaid_since) == ("active", date(2026, 5, 12), None)
    renewals = [order for order in (await owner.orders()).items if order.kind is OrderKind.RENEWAL]
    assert [order.total for order in renewals] == [Decimal("398.00")]


async def test_cancel_at_the_end_of_the_month_or_at_once_refunds_nothing(harness: PortalHarness) -> None:
    owner, later = await channel_subscription(harness, 2)
    _, now = await channel_subscription(harness, 1)
    quote = await owner.quote_cancel(later)
    assert quote.cost == 0 and "not refunded" in quote.lines[0].description
    before = (await owner.balance()).balance
    assert (await owner.cancel_subscription(later)).status == SubscriptionStatus.ENDING.value
    assert (await owner.cancel_subscription(now, at_once=True)).status == SubscriptionStatus.ENDED.value
    assert (await owner.balance()).balance == before
    harness.clock.now = at(date(2026, 4, 2))
    report = await bill(harness, date(2026, 4, 2))
    assert (report.renewed, report.ended) == (0, 1)
    owner = await harness.login("globex-owner")
    ended = await owner.subscription(later)
    assert (ended.status, ended.ended_on) == ("ended", date(2026, 4, 2))
    with pytest.raises(Conflict, match="ended"):
        await owner.cancel_subscription(later)


async def test_the_subscriptions_list_shows_every_seat_plan_with_assigned_and_cap(harness: PortalHarness) -> None:
    ids = await people(harness, 3)
    flexible = await seat_plan(harness, Term.FLEXIBLE, 8)
    annual = await seat_plan(harness, Term.ANNUAL, 12, seat_cap=40)
    await (await harness.login("acme-op")).assign_seats(ids, "workspace")
    viewer = await harness.login("acme-viewer")
    rows = {row.id: row for row in await viewer.subscriptions() if row.kind is SubscriptionKind.SEATS}
    assert (rows[flexible].plan, rows[flexible].size) == ("flexible", 8)
    assert (rows[annual].plan, rows[annual].size, rows[annual].contract_max, rows[annual].renewal) == (
        "annual", 12, 40, Renewal.SAME)
    assert rows[annual].next_renewal == date(2027, 3, 2)
    assert sum(row.assigned or 0 for row in rows.values()) == 3


async def test_the_grace_days_are_the_organization_setting(harness: PortalHarness) -> None:
    await set_terms(harness, "Globex", BillingTerms(grace_days=2))
    _, subscription_id = await channel_subscription(harness, 20)
    harness.clock.now = at(date(2026, 4, 3))
    assert (await bill(harness, date(2026, 4, 3))).suspended == 0
    harness.clock.now = at(date(2026, 4, 4))
    assert (await bill(harness, date(2026, 4, 4))).suspended == 1
    owner = await harness.login("globex-owner")
    (listed,) = await owner.subscriptions()
    assert (listed.status, listed.grace_ends_on) == ("suspended", date(2026, 4, 4))


async def test_the_dashboard_counts_what_renews_within_a_week_and_what_is_suspended(harness: PortalHarness) -> None:
    await set_terms(harness, "Globex", BillingTerms(grace_days=2))
    owner, _subscription = await channel_subscription(harness, 20)  # paid to 2026-04-02
    figures = await owner.dashboard()
    assert (figures.renewing, figures.suspended) == (0, 0)  # a month away
    harness.clock.now = at(date(2026, 3, 27))
    owner = await harness.login("globex-owner")
    figures = await owner.dashboard()
    assert (figures.renewing, figures.suspended) == (1, 0)
    harness.clock.now = at(date(2026, 4, 4))
    assert (await bill(harness, date(2026, 4, 4))).suspended == 1  # too few credits, the grace days over
    owner = await harness.login("globex-owner")
    figures = await owner.dashboard()
    assert (figures.renewing, figures.suspended) == (0, 1)


async def test_an_annual_contract_set_to_end_is_not_counted_as_renewing(harness: PortalHarness) -> None:
    renewing = await seat_plan(harness, Term.ANNUAL, 5)
    ending = await seat_plan(harness, Term.ANNUAL, 5)
    owner = await harness.login("acme-owner")
    await owner.change_seat_plan(ending, RenewalChange(renewal=Renewal.END))
    harness.clock.now = at(date(2027, 2, 25))  # both terms end on 2027-03-02
    owner = await harness.login("acme-owner")
    assert (await owner.dashboard()).renewing == 1
    assert renewing != ending
