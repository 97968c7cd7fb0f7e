"""Quoting and buying licenses and subscriptions through the client: the price, the debit
in the same transaction, idempotent retries, and roles."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from seattui.domain.errors import InsufficientCredits, NotFound, PermissionDenied, ValidationFailed
from seattui.domain.licensing import LicenseOrder, NewActivationKey, SubscriptionOrder, Term
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
