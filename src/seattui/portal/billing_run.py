"""The billing run: bill what is due (flexible seat-days of ended months, annual renewals,
channel subscriptions' months), then finalize the summary invoices of months that have ended.

Each flexible month, annual term and subscription month is claimed in `billing_claims` in the
transaction that bills it (one transaction each, under its organization's lock), so a second
run, or a second instance at the same moment, finds it claimed and bills nothing twice.

Each draft is claimed by its status: a batch locks its organizations (in id order, as orders
lock one), keeps the invoices still drafts, numbers them from one block of the series and
commits. A run killed half-way leaves whole batches finalized and the rest drafts, so running
again bills each month exactly once; two instances at once wait on the same rows and the
second finds nothing left. A month is recorded in `billing_periods` once all its drafts are
finalized, which is how `serve` knows the run is due.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from seattui.domain.billing import BillingRunReport, InvoiceStatus, invoice_number, month_start, period_key, previous_month_start
from seattui.domain.catalog import Catalog
from seattui.domain.roles import OrgKind
from seattui.portal.catalog import load_catalog
from seattui.portal.context import Tx
from seattui.portal.services import seat_plans, subscriptions
from seattui.portal.services.accounts import system_actor
from seattui.portal.services.billing import drafts_to_finalize, take_numbers
from seattui.portal.store import Store
from seattui.portal.store.sets import among
from seattui.portal.store.tables import billing_periods, billing_terms, invoices, order_lines, orders, organizations

log = logging.getLogger("seattui.portal.billing")

BATCH = 500
# Called between batches; tests use it to stop a run half-way.
BatchHook = Callable[[int], Awaitable[None]]
# Told of every background run: seconds taken, invoices finalized, ended well, when it ended (Unix time).
RunObserver = Callable[..., None]


async def _finalize_batch(store: Store, as_of: date) -> list[str]:
    """Finalize one batch of due drafts in one transaction; the numbers it gave, in order."""
    async with store.write() as conn:
        candidates = await drafts_to_finalize(conn, as_of, limit=BATCH)
        if not candidates:
            return []
        ids = [invoice_id for invoice_id, _ in candidates]
        org_ids = sorted(set((await conn.execute(
            select(invoices.c.org_id).where(among(conn, invoices.c.id, ids)))).scalars()))
        await conn.execute(select(organizations.c.id).where(among(conn, organizations.c.id, org_ids))
                           .order_by(organizations.c.id).with_for_update())
        # Still drafts now that no order of theirs can run: another instance may have been first.
        rows = (await conn.execute(
            select(invoices.c.id, invoices.c.org_id, invoices.c.paid)
            .where(among(conn, invoices.c.id, ids), invoices.c.status == InvoiceStatus.DRAFT.value)
            .order_by(invoices.c.period_start, invoices.c.org_id, invoices.c.id).with_for_update()
        )).all()
        if not rows:
            return []
        kept = [row.id for row in rows]
        sums = dict((await conn.execute(
            select(orders.c.invoice_id, func.sum(order_lines.c.amount))
            .select_from(order_lines.join(orders, orders.c.id == order_lines.c.order_id))
            .where(among(conn, orders.c.invoice_id, kept)).group_by(orders.c.invoice_id)
        )).all())
        due_days = dict((await conn.execute(
            select(billing_terms.c.org_id, billing_terms.c.due_days).where(among(conn, billing_terms.c.org_id, org_ids))
        )).all())
        first = await take_numbers(conn, len(rows)) - len(rows) + 1
        changes: list[dict[str, Any]] = []
        for offset, row in enumerate(rows):
            amount = int(sums.get(row.id) or 0)
            changes.append({
                "invoice_id": row.id, "new_number": invoice_number(as_of.year, first + offset), "new_total": amount,
                "issued": as_of, "due": as_of + timedelta(days=due_days.get(row.org_id, 30)),
                # Nothing owed (orders credited whole): settled as it is issued.
                "new_status": InvoiceStatus.PAID.value if amount == row.paid else InvoiceStatus.OPEN.value,
            })
        await conn.execute(
            update(invoices).where(invoices.c.id == bindparam("invoice_id")).values(
                number=bindparam("new_number"), total=bindparam("new_total"), issued_on=bindparam("issued"),
                due_on=bindparam("due"), status=bindparam("new_status")),
            changes,
        )
        return [change["new_number"] for change in changes]


async def _bill_due(store: Store, catalog: Catalog, as_of: date, now: Callable[[], Any]) -> dict[str, int]:
    """Bill every flexible month, annual renewal and subscription month due by `as_of`."""
    async with store.read() as conn:
        months = await seat_plans.flexible_months_due(conn, as_of)
        annual = await seat_plans.annual_renewals_due(conn, as_of)
        channels = await subscriptions.renewals_due(conn, as_of)
        org_ids = sorted({org for org, *_ in months} | {org for org, _ in annual} | {org for org, _ in channels})
        orgs = {row.id: row for row in (await conn.execute(
            select(organizations.c.id, organizations.c.name, organizations.c.kind)
            .where(among(conn, organizations.c.id, org_ids)))).all()} if org_ids else {}
    counts = {"seat_months": 0, "renewed": 0, "suspended": 0, "ended": 0}

    def tx_of(conn: Any, org_id: int) -> Tx:
        org = orgs[org_id]
        return Tx(conn=conn, actor=system_actor(org_id, org.name, OrgKind(org.kind)), catalog=catalog, now=now())

    # One transaction, and one order, per organization and month.
    grouped: dict[tuple[int, date], list[int]] = {}
    for org_id, license_id, month in months:
        grouped.setdefault((org_id, month), []).append(license_id)
    for (org_id, month), license_ids in sorted(grouped.items()):
        async with store.write() as conn:
            if await seat_plans.bill_flexible_month(tx_of(conn, org_id), license_ids, month) is not None:
                counts["seat_months"] += len(license_ids)
    for org_id, license_id in annual:
        async with store.write() as conn:
            counts["renewed"] += await seat_plans.renew_annual(tx_of(conn, org_id), license_id, as_of)
    for org_id, subscription_id in channels:
        async with store.write() as conn:
            outcome = await subscriptions.renew(tx_of(conn, org_id), subscription_id, as_of)
        if outcome in ("renewed", "suspended", "ended"):
            counts[outcome] += 1
    return counts


async def run_billing(
    store: Store, as_of: date, now: Callable[[], Any], *, catalog: Catalog | None = None,
    between_batches: BatchHook | None = None,
) -> BillingRunReport:
    """Bill what is due, finalize every draft of a month before `as_of`'s, then record the
    months as billed."""
    billed = await _bill_due(store, catalog or load_catalog(), as_of, now)
    async with store.read() as conn:
        owed = (await conn.execute(
            select(invoices.c.period_key).where(invoices.c.status == InvoiceStatus.DRAFT.value,
                                                invoices.c.period_start < month_start(as_of)).distinct()
        )).scalars().all()
        last_month = period_key(previous_month_start(as_of))
        closed_before = set((await conn.execute(select(billing_periods.c.period_key))).scalars())
    finalized: list[str] = []
    batches = 0
    while True:
        numbers = await _finalize_batch(store, as_of)
        if not numbers:
            break
        finalized.extend(numbers)
        batches += 1
        if between_batches is not None:
            await between_batches(batches)
    periods = sorted({key for key in owed if key} | {last_month})
    for key in periods:
        if key in closed_before:
            continue
        try:
            async with store.write() as conn:
                await conn.execute(insert(billing_periods).values(period_key=key, finished_at=now(),
                                                                  finalized=len(finalized)))
        except IntegrityError:  # another instance recorded it first
            pass
    if finalized:
        log.info("billing run as of %s finalized %d invoices", as_of, len(finalized))
    return BillingRunReport(as_of=as_of, periods=[key for key in periods if key not in closed_before],
                            finalized=finalized, already_billed=sorted(closed_before & set(periods)), **billed)


async def is_due(store: Store, today: date) -> bool:
    """Whether last month is not recorded as billed yet, drafts of ended months remain, or a
    renewal's day has come."""
    async with store.read() as conn:
        if await seat_plans.annual_renewals_due(conn, today) or await subscriptions.renewals_due(conn, today):
            return True
        recorded = await conn.scalar(select(billing_periods.c.period_key).where(
            billing_periods.c.period_key == period_key(previous_month_start(today))))
        if recorded is None:
            return True
        return bool(await drafts_to_finalize(conn, today, limit=1))


async def keep_billing(store: Store, now: Callable[[], Any], every: timedelta,
                       observe: RunObserver | None = None, catalog: Catalog | None = None) -> None:
    """The background job of `serve` and the embedded portal: run when due, then check again."""
    while True:
        began = time.monotonic()
        ran = False
        try:
            today = now().date()
            if await is_due(store, today):
                ran = True
                report = await run_billing(store, today, now, catalog=catalog)
                if observe is not None:
                    observe(time.monotonic() - began, len(report.finalized), ok=True, ended_at=now().timestamp())
        except asyncio.CancelledError:
            raise
        except Exception:  # a database that is away now: try again at the next check
            log.exception("billing run failed; it runs again at the next check")
            if observe is not None and ran:
                observe(time.monotonic() - began, 0, ok=False, ended_at=now().timestamp())
        await asyncio.sleep(every.total_seconds())
