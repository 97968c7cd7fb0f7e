"""Quoting and buying licenses and subscriptions through the client: the price, the debit
in the same transaction, idempotent retries, and roles."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from seattui.domain.credits import LedgerReason
from seattui.domain.errors import (
    IdempotencyKeyReused,
    InsufficientCredits,
    NotFound,
    PermissionDenied,
    TrialExists,
    ValidationFailed,
)
from seattui.domain.licensing import KeyHolds, LicenseOrder, NewActivationKey, SubscriptionOrder, Term
from seattui.portal.services import keys

from harness import PortalHarness


async def a_key(harness: PortalHarness, org: str = "Acme") -> str:
    async with harness.as_org(org) as tx:
        return (await keys.create(tx, NewActivationKey(name="test"))).key


def permanent(key: str, quantity: int = 10, edition: str = "standard") -> LicenseOrder:
    return LicenseOrder(key=key, product_id="remotedesk", edition_id=edition, term=Term.PERMANENT, quantity=quantity)


async def test_a_quote_changes_nothing_and_the_purchase_debits_exactly_it(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    quote = await owner.quote_license(permanent(key))
    assert (quote.cost, quote.balance, quote.balance_after, quote.affordable) == (
        Decimal("490.00"), Decimal("1000.00"), Decimal("510.00"), True)
    assert (await owner.balance()).balance == Decimal("1000.00")
    license = await owner.create_license(permanent(key))
    assert (license.key, license.paid, license.support_ends_on) == (key, Decimal("490.00"), harness.clock.now.date().replace(year=2027))
    assert (await owner.balance()).balance == Decimal("510.00")
    entry = (await owner.ledger(limit=1)).items[0]
    assert (entry.amount, entry.object_type, entry.object_id) == (Decimal("-490.00"), "license", license.id)


async def test_a_short_balance_is_refused_with_the_shortfall_and_charges_nothing(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    order = permanent(key, quantity=10, edition="enterprise")
    quote = await owner.quote_license(order)
    assert not quote.affordable and quote.shortfall == Decimal("490.00")
    with pytest.raises(InsufficientCredits, match="490.00 short") as refused:
        await owner.create_license(order)
    assert refused.value.details["shortfall"] == "490.00"
    assert (await owner.balance()).balance == Decimal("1000.00")


async def test_a_retried_purchase_is_charged_once(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    retry_key = str(uuid.uuid4())
    first = await owner.create_license(permanent(key, 2), idempotency_key=retry_key)
    again = await owner.create_license(permanent(key, 2), idempotency_key=retry_key)
    assert again.id == first.id
    assert (await owner.balance()).balance == Decimal("902.00")


async def test_a_subscription_costs_the_channel_price_times_channels_for_a_month(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    order = SubscriptionOrder(key=key, product_id="connect", channels=3)
    assert (await owner.quote_subscription(order)).cost == Decimal("59.70")
    subscription = await owner.create_subscription(order)
    assert subscription.channels == 3 and subscription.paid == Decimal("59.70")
    assert (await owner.balance()).balance == Decimal("940.30")


async def test_operators_start_trials_but_do_not_buy(harness: PortalHarness) -> None:
    key = await a_key(harness)
    operator = await harness.login("acme-op")
    trial = LicenseOrder(key=key, product_id="remotedesk", edition_id="enterprise", term=Term.TRIAL,
                         trial_days=14, quantity=5)
    assert (await operator.create_license(trial)).trial_ends_on is not None
    with pytest.raises(PermissionDenied):
        await operator.create_license(permanent(key))


async def test_another_organizations_key_is_not_found(harness: PortalHarness) -> None:
    globex_key = await a_key(harness, "Globex")
    owner = await harness.login("acme-owner")
    with pytest.raises(NotFound):
        await owner.quote_license(permanent(globex_key))
    with pytest.raises(NotFound):
        await owner.license(999_999)


async def test_a_bad_order_names_its_fields(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed) as refused:
        await owner.request("POST", "/api/v1/licenses/quote", body={
            "key": "NOT-A-KEY", "product_id": "remotedesk", "term": "permanent", "quantity": -1})
    assert {"key", "quantity"} <= set(refused.value.fields)


# -- the rules of the wizard's orders ------------------------------------------------


def trial(key: str, product: str = "remotedesk", days: int = 14) -> LicenseOrder:
    edition = {"remotedesk": "enterprise", "mailguard": "basic"}.get(product)
    return LicenseOrder(key=key, product_id=product, edition_id=edition, term=Term.TRIAL, trial_days=days, quantity=5)


async def test_a_trial_is_free_and_lasts_the_days_asked(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    quote = await owner.quote_license(trial(key, days=30))
    assert (quote.lines, quote.cost, quote.affordable) == ([], Decimal("0.00"), True)
    license = await owner.create_license(trial(key, days=30))
    assert license.trial_ends_on == harness.clock.now.date() + timedelta(days=30) and license.paid == 0
    assert (await owner.balance()).balance == Decimal("1000.00")
    assert (await owner.ledger(limit=1)).items[0].reason == LedgerReason.GRANT  # no entry for a free trial
    for days in (0, 31):
        with pytest.raises(ValidationFailed) as refused:
            await owner.request("POST", "/api/v1/licenses/quote", body=trial(key, days=1).model_dump(mode="json")
                                | {"trial_days": days})
        assert "trial_days" in refused.value.fields


async def test_a_key_holds_one_live_trial_per_product(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    first = await owner.create_license(trial(key, days=7))
    with pytest.raises(TrialExists, match=f"license {first.id}") as refused:
        await owner.quote_license(trial(key))  # the quote already says so
    assert refused.value.details["product_id"] == "remotedesk"
    with pytest.raises(TrialExists):
        await owner.create_license(trial(key))
    await owner.create_license(trial(key, "mailguard"))  # another product: fine
    await owner.create_license(trial(await a_key(harness)))  # another key: fine
    harness.clock.advance(days=8)  # the first trial has ended
    assert (await owner.create_license(trial(key))).trial_ends_on is not None


async def test_a_permanent_license_costs_unit_price_times_quantity_plus_add_ons(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    order = LicenseOrder(key=key, product_id="mailguard", edition_id="advanced", addons=("encryption", "archiving"),
                         term=Term.PERMANENT, quantity=10)
    quote = await owner.quote_license(order)
    assert [(line.description, line.amount) for line in quote.lines] == [
        ("MailGuard Advanced, 10 mailboxes, with 12 months of support", Decimal("210.00")),
        ("Add-on Archiving", Decimal("60.00")),
        ("Add-on Encryption", Decimal("45.00")),
    ]
    license = await owner.create_license(order)
    assert (license.paid, license.addons, license.support_ends_on) == (
        Decimal("315.00"), ("archiving", "encryption"), date(2027, 3, 2))
    assert (await owner.balance()).balance == Decimal("685.00")


async def test_a_subscription_quote_changes_nothing(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    quote = await owner.quote_subscription(SubscriptionOrder(key=key, product_id="connect", channels=60))
    assert (quote.cost, quote.balance, quote.balance_after, quote.affordable, quote.shortfall) == (
        Decimal("1194.00"), Decimal("1000.00"), Decimal("-194.00"), False, Decimal("194.00"))
    assert [line.description for line in quote.lines] == ["Connect Cloud, 60 channels, first month"]
    assert (await owner.balance()).balance == Decimal("1000.00")
    assert (await owner.keys(holds=KeyHolds.SUBSCRIPTIONS)).total == 0


async def test_the_same_idempotency_key_with_another_order_is_refused(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    retry_key = str(uuid.uuid4())
    await owner.create_license(permanent(key, 2), idempotency_key=retry_key)
    with pytest.raises(IdempotencyKeyReused):
        await owner.create_license(permanent(key, 3), idempotency_key=retry_key)
    assert (await owner.balance()).balance == Decimal("902.00")


async def test_every_purchase_is_audited_and_its_ledger_entry_names_what_it_paid_for(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    license = await owner.create_license(permanent(key, 2))
    subscription = await owner.create_subscription(SubscriptionOrder(key=key, product_id="connect", channels=3))
    ledger = (await owner.ledger(limit=2)).items
    assert [(e.object_type, e.object_id, e.amount) for e in ledger] == [
        ("subscription", subscription.id, Decimal("-59.70")), ("license", license.id, Decimal("-98.00"))]
    assert ledger[0].memo == f"Connect Cloud subscription, 3 channels on {key}"
    assert ledger[1].memo == f"RemoteDesk permanent license, 2 users on {key}"
    audit = (await owner.audit(limit=2)).items
    assert [(a.action, a.object_id, a.actor) for a in audit] == [
        ("subscription.create", subscription.id, "acme-owner"), ("license.create", license.id, "acme-owner")]
    assert "59.70 credits" in audit[0].summary


# -- changing a subscription's channels -------------------------------------------------------


async def test_more_channels_mid_period_cost_their_prorated_share(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    subscription = await owner.create_subscription(SubscriptionOrder(key=key, product_id="connect", channels=3))
    harness.clock.advance(days=11)  # 2026-03-13: 20 days left of the month paid up to 2026-04-02
    quote = await owner.quote_channels(subscription.id, 5)
    assert [(line.description, line.quantity, line.unit_price, line.amount) for line in quote.lines] == [
        ("Connect Cloud, 2 more channels for 20 days", 2, Decimal("13.27"), Decimal("26.54"))]
    assert (await owner.balance()).balance == Decimal("940.30")  # the quote charged nothing
    changed = await owner.change_channels(subscription.id, 5)
    assert (changed.channels, changed.paid, changed.period_ends_on) == (5, Decimal("86.24"), subscription.period_ends_on)
    assert (await owner.balance()).balance == Decimal("913.76")
    entry = (await owner.ledger(limit=1)).items[0]
    assert (entry.object_type, entry.object_id, entry.amount) == ("subscription", subscription.id, Decimal("-26.54"))
    assert (await owner.audit(limit=1)).items[0].details == {"key": key, "before": 3, "after": 5, "cost": "26.54"}


async def test_fewer_channels_take_effect_at_once_and_refund_nothing(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    subscription = await owner.create_subscription(SubscriptionOrder(key=key, product_id="connect", channels=5))
    quote = await owner.quote_channels(subscription.id, 2)
    assert quote.cost == 0 and "not refunded" in quote.lines[0].description
    assert (await owner.change_channels(subscription.id, 2)).channels == 2
    assert (await owner.balance()).balance == Decimal("900.50")
    assert (await owner.audit(limit=1)).items[0].action == "subscription.change"
    with pytest.raises(ValidationFailed, match="already has 2 channels"):
        await owner.quote_channels(subscription.id, 2)


async def test_changing_channels_is_a_purchase_checked_against_the_balance(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    subscription = await owner.create_subscription(SubscriptionOrder(key=key, product_id="connect", channels=1))
    with pytest.raises(PermissionDenied):
        await (await harness.login("acme-op")).change_channels(subscription.id, 2)
    with pytest.raises(InsufficientCredits):
        await owner.change_channels(subscription.id, 100)
    with pytest.raises(NotFound):
        await (await harness.login("globex-owner")).quote_channels(subscription.id, 2)
    assert (await owner.subscription(subscription.id)).channels == 1
    assert (await owner.balance()).balance == Decimal("980.10")
