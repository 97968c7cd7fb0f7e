"""The billing run over 1,000 organizations on monthly terms with 100 orders each (one line
per order) against a raw SQL aggregation of the same rows (the sum of each invoice's lines,
which finalizing must compute anyway), interleaved round by round, the median of each.
Target: at most 10x the raw aggregation, under 30 s."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from harness import figure, median

from seattui.portal.billing_run import run_billing
from seattui.portal.store import Store

ORGS, ORDERS = 1_000, 100
SMOKE_ORGS, SMOKE_ORDERS = 20, 10
ROUNDS, SMOKE_ROUNDS = 5, 2  # interleaved rounds; the median of each side is reported
PERIOD = date(2026, 11, 1)
AS_OF = date(2026, 12, 1)
RAW = ("SELECT orders.invoice_id, sum(order_lines.amount) FROM order_lines "
       "JOIN orders ON orders.id = order_lines.order_id GROUP BY orders.invoice_id")


def _fill(path: Path, orgs: int, per_org: int) -> None:
    """November's drafts and their orders, written in bulk as the portal stores them."""
    at = datetime(2026, 11, 15, 12, 0, tzinfo=UTC).isoformat(sep=" ")
    db = sqlite3.connect(path)
    with db:
        db.executemany("INSERT INTO organizations (id, name, kind, created_at) VALUES (?, ?, 'reseller', ?)",
                       [(org, f"Org {org}", at) for org in range(1, orgs + 1)])
        db.executemany("INSERT INTO billing_terms (org_id, terms, credit_limit, due_days, updated_at) "
                       "VALUES (?, 'monthly', 100000000, 30, ?)", [(org, at) for org in range(1, orgs + 1)])
        db.executemany("INSERT INTO invoices (id, org_id, kind, status, period_key, period_start, period_end, "
                       "total, paid, created_at) VALUES (?, ?, 'summary', 'draft', '2026-11', '2026-11-01', "
                       "'2026-11-30', ?, 0, ?)", [(org, org, per_org * 4900, at) for org in range(1, orgs + 1)])
        order_rows = [(org * per_org + number, org, at, "bench", 4900, org)
                      for org in range(1, orgs + 1) for number in range(per_org)]
        db.executemany("INSERT INTO orders (id, org_id, kind, placed_at, placed_by, paid_with, total, invoice_id) "
                       "VALUES (?, ?, 'purchase', ?, ?, 'invoice', ?, ?)", order_rows)
        db.executemany("INSERT INTO order_lines (order_id, position, description, quantity, unit_price, discount, "
                       "amount, service_start, service_end, object_type, object_id) VALUES "
                       "(?, 1, 'RemoteDesk Standard, 1 user', 1, 4900, 0, 4900, '2026-11-15', '2027-11-15', "
                       "'license', ?)", [(order_id, order_id) for order_id, *_ in order_rows])
    db.close()


def _raw(path: Path, orgs: int) -> float:
    db = sqlite3.connect(path)
    try:
        began = time.perf_counter()
        sums = db.execute(RAW).fetchall()
        took = time.perf_counter() - began
    finally:
        db.close()
    if len(sums) != orgs:
        raise RuntimeError(f"the aggregation found {len(sums)} invoices, not {orgs}")
    return took


def _billing(path: Path, orgs: int) -> float:
    async def billing() -> float:
        store = Store(path)
        try:
            began = time.perf_counter()
            report = await run_billing(store, AS_OF, lambda: datetime.now(UTC))
            took = time.perf_counter() - began
        finally:
            await store.dispose()
        if len(report.finalized) != orgs:
            raise RuntimeError(f"the run finalized {len(report.finalized)} invoices, not {orgs}")
        return took

    return asyncio.run(billing())


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    orgs, per_org = (SMOKE_ORGS, SMOKE_ORDERS) if smoke else (ORGS, ORDERS)
    rounds = SMOKE_ROUNDS if smoke else ROUNDS
    with tempfile.TemporaryDirectory(prefix="seattui-bench-billing-") as root:
        filled = Path(root) / "filled.db"

        async def migrate() -> None:
            store = Store(filled)
            await store.migrate()
            await store.dispose()

        asyncio.run(migrate())
        _fill(filled, orgs, per_org)
        raws: list[float] = []
        ours: list[float] = []
        # Interleaved, each round on a fresh copy of the same drafts (a run finalizes them), the
        # side that goes first (and reads the copy from disk) alternating; the sums do not change.
        for number in range(rounds):
            path = Path(root) / f"round-{number}.db"
            shutil.copyfile(filled, path)
            if number % 2:
                ours.append(_billing(path, orgs))
                raws.append(_raw(path, orgs))
            else:
                raws.append(_raw(path, orgs))
                ours.append(_billing(path, orgs))
            path.unlink()
    raw, took = median(raws), median(ours)
    yield figure("billing_run_s", took, "s", baseline=raw, target=30.0)
    yield figure("billing_run_raw_aggregation_s", raw, "s")
    yield figure("billing_run_ratio", took / raw, "x", target=10.0)
    yield figure("billing_run_orders", orgs * per_org, "orders")
