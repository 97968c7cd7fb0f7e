"""The dashboard's license figures come from license_tally, which the database's triggers keep
in the statement that changes a license. After every kind of change (through the services, the
device endpoint, the billing run, and a raw statement that no service wrote) it equals a recount
of the licenses, and the dashboard's figures equal the figures counted from the licenses."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import and_, case, delete, func, insert, literal, select, update

from seattui.domain.dashboard import RENEWING_DAYS, SUPPORT_ENDING_DAYS, TRIALS_ENDING_DAYS, Dashboard
from seattui.domain.errors import InsufficientCredits
from seattui.domain.licensing import (
    ActivationRequest,
    DeviceRequest,
    LicenseOrder,
    LicenseUpgrade,
    NewActivationKey,
    Renewal,
    Term,
)
from seattui.domain.seat_plans import RenewalChange
from seattui.portal.billing_run import run_billing
from seattui.portal.services import keys
from seattui.portal.store.tables import license_tally, licenses

from harness import PortalHarness
from license_setup import a_license, on_device

NO_END = date(9999, 12, 31)


def _ends_on() -> Any:
    column = licenses.c
    return func.coalesce(case((column.term == Term.TRIAL.value, column.trial_ends_on),
                              (column.term == Term.PERMANENT.value, column.support_ends_on),
                              (column.term == Term.ANNUAL.value, column.term_ends_on)), NO_END)


async def tallies(harness: PortalHarness) -> tuple[dict[tuple[Any, ...], int], dict[tuple[Any, ...], int]]:
    """The kept tally and the same groups counted from the licenses, for every organization."""
    column = licenses.c
    key = (column.org_id, column.product_id, column.term, column.device_fingerprint.is_not(None),
           _ends_on(), func.coalesce(column.renewal, literal(Renewal.SAME.value)) != Renewal.END.value)
    async with harness.portal.store.read() as conn:
        counted = {(org, product, term, bool(activated), day, bool(renews)): count
                   for org, product, term, activated, day, renews, count
                   in (await conn.execute(select(*key, func.count()).group_by(*key))).all()}
        kept = {(row.org_id, row.product_id, row.term, bool(row.activated), row.ends_on, bool(row.renews)): row.licenses
                for row in (await conn.execute(select(license_tally))).all()}
    return kept, counted


async def assert_tally_is_a_recount(harness: PortalHarness) -> dict[tuple[Any, ...], int]:
    kept, counted = await tallies(harness)
    assert kept == counted
    return kept


async def counted_figures(harness: PortalHarness, org: str, today: date) -> dict[str, Any]:
    """The dashboard's license figures counted the slow way, from every license."""
    column = licenses.c
    trial, permanent = column.term == Term.TRIAL.value, column.term == Term.PERMANENT.value

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    async with harness.as_org(org) as tx:
        row = (await tx.conn.execute(select(
            func.count(),
            count(and_(trial, column.trial_ends_on.between(today, today + timedelta(days=TRIALS_ENDING_DAYS)))),
            count(and_(trial, column.trial_ends_on < today)),
            count(and_(permanent, column.support_ends_on < today)),
            count(and_(permanent, column.support_ends_on.between(today, today + timedelta(days=SUPPORT_ENDING_DAYS)))),
            count(and_(column.term == Term.ANNUAL.value,
                       func.coalesce(column.renewal, literal(Renewal.SAME.value)) != Renewal.END.value,
                       column.term_ends_on.between(today, today + timedelta(days=RENEWING_DAYS)))),
        ).where(column.org_id == tx.org_id))).one()
        products = {product: (int(trials), int(perm), int(plans), int(activated))
                    for product, trials, perm, plans, activated in (await tx.conn.execute(select(
                        column.product_id, count(trial), count(permanent),
                        count(column.term.in_([Term.ANNUAL.value, Term.FLEXIBLE.value])),
                        count(column.device_fingerprint.is_not(None)),
                    ).where(column.org_id == tx.org_id).group_by(column.product_id))).all()}
    return {"licenses": row[0], "trials_ending": int(row[1] or 0), "trials_ended": int(row[2] or 0),
            "support_ended": int(row[3] or 0), "support_ending": int(row[4] or 0),
            "annual_renewing": int(row[5] or 0), "by_product": products}


