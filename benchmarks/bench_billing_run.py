"""The billing run over 1,000 organizations on monthly terms with 100 orders each (one line
per order) against a raw SQL aggregation of the same rows (the sum of each invoice's lines,
which finalizing must compute anyway). Target: at most 10x the raw aggregation, under 30 s."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from harness import figure

from seattui.portal.billing_run import run_billing
from seattui.portal.store import Store

ORGS, ORDERS = 1_000, 100
SMOKE_ORGS, SMOKE_ORDERS = 20, 10
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


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    orgs, per_org = (SMOKE_ORGS, SMOKE_ORDERS) if smoke else (ORGS, ORDERS)
    with tempfile.TemporaryDirectory(prefix="seattui-bench-billing-") as root:
        path = Path(root) / "portal.db"

        async def migrate() -> None:
            store = Store(path)
            await store.migrate()
            await store.dispose()

        asyncio.run(migrate())
        _fill(path, orgs, per_org)
        db = sqlite3.connect(path)
        start = time.perf_counter()
        sums = db.execute(RAW).fetchall()
        raw = time.perf_counter() - start
        db.close()
        assert len(sums) == orgs

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

        ours = asyncio.run(billing())
    yield figure("billing_run_s", ours, "s", baseline=raw, target=30.0)
    yield figure("billing_run_ratio", ours / raw, "x", target=10.0)
    yield figure("billing_run_orders", orgs * per_org, "orders")
