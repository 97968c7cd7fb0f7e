"""A billing run killed at any point (SIGKILL) and run again bills each month exactly once: a
real `seattui billing run` on SQLite and on PostgreSQL over a few hundred organizations, stopped
inside a batch's transaction, between batches and before the month is recorded; then run to the
end, and once more. Every organization has one numbered invoice for the month, the numbers run
without a gap, every total is the sum of its lines, and the ledger is untouched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from seattui.domain.billing import invoice_number
from seattui.portal.store import Store
from seattui.portal.store.tables import (
    billing_periods,
    billing_terms,
    invoice_series,
    invoices,
    ledger_entries,
    order_lines,
    orders,
    organizations,
)

from cli_helpers import seattui

pytestmark = pytest.mark.slow

ORGS, ORDERS_EACH, BATCH = 130, 3, 40  # four batches: 40, 40, 40, 10
AS_OF = "2026-12-01"  # November is due
HOOK = Path(__file__).with_name("billing_kill_hook.py")
PLACED = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


def price(org: int, order: int) -> int:
    """Hundredths, different for each order so that a sum over the wrong rows shows."""
    return 4_900 + org * 7 + order * 101


async def november_drafts(database_url: str) -> None:
    store = Store(database_url)
    try:
        async with store.write() as conn:
            await conn.execute(insert(organizations), [
                {"id": 1_000 + org, "name": f"Reseller {org}", "kind": "reseller", "created_at": PLACED}
                for org in range(ORGS)])
            await conn.execute(insert(billing_terms), [
                {"org_id": 1_000 + org, "terms": "monthly", "credit_limit": 100_000_000, "due_days": 30,
                 "updated_at": PLACED} for org in range(ORGS)])
            await conn.execute(insert(invoices), [
                {"id": 1_000 + org, "org_id": 1_000 + org, "kind": "summary", "status": "draft", "period_key": "2026-11",
                 "period_start": date(2026, 11, 1), "period_end": date(2026, 11, 30), "total": 0, "paid": 0,
                 "created_at": PLACED} for org in range(ORGS)])
            await conn.execute(insert(orders), [
                {"id": 10_000 + org * ORDERS_EACH + order, "org_id": 1_000 + org, "kind": "purchase",
                 "placed_at": PLACED, "placed_by": "owner", "paid_with": "invoice", "total": price(org, order),
                 "invoice_id": 1_000 + org} for org in range(ORGS) for order in range(ORDERS_EACH)])
            await conn.execute(insert(order_lines), [
                {"order_id": 10_000 + org * ORDERS_EACH + order, "position": 1, "description": "RemoteDesk, 1 user",
                 "quantity": 1, "unit_price": price(org, order), "discount": 0, "amount": price(org, order),
                 "service_start": date(2026, 11, 15), "service_end": date(2027, 11, 15), "object_type": "license",
                 "object_id": org * ORDERS_EACH + order} for org in range(ORGS) for order in range(ORDERS_EACH)])
    finally:
        await store.dispose()


async def state(database_url: str) -> dict[str, Any]:
    store = Store(database_url)
    try:
        async with store.read() as conn:
            rows = (await conn.execute(select(invoices.c.org_id, invoices.c.number, invoices.c.total,
                                              invoices.c.status, invoices.c.paid)
                                       .where(invoices.c.period_key == "2026-11"))).all()
            sums = dict((await conn.execute(
                select(orders.c.invoice_id, func.sum(order_lines.c.amount))
                .select_from(order_lines.join(orders, orders.c.id == order_lines.c.order_id))
                .group_by(orders.c.invoice_id))).all())
            return {
                "invoices": rows,
                "line_sums": {invoice: int(amount) for invoice, amount in sums.items()},
                "series": await conn.scalar(select(invoice_series.c.last_number)),
                "billed": (await conn.execute(select(billing_periods.c.period_key))).scalars().all(),
                "ledger": await conn.scalar(select(func.count()).select_from(ledger_entries)),
            }
    finally:
        await store.dispose()


def finalized(found: dict[str, Any]) -> int:
    return sum(1 for row in found["invoices"] if row.number is not None)


def stopped_at(database_url: str, point: str, at: int) -> str:
    """The run started, stopped where asked, SIGKILLed there; what it said as it stopped."""
    run = subprocess.Popen([sys.executable, str(HOOK), point, str(at), str(BATCH), "--", "billing", "run",
                            "--as-of", AS_OF, "--db", database_url],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert run.stdout is not None
        said = run.stdout.readline().strip()  # blocks until the run is where it was asked to stop
        assert said, run.stderr.read() if run.stderr else "no output"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        for stream in (run.stdout, run.stderr):
            if stream is not None:
                stream.close()
    assert run.returncode == -signal.SIGKILL
    return said


def billing_run(database_url: str) -> dict[str, Any]:
    done = seattui("billing", "run", "--as-of", AS_OF, "--json", "--db", database_url)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# (where it stops, how many batches were committed when it died)
POINTS = [("numbering", 2, 1), ("between", 3, 3), ("recording", 0, 4)]


@pytest.mark.parametrize("point, at, committed", POINTS, ids=[f"{point}-{at}" for point, at, _ in POINTS])
async def test_a_billing_run_killed_and_run_again_bills_the_month_once_with_no_gap(
        database_url: str, point: str, at: int, committed: int) -> None:
    await november_drafts(database_url)
    before = await state(database_url)

    said = stopped_at(database_url, point, at)
    assert said in ("numbering batch 2", "committed batch 3", "every batch committed")
    killed = await state(database_url)
    done_first = min(committed * BATCH, ORGS)
    assert finalized(killed) == done_first  # whole batches: the one in its transaction left nothing
    assert (killed["series"] or 0) == done_first  # the numbers it had reserved went back
    assert killed["billed"] == []  # the month is not recorded as billed before all of it is

    again = billing_run(database_url)
    assert len(again["finalized"]) == ORGS - done_first
    assert again["periods"] == ["2026-11"]
    once_more = billing_run(database_url)
    assert once_more["finalized"] == [] and once_more["already_billed"] == ["2026-11"]

    after = await state(database_url)
    numbers = sorted(row.number for row in after["invoices"])
    assert numbers == [invoice_number(2026, n) for n in range(1, ORGS + 1)]  # one each, no gap, no duplicate
    assert after["series"] == ORGS
    assert after["billed"] == ["2026-11"]
    assert len({row.org_id for row in after["invoices"]}) == ORGS == len(after["invoices"])
    for row in after["invoices"]:
        assert row.status == "open" and row.paid == 0
        assert row.total == after["line_sums"][row.org_id]  # each invoice's id is its organization's here
        assert row.total == sum(price(row.org_id - 1_000, order) for order in range(ORDERS_EACH))
    # The run charges nothing: the ledger holds what it held.
    assert after["ledger"] == before["ledger"]