def shown_figures(dashboard: Dashboard) -> dict[str, Any]:
    return {"licenses": dashboard.licenses, "trials_ending": dashboard.trials_ending,
            "trials_ended": dashboard.trials_ended, "support_ended": dashboard.support_ended,
            "support_ending": dashboard.support_ending,
            "annual_renewing": dashboard.renewing,  # no channel subscriptions in these organizations
            "by_product": {figures.product_id: (figures.trials, figures.permanent, figures.seat_plans, figures.activated)
                           for figures in dashboard.by_product}}


async def a_seat_plan(harness: PortalHarness, term: Term, quantity: int) -> int:
    async with harness.as_org("Acme") as tx:
        key = (await keys.create(tx, NewActivationKey(name="seats"))).key
    owner = await harness.login("acme-owner")
    return (await owner.create_license(LicenseOrder(key=key, product_id="workspace", term=term,
                                                    quantity=quantity))).id


async def test_every_kind_of_change_keeps_the_tally_equal_to_a_recount(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    admin = await harness.login("acme-admin")
    permanent = [await a_license(harness, quantity=1) for _ in range(3)]
    trials = [await a_license(harness, term=Term.TRIAL, trial_days=days, quantity=1, product_id="vaultbackup",
                              edition_id="server") for days in (2, 20)]
    other = await a_license(harness, "Globex", quantity=1)
    annual = await a_seat_plan(harness, Term.ANNUAL, 5)
    await a_seat_plan(harness, Term.FLEXIBLE, 5)
    assert sum((await assert_tally_is_a_recount(harness)).values()) == 8

    # A device takes a license and gives it back; an admin forces another off its device.
    device = ActivationRequest(key=permanent[0].key, product_id="remotedesk", fingerprint="fp-tally-0001",
                               hostname="desk-1")
    await harness.client().activate(device)
    await on_device(harness, permanent[1], "desk-2")
    await on_device(harness, other, "globex-1", org="Globex")
    await assert_tally_is_a_recount(harness)
    await harness.client().deactivate(DeviceRequest(key=device.key, product_id=device.product_id,
                                                    fingerprint=device.fingerprint))
    await admin.release_device(permanent[1].id)
    # A trial made permanent (a term and an end day of another kind), support extended, an
    # annual contract set to end, the comment edited (no group changes).
    await owner.upgrade_license(trials[0].id, LicenseUpgrade(to_permanent=True), idempotency_key=str(uuid.uuid4()))
    await owner.extend_support([permanent[0].id, permanent[2].id], 2, idempotency_key=str(uuid.uuid4()))
    await owner.change_seat_plan(annual, RenewalChange(renewal=Renewal.END))
    await owner.change_seat_plan(annual, RenewalChange(renewal=Renewal.SAME))
    await assert_tally_is_a_recount(harness)

    # The billing run renews the annual contract a year on (its term end moves).
    harness.clock.advance(days=366)
    await run_billing(harness.portal.store, harness.clock().date(), harness.clock, catalog=harness.portal.catalog)
    await assert_tally_is_a_recount(harness)

    # Deleted in a batch, with another organization's figures untouched.
    async with harness.as_org("Globex") as tx:
        globex = tx.org_id
    globex_before = {key: count for key, count in (await tallies(harness))[0].items() if key[0] == globex}
    owner = await harness.login("acme-owner")
    await owner.delete_licenses([permanent[2].id, trials[1].id], idempotency_key=str(uuid.uuid4()))
    kept = await assert_tally_is_a_recount(harness)
    assert {key: count for key, count in kept.items() if key[0] == globex} == globex_before != {}


async def test_a_statement_no_service_wrote_is_counted_too_and_a_rolled_back_change_is_not(
        harness: PortalHarness) -> None:
    # What keeps the figures is the database, not the services: a writer that forgets the
    # dashboard (here raw SQL, as a bulk loader or a future service would write) cannot skew them.
    made = await a_license(harness, quantity=1)
    async with harness.as_org("Acme") as tx:
        now = tx.now
        await tx.conn.execute(insert(licenses).values(
            org_id=tx.org_id, key_id=(await keys.create(tx, NewActivationKey(name="raw"))).id, key="RAWR-0000-0000-0001",
            product_id="mailguard", edition_id="basic", term=Term.TRIAL.value, quantity=1,
            trial_ends_on=tx.today + timedelta(days=3), created_at=now, updated_at=now))
        await tx.conn.execute(update(licenses).where(licenses.c.id == made.id).values(
            support_ends_on=tx.today - timedelta(days=1), device_fingerprint="fp-raw-00001", product_id="sitewatch"))
    await assert_tally_is_a_recount(harness)
    before = await assert_tally_is_a_recount(harness)
    with pytest.raises(RuntimeError):
        async with harness.as_org("Acme") as tx:
            await tx.conn.execute(delete(licenses).where(licenses.c.org_id == tx.org_id))
            raise RuntimeError("changed my mind")
    assert await assert_tally_is_a_recount(harness) == before
    # A refused purchase changes no figure.
    poor = await harness.login("globex-owner")
    async with harness.as_org("Globex") as tx:
        key = (await keys.create(tx, NewActivationKey(name="too big"))).key
    with pytest.raises(InsufficientCredits):
        await poor.create_license(LicenseOrder(key=key, product_id="remotedesk", edition_id="enterprise",
                                               term=Term.PERMANENT, quantity=100_000))
    assert await assert_tally_is_a_recount(harness) == before


async def test_the_dashboard_shows_the_figures_counted_from_the_licenses(harness: PortalHarness) -> None:
    await a_license(harness, quantity=1)
    ending = await a_license(harness, quantity=2)
    await a_license(harness, term=Term.TRIAL, trial_days=3, quantity=1, product_id="vaultbackup", edition_id="server")
    await a_license(harness, term=Term.TRIAL, trial_days=1, quantity=1, product_id="mailguard", edition_id="basic")
    await on_device(harness, ending, "desk-9")
    await a_seat_plan(harness, Term.ANNUAL, 5)
    for days in (0, 2, 10, 340, 360, 368, 400):
        # Days pass: trials end, support runs out and the contract comes up for renewal, with
        # no license written: the time-based figures are ranges over the kept days.
        harness.clock.now = datetime.combine(date(2026, 3, 2) + timedelta(days=days), datetime.min.time(), UTC) \
            .replace(hour=9)
        shown = await (await harness.login("acme-owner")).dashboard()
        assert shown_figures(shown) == await counted_figures(harness, "Acme", shown.today), days


async def test_the_kept_key_count_equals_a_recount(harness: PortalHarness) -> None:
    from seattui.portal.store.tables import activation_keys, key_counts

    async def kept_and_counted() -> tuple[dict[int, int], dict[int, int]]:
        async with harness.portal.store.read() as conn:
            counted = dict((await conn.execute(select(activation_keys.c.org_id, func.count())
                                               .group_by(activation_keys.c.org_id))).all())
            kept = dict((await conn.execute(select(key_counts.c.org_id, key_counts.c["keys"]))).all())
        return {org: count for org, count in kept.items() if count}, counted

    async with harness.as_org("Acme") as tx:
        made = [await keys.create(tx, NewActivationKey(name=f"key {n}")) for n in range(3)]
        await tx.conn.execute(insert(activation_keys).values(org_id=tx.org_id, key="RAWK-0000-0000-0001", name="",
                                                             created_at=tx.now))
    async with harness.as_org("Globex") as tx:
        await keys.create(tx, NewActivationKey(name="theirs"))
    async with harness.as_org("Acme") as tx:
        await keys.delete(tx, made[0].id)
    kept, counted = await kept_and_counted()
    assert kept == counted and len(counted) >= 2
    async with harness.as_org("Acme") as tx:
        acme = tx.org_id
    assert (await (await harness.login("acme-owner")).dashboard()).keys == counted[acme]
