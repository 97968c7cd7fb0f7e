"""Managing licenses through the client: the filtered, sorted, paged list and its facets;
edits; upgrades that never go down and are paid in the same transaction; deletions refused
while activated and otherwise refunded as ledger entries; an admin's forced deactivation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from seattui.domain.credits import LedgerReason
from seattui.domain.errors import (
    BatchRefused,
    InsufficientCredits,
    LicenseActivated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from seattui.domain.licensing import (
    LicenseEdit,
    LicenseFilter,
    LicenseSort,
    LicenseStatus,
    LicenseUpgrade,
    Term,
)

from harness import PortalHarness
from license_setup import a_license, on_device


async def all_pages(client, wanted: LicenseFilter, sort: LicenseSort, descending: bool = False) -> list:
    rows, cursor = [], None
    while True:
        page = await client.licenses(wanted, sort=sort, descending=descending, cursor=cursor, limit=2)
        rows.extend(page.items)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


async def test_the_list_filters_by_text_and_facets_and_sorts_by_any_column(harness: PortalHarness) -> None:
    made = [
        await a_license(harness, quantity=3, customer_email="ops@contoso.example", comment="PO 4471"),
        await a_license(harness, product_id="mailguard", edition_id="advanced", quantity=5,
                        customer_email="it@fabrikam.example"),
        await a_license(harness, product_id="vaultbackup", edition_id="server", term=Term.TRIAL, trial_days=7,
                        quantity=1, comment="evaluation for contoso"),
        await a_license(harness, edition_id="professional", quantity=1),
    ]
    await on_device(harness, made[3], "desk-07")
    await a_license(harness, "Globex", quantity=1, customer_email="ops@contoso.example")
    viewer = await harness.login("acme-viewer")

    first = await viewer.licenses()
    assert first.total == 4 and {row.id for row in first.items} == {row.id for row in made}
    contoso = await viewer.licenses(LicenseFilter(q="CONTOSO"))
    assert (contoso.total, {row.id for row in contoso.items}) == (2, {made[0].id, made[2].id})
    by_key = await viewer.licenses(LicenseFilter(q=made[1].key[5:12].lower()))
    assert [row.id for row in by_key.items] == [made[1].id]
    assert [r.id for r in (await viewer.licenses(LicenseFilter(q="100%_"))).items] == []

    facets = {
        LicenseFilter(product_id="remotedesk"): {made[0].id, made[3].id},
        LicenseFilter(edition_id="server"): {made[2].id},
        LicenseFilter(term=Term.TRIAL): {made[2].id},
        LicenseFilter(status=LicenseStatus.ACTIVATED): {made[3].id},
        LicenseFilter(status=LicenseStatus.ASSIGNED, product_id="remotedesk"): {made[0].id},
    }
    for wanted, expected in facets.items():
        assert {row.id for row in (await viewer.licenses(wanted)).items} == expected, wanted

    for sort, value in [(LicenseSort.KEY, lambda r: r.key), (LicenseSort.QUANTITY, lambda r: r.quantity),
                        (LicenseSort.CUSTOMER, lambda r: r.customer_email or ""),
                        (LicenseSort.SUPPORT, lambda r: str(r.support_ends_on or "9999")),
                        (LicenseSort.STATUS, lambda r: r.device.hostname if r.device else "")]:
        for descending in (False, True):
            rows = await all_pages(viewer, LicenseFilter(), sort, descending)
            assert len(rows) == 4
            assert [value(r) for r in rows] == sorted((value(r) for r in rows), reverse=descending), sort

    assert (await viewer.licenses(LicenseFilter(), sort=LicenseSort.STATUS, descending=True)).items[0].device.hostname == "desk-07"


async def test_sorted_by_support_end_the_pages_hold_every_license_without_support(harness: PortalHarness) -> None:
    # Licenses without support sort last (as 9999-12-31); PostgreSQL's driver sent that date,
    # taken from a page's cursor, as 'infinity', so every page after the first such row came
    # back empty there.
    made = [await a_license(harness, quantity=1)]
    made += [await a_license(harness, term=Term.TRIAL, trial_days=7, quantity=1) for _ in range(5)]
    viewer = await harness.login("acme-viewer")
    for descending in (False, True):
        rows = await all_pages(viewer, LicenseFilter(), LicenseSort.SUPPORT, descending)
        assert sorted(row.id for row in rows) == sorted(row.id for row in made), descending
        assert (rows[0].support_ends_on is None) is descending


async def test_trial_and_support_windows_follow_the_portals_today(harness: PortalHarness) -> None:
    ending = await a_license(harness, term=Term.TRIAL, trial_days=5, quantity=1)
    await a_license(harness, term=Term.TRIAL, trial_days=30, quantity=1, product_id="sitewatch", edition_id="standard")
    running = await a_license(harness, quantity=1)

    async def ids_after(days: int, wanted: LicenseFilter) -> list[int]:
        harness.clock.advance(days=days)
        viewer = await harness.login("acme-viewer")  # sessions last 30 days
        return [row.id for row in (await viewer.licenses(wanted)).items]

    assert await ids_after(6, LicenseFilter(status=LicenseStatus.TRIAL_ENDED)) == [ending.id]
    assert await ids_after(0, LicenseFilter(trial_ending=True)) == []
    assert len(await ids_after(20, LicenseFilter(trial_ending=True))) == 1
    assert await ids_after(320, LicenseFilter(support="ending")) == [running.id]
    assert await ids_after(30, LicenseFilter(support="expired")) == [running.id]
    end = running.support_ends_on
    assert await ids_after(0, LicenseFilter(support_from=end, support_to=end)) == [running.id]
    assert await ids_after(0, LicenseFilter(support_from=end + timedelta(days=1))) == []
    viewer = await harness.login("acme-viewer")
    with pytest.raises(ValidationFailed, match="support_from"):
        await viewer.request("GET", "/api/v1/licenses", params={"support_from": str(end), "support_to": "2020-01-01"})


async def test_facet_counts_ignore_their_own_choice_and_ids_mark_everything_matched(harness: PortalHarness) -> None:
    for product, edition in (("remotedesk", "standard"), ("remotedesk", "enterprise"), ("sitewatch", "standard")):
        await a_license(harness, product_id=product, edition_id=edition, quantity=1)
    viewer = await harness.login("acme-viewer")
    counts = await viewer.license_facets(LicenseFilter(product_id="remotedesk"))
    assert counts.total == 2
    assert counts.products == {"remotedesk": 2, "sitewatch": 1}
    assert counts.editions == {"standard": 1, "enterprise": 1}
    assert counts.statuses == {"assigned": 2} and counts.terms == {"permanent": 2}
    ids = await viewer.license_ids(LicenseFilter(edition_id="standard"))
    assert ids.total == 2 and len(ids.ids) == 2


async def test_an_edit_changes_email_and_comment_and_is_audited(harness: PortalHarness) -> None:
    license = await a_license(harness, customer_email="old@contoso.example", comment="old")
    operator = await harness.login("acme-op")
    edited = await operator.edit_license(license.id, LicenseEdit(customer_email="New@Contoso.example", comment="renewal"))
    assert (edited.customer_email, edited.comment) == ("New@contoso.example", "renewal")
    # The edit, then the new customer's invitation into their own account (mailed with the key).
    invited, entry = (await operator.audit(limit=2)).items
    assert invited.action == "invitation.create" and invited.details["email"] == "new@contoso.example"
    assert entry.action == "license.edit" and entry.details["before"]["comment"] == "old"
    with pytest.raises(ValidationFailed) as refused:
        await operator.request("PATCH", f"/api/v1/licenses/{license.id}", body={"customer_email": "not an email"})
    assert "customer_email" in refused.value.fields
    viewer = await harness.login("acme-viewer")
    with pytest.raises(PermissionDenied):
        await viewer.edit_license(license.id, LicenseEdit(comment="x"))
    globex = await harness.login("globex-owner")
    with pytest.raises(NotFound):
        await globex.edit_license(license.id, LicenseEdit(comment="x"))


async def test_an_upgrade_costs_the_difference_and_is_debited_with_it(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=2)  # 98.00
    admin = await harness.login("acme-admin")
    wanted = LicenseUpgrade(edition_id="professional", quantity=3)
    quote = await admin.quote_upgrade(license.id, wanted)
    assert quote.cost == Decimal("169.00")  # 3 x 89.00 - 2 x 49.00
    assert (await admin.balance()).balance == Decimal("902.00")
    retry = str(uuid.uuid4())
    upgraded = await admin.upgrade_license(license.id, wanted, idempotency_key=retry)
    again = await admin.upgrade_license(license.id, wanted, idempotency_key=retry)
    assert (upgraded.edition_id, upgraded.quantity, upgraded.paid) == ("professional", 3, Decimal("267.00"))
    assert again == upgraded
    assert (await admin.balance()).balance == Decimal("733.00")
    entry = (await admin.ledger(limit=1)).items[0]
    assert (entry.amount, entry.reason, entry.object_id) == (Decimal("-169.00"), LedgerReason.UPGRADE, license.id)
    for down in (LicenseUpgrade(quantity=2), LicenseUpgrade(edition_id="standard")):
        with pytest.raises(ValidationFailed, match="never downgraded"):
            await admin.upgrade_license(license.id, down)
    assert (await admin.balance()).balance == Decimal("733.00")


async def test_a_trial_becomes_permanent_at_full_price_with_a_year_of_support(harness: PortalHarness) -> None:
    trial = await a_license(harness, term=Term.TRIAL, trial_days=14, edition_id="enterprise", quantity=2)
    owner = await harness.login("acme-owner")
    made = await owner.upgrade_license(trial.id, LicenseUpgrade(to_permanent=True))
    assert (made.term, made.paid, made.trial_ends_on) == (Term.PERMANENT, Decimal("298.00"), None)
    assert made.support_ends_on == harness.clock.now.date().replace(year=2027)
    with pytest.raises(ValidationFailed, match="permanent already"):
        await owner.quote_upgrade(trial.id, LicenseUpgrade(to_permanent=True))
    operator = await harness.login("acme-op")
    with pytest.raises(PermissionDenied):
        await operator.upgrade_license(trial.id, LicenseUpgrade(quantity=3))


async def test_an_upgrade_past_the_balance_charges_nothing(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=1)
    owner = await harness.login("acme-owner")
    with pytest.raises(InsufficientCredits):
        await owner.upgrade_license(license.id, LicenseUpgrade(edition_id="enterprise", quantity=10))
    assert (await owner.license(license.id)).quantity == 1
    assert (await owner.balance()).balance == Decimal("951.00")


async def test_delete_is_refused_while_activated_naming_the_device(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=2)
    await on_device(harness, license, "reception-pc")
    owner = await harness.login("acme-owner")
    with pytest.raises(LicenseActivated, match="reception-pc") as refused:
        await owner.delete_licenses([license.id])
    assert refused.value.details["hostname"] == "reception-pc"
    assert (await owner.license(license.id)).device is not None
    assert (await owner.balance()).balance == Decimal("902.00")


async def test_delete_refunds_what_was_paid_as_a_ledger_entry_naming_the_license(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=2)
    await a_license(harness, quantity=1)
    owner = await harness.login("acme-owner")
    await owner.upgrade_license(license.id, LicenseUpgrade(quantity=3))
    quote = await owner.quote_deletion([license.id])
    assert (quote.cost, quote.balance_after) == (Decimal("-147.00"), Decimal("951.00"))
    result = await owner.delete_licenses([license.id])
    assert (result.count, result.amount, result.balance_after) == (1, Decimal("-147.00"), Decimal("951.00"))
    entry = (await owner.ledger(limit=1)).items[0]
    assert (entry.amount, entry.reason, entry.object_type, entry.object_id) == (
        Decimal("147.00"), LedgerReason.REFUND, "license", license.id)
    assert license.key in entry.memo
    with pytest.raises(NotFound):
        await owner.license(license.id)
    assert (await owner.audit(limit=1)).items[0].action == "license.delete"


async def test_a_bulk_delete_is_all_or_nothing(harness: PortalHarness) -> None:
    free = [await a_license(harness, quantity=1) for _ in range(2)]
    busy = await a_license(harness, quantity=1)
    await on_device(harness, busy, "lab-3")
    owner = await harness.login("acme-owner")
    ids = [free[0].id, busy.id, free[1].id]
    with pytest.raises(BatchRefused) as refused:
        await owner.delete_licenses(ids)
    assert [r["license_id"] for r in refused.value.details["refusals"]] == [busy.id]
    assert (await owner.licenses()).total == 3 and (await owner.balance()).balance == Decimal("853.00")
    globex_license = await a_license(harness, "Globex", quantity=1)
    with pytest.raises(NotFound):
        await owner.delete_licenses([free[0].id, globex_license.id])
    result = await owner.delete_licenses([free[0].id, free[1].id])
    assert (result.count, result.amount) == (2, Decimal("-98.00"))
    refunds = [e for e in (await owner.ledger(limit=5)).items if e.reason is LedgerReason.REFUND]
    assert sorted(e.object_id for e in refunds) == sorted(l.id for l in free)
    assert {e.at for e in refunds} == {harness.clock.now}


async def test_an_admin_forces_a_deactivation_and_the_audit_says_so(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=1)
    await on_device(harness, license, "old-laptop")
    operator = await harness.login("acme-op")
    with pytest.raises(PermissionDenied):
        await operator.release_device(license.id)
    admin = await harness.login("acme-admin")
    assert (await admin.license(license.id)).device.hostname == "old-laptop"
    released = await admin.release_device(license.id)
    assert released.device is None and released.status is LicenseStatus.ASSIGNED
    entry = (await admin.audit(limit=1)).items[0]
    assert (entry.action, entry.actor, entry.details["hostname"]) == ("license.deactivate", "acme-admin", "old-laptop")
    await admin.delete_licenses([license.id])


async def test_the_kept_count_of_licenses_always_equals_a_recount(harness: PortalHarness) -> None:
    # The unfiltered list's total is kept in the transactions that create and delete licenses
    # (license_counts); after any of them it is what counting the rows gives, per organization.
    from sqlalchemy import func, select

    from seattui.portal.store.tables import license_counts, licenses as licenses_table

    async def kept_and_counted() -> dict[int, tuple[int, int]]:
        async with harness.portal.store.read() as conn:
            counted = dict((await conn.execute(select(licenses_table.c.org_id, func.count())
                                               .group_by(licenses_table.c.org_id))).all())
            kept = dict((await conn.execute(select(license_counts.c.org_id, license_counts.c.licenses))).all())
        return {org: (kept.get(org, 0), counted.get(org, 0)) for org in set(counted) | set(kept)}

    owner = await harness.login("acme-owner")
    made = [await a_license(harness, quantity=1) for _ in range(4)]
    await a_license(harness, "Globex", quantity=1)
    assert all(kept == counted for kept, counted in (await kept_and_counted()).values())
    assert (await owner.licenses()).total == 4
    await owner.delete_licenses([made[0].id, made[1].id], idempotency_key=str(uuid.uuid4()))
    await a_license(harness, term=Term.TRIAL, trial_days=3, quantity=1, product_id="vaultbackup", edition_id="server")
    figures = await kept_and_counted()
    assert all(kept == counted for kept, counted in figures.values()) and len(figures) == 2
    assert (await owner.licenses()).total == 3
    with pytest.raises((NotFound, BatchRefused)):  # a refused deletion (another organization's license) changes no count
        await owner.delete_licenses([made[2].id, 10**9], idempotency_key=str(uuid.uuid4()))
    assert await kept_and_counted() == figures
