"""The billing run billing a month of flexible seats: 10,000 seats on 20 flexible plans of 500
(the catalog's largest) with a month of assignment changes (seats held all month, assigned or
taken back mid-month, both, reassigned twice), against a raw SQL computation of the same
seat-days per plan. Target: at most 10x the raw computation."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness import figure

from seattui.domain.seat_plans import flexible_month_amount
from seattui.portal.billing_run import run_billing
from seattui.portal.catalog import load_catalog
from seattui.portal.store import Store

PLANS, SEATS = 20, 500
SMOKE_PLANS, SMOKE_SEATS = 2, 50
ROUNDS = 5
MONTH = date(2026, 11, 1)
AS_OF = date(2026, 12, 1)
# The same count as domain.seat_plans.seat_days: nights A < D <= B within November.
RAW = ("SELECT license_id, sum(max(0, julianday(min(coalesce(ended_on, '2026-11-30'), '2026-11-30')) "
       "- julianday(max(started_on, '2026-10-31')))) FROM seat_intervals "
       "WHERE started_on <= '2026-11-30' AND (ended_on IS NULL OR ended_on >= '2026-11-01') GROUP BY license_id")


def _intervals(seats: int, rng: random.Random) -> list[tuple[date, date | None]]:
    """A month of changes: a third held all month, the rest assigned, taken back or both."""
    found: list[tuple[date, date | None]] = []
    for seat in range(seats):
        day = MONTH + timedelta(days=rng.randrange(30))
        later = day + timedelta(days=rng.randrange(1, 20))
        shape = seat % 6
        if shape < 2:
            found.append((date(2026, 9, 14), None))
        elif shape == 2:
            found.append((day, None))
        elif shape == 3:
            found.append((date(2026, 10, 2), day))
        elif shape == 4:
            found.append((day, later))
        else:  # taken back and given again: two intervals
            found += [(date(2026, 8, 1), day), (later, None)]
    return found


def _fill(path: Path, plans: int, seats: int) -> None:
    at = datetime(2026, 9, 1, 12, 0, tzinfo=UTC).isoformat(sep=" ")
    rng = random.Random(14)
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO organizations (id, name, kind, created_at) VALUES (1, 'Seats', 'reseller', ?)", (at,))
        # Monthly terms: the seat-days go on November's invoice, which the run then finalizes.
        db.execute("INSERT INTO billing_terms (org_id, terms, credit_limit, due_days, updated_at) "
                   "VALUES (1, 'monthly', 100000000, 30, ?)", (at,))
        db.execute("INSERT INTO activation_keys (id, org_id, key, name, created_at) VALUES "
                   "(1, 1, 'SEAT-BILL-BENC-H000', 'bench', ?)", (at,))
        db.executemany("INSERT INTO licenses (id, org_id, key_id, key, product_id, term, quantity, seat_cap, "
                       "created_at, updated_at) VALUES (?, 1, 1, 'SEAT-BILL-BENC-H000', 'workspace', 'flexible', "
                       "?, ?, ?, ?)", [(plan, seats, seats, at, at) for plan in range(1, plans + 1)])
        rows = [(plan, plan * seats + seat, start.isoformat(), end.isoformat() if end else None)
                for plan in range(1, plans + 1) for seat, (start, end) in enumerate(_intervals(seats, rng))]
        db.executemany("INSERT INTO seat_intervals (org_id, license_id, seat_id, started_on, ended_on) "
                       "VALUES (1, ?, ?, ?, ?)", rows)
        # The months before November were billed by earlier runs.
        db.executemany("INSERT INTO billing_claims (kind, object_id, period, org_id, done_at) "
                       "VALUES ('seat-days', ?, ?, 1, ?)",
                       [(plan, month, at) for plan in range(1, plans + 1) for month in ("2026-08", "2026-09", "2026-10")])
    db.close()


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    plans, seats = (SMOKE_PLANS, SMOKE_SEATS) if smoke else (PLANS, SEATS)
    rounds = 2 if smoke else ROUNDS
    with tempfile.TemporaryDirectory(prefix="seattui-bench-seats-") as root:
        path = Path(root) / "portal.db"

        async def migrate() -> None:
            store = Store(path)
            await store.migrate()
            await store.dispose()

        asyncio.run(migrate())
        _fill(path, plans, seats)
        # A run bills a month once, so each round bills a copy of its own; each figure is the
        # fastest round (the machine is shared), the raw computation's likewise.
        copies = [Path(root) / f"round-{number}.db" for number in range(rounds)]
        for copy in copies:
            shutil.copyfile(path, copy)
        db = sqlite3.connect(path)
        raws = []
        for _ in range(rounds):
            start = time.perf_counter()
            days = dict(db.execute(RAW).fetchall())
            raws.append(time.perf_counter() - start)
        raw = min(raws)
        db.close()
        assert len(days) == plans
        price = load_catalog().product("workspace").seat_plans[0].price_per_seat
        expected = sum((flexible_month_amount(price, int(value), MONTH) for value in days.values()), Decimal("0.00"))
        catalog = load_catalog()

        async def billing(copy: Path) -> float:
            store = Store(copy)
            try:
                async with store.read():
                    pass  # the connection is open, as in a running portal
                began = time.perf_counter()
                report = await run_billing(store, AS_OF, lambda: datetime.now(UTC), catalog=catalog)
                took = time.perf_counter() - began
            finally:
                await store.dispose()
            if report.seat_months != plans or len(report.finalized) != 1:
                raise RuntimeError(f"the run billed {report.seat_months} plans' months, not {plans}")
            db = sqlite3.connect(copy)
            billed = db.execute("SELECT sum(total) FROM invoices WHERE period_key = '2026-11'").fetchone()[0]
            db.close()
            if Decimal(billed) / 100 != expected:
                raise RuntimeError(f"billed {Decimal(billed) / 100}; the raw seat-days give {expected}")
            return took

        ours = min(asyncio.run(billing(copy)) for copy in copies)
    yield figure("seat_billing_s", ours, "s", baseline=raw)
    yield figure("seat_billing_ratio", ours / raw, "x", target=10.0)
    yield figure("seat_billing_seats", plans * seats, "seats")
