"""Support extensions in bulk: one quote, one credit check and one transaction for the batch,
all or nothing; expired support extends from today, running support from its end date."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from seattui.domain.credits import LedgerReason
from seattui.domain.dates import add_years
from seattui.domain.errors import BatchRefused, InsufficientCredits, NotFound, PermissionDenied
from seattui.domain.licensing import LicenseFilter, Term

from harness import PortalHarness
from license_setup import a_license


async def test_a_batch_extends_expired_support_from_today_and_running_support_from_its_end(
    harness: PortalHarness,
) -> None:
    old = await a_license(harness, quantity=2)  # support ends in a year
    harness.clock.advance(days=300)
    recent = await a_license(harness, product_id="mailguard", edition_id="basic", addons=("archiving",), quantity=4)
    harness.clock.advance(days=100)  # old's support has ended; recent's runs
    today = harness.clock.now.date()
    owner = await harness.login("acme-owner")
    balance = (await owner.balance()).balance
    ids = [old.id, recent.id]

    quote = await owner.quote_support(ids, years=2)
    assert [(line.quantity, line.amount) for line in quote.lines] == [
        (4, Decimal("49.00")),  # RemoteDesk Standard: 2 users x 2 years x 12.25
        (8, Decimal("24.00")),  # MailGuard Basic: 4 mailboxes x 2 years x 3.00
        (8, Decimal("12.00")),  # Archiving: 4 x 2 x 1.50
    ]
    assert quote.cost == Decimal("85.00") and quote.balance == balance

    result = await owner.extend_support(ids, years=2)
    assert (result.count, result.amount, result.balance_after) == (2, Decimal("85.00"), balance - Decimal("85.00"))
    assert (await owner.license(old.id)).support_ends_on == add_years(today, 2)
    assert (await owner.license(recent.id)).support_ends_on == add_years(recent.support_ends_on, 2)
    assert (await owner.license(old.id)).paid == old.paid + Decimal("49.00")

    entries = [e for e in (await owner.ledger(limit=10)).items if e.reason is LedgerReason.SUPPORT]
    assert sorted((e.object_id, e.amount) for e in entries) == [(old.id, Decimal("-49.00")), (recent.id, Decimal("-36.00"))]
    audit = [a for a in (await owner.audit(limit=10)).items if a.action == "license.support"]
    assert len(audit) == 2 and len({a.batch_id for a in audit}) == 1 and audit[0].batch_id == result.batch_id
    assert (await owner.licenses(LicenseFilter(support="expired"))).total == 0


async def test_a_batch_with_one_license_that_cannot_be_extended_changes_nothing(harness: PortalHarness) -> None:
    permanent = await a_license(harness, quantity=1)
    trial = await a_license(harness, term=Term.TRIAL, trial_days=10, quantity=1)
    owner = await harness.login("acme-owner")
    balance = (await owner.balance()).balance
    with pytest.raises(BatchRefused, match="permanent licenses only") as refused:
        await owner.extend_support([permanent.id, trial.id], years=1)
    assert [r["license_id"] for r in refused.value.details["refusals"]] == [trial.id]
    assert (await owner.license(permanent.id)).support_ends_on == permanent.support_ends_on
    assert (await owner.balance()).balance == balance
    globex = await a_license(harness, "Globex", quantity=1)
    with pytest.raises(NotFound):
        await owner.quote_support([permanent.id, globex.id], years=1)


async def test_a_batch_past_the_balance_charges_nothing_and_extends_nothing(harness: PortalHarness) -> None:
    licenses = [await a_license(harness, edition_id="enterprise", quantity=3) for _ in range(2)]  # 894.00
    owner = await harness.login("acme-owner")
    quote = await owner.quote_support([l.id for l in licenses], years=1)
    assert not quote.affordable and quote.shortfall == Decimal("117.50")
    with pytest.raises(InsufficientCredits, match="117.50 short"):
        await owner.extend_support([l.id for l in licenses], years=1)
    assert [(await owner.license(l.id)).support_ends_on for l in licenses] == [l.support_ends_on for l in licenses]
    assert (await owner.balance()).balance == Decimal("106.00")


async def test_a_retried_extension_is_charged_once_and_operators_may_not_buy(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=1)
    operator = await harness.login("acme-op")
    with pytest.raises(PermissionDenied):
        await operator.extend_support([license.id], years=1)
    admin = await harness.login("acme-admin")
    retry = str(uuid.uuid4())
    first = await admin.extend_support([license.id], years=3, idempotency_key=retry)
    again = await admin.extend_support([license.id], years=3, idempotency_key=retry)
    assert first == again
    assert (await admin.license(license.id)).support_ends_on == add_years(license.support_ends_on, 3)
    assert (await admin.balance()).balance == Decimal("1000.00") - Decimal("49.00") - Decimal("36.75")
