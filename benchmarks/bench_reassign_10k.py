"""10,000 seat moves end to end: the client sends one batch to `seattui serve` over loopback,
the portal checks it whole, updates the seats, writes the batch and its audit entries, and
commits. Compared, in the same run and on the same database, with a raw `executemany` of the
same 10,000 updates. On SQLite, and on PostgreSQL when SEATTUI_TEST_POSTGRES_URL (or
SEATTUI_BENCH_POSTGRES_URL) names a server. Targets: <= 0.5 s on SQLite, <= 25x raw on both."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import BENCH_LOGIN, BENCH_PASSWORD, figure, median, scratch_env, seed_workforce, serving

MOVES = 10_000
RUNS = 5
SMOKE_MOVES, SMOKE_RUNS = 200, 2
RAW_UPDATE = ("UPDATE seats SET employee_id = {0}, last_batch = {1}, assigned_at = {2} "
              "WHERE org_id = {3} AND product_id = {4} AND employee_id = {5}")


async def _end_to_end(url: str, moves: int, runs: int) -> list[float]:
    from seattui.client import PortalClient
    from seattui.domain.seating import MoveRequest

    async with PortalClient(url, timeout=120) as client:
        await client.login(BENCH_LOGIN, BENCH_PASSWORD)
        ids = await client.employee_ids()
        ids.sort()
        seated, free = ids[:moves], ids[moves : 2 * moves]
        times = []
        for run in range(runs):
            givers, receivers = (seated, free) if run % 2 == 0 else (free, seated)
            batch = [MoveRequest(from_id=g, to_id=r, product_id="workspace") for g, r in zip(givers, receivers)]
            start = time.perf_counter()
            outcome = await client.reassign(batch, idempotency_key=str(uuid.uuid4()))
            times.append(time.perf_counter() - start)
            assert outcome.applied and outcome.count == moves
    return times


def _flip(holders: list[int], first: int) -> list[tuple[int, int]]:
    """(giver, receiver) for the same seats (10,000): to the other half of the employees, whose
    ids follow the first half's in the order they were added."""
    moves = len(holders)
    return [(holder, holder + moves if holder < first + moves else holder - moves) for holder in holders]


HOLDERS = "SELECT employee_id FROM seats ORDER BY id"
FIRST = "SELECT min(id), min(org_id) FROM employees"


def _raw_sqlite(path: Path, runs: int) -> list[float]:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        holders = [row[0] for row in connection.execute(HOLDERS)]
        first, org = connection.execute(FIRST).fetchone()
        times = []
        for _ in range(runs):
            pairs = _flip(holders, first)
            now, batch = datetime.now(UTC).isoformat(sep=" "), str(uuid.uuid4())
            start = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(RAW_UPDATE.format(*"??????"),
                                   [(receiver, batch, now, org, "workspace", giver) for giver, receiver in pairs])
            connection.execute("COMMIT")
            times.append(time.perf_counter() - start)
            holders = [receiver for _, receiver in pairs]
    finally:
        connection.close()
    return times


async def _raw_postgres(url: str, runs: int) -> list[float]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        holders = [row[0] for row in await connection.fetch(HOLDERS)]
        first, org = await connection.fetchrow(FIRST)
        times = []
        for _ in range(runs):
            pairs = _flip(holders, first)
            now, batch = datetime.now(UTC), str(uuid.uuid4())
            start = time.perf_counter()
            async with connection.transaction():
                await connection.executemany(RAW_UPDATE.format(*(f"${n}" for n in range(1, 7))),
                                             [(receiver, batch, now, org, "workspace", giver) for giver, receiver in pairs])
            times.append(time.perf_counter() - start)
            holders = [receiver for _, receiver in pairs]
    finally:
        await connection.close()
    return times


def _postgres_admin() -> str | None:
    return os.environ.get("SEATTUI_BENCH_POSTGRES_URL") or os.environ.get("SEATTUI_TEST_POSTGRES_URL")


async def _create_database(admin: str, name: str, *, drop: bool = False) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _measure(database: str, env: dict[str, str], raw: Any, moves: int, runs: int) -> tuple[float, float]:
    asyncio.run(seed_workforce(database, 2 * moves, moves))
    with serving(database, env) as url:
        ours = median(asyncio.run(_end_to_end(url, moves, runs)))
    return ours, median(raw())


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    moves, runs = (SMOKE_MOVES, SMOKE_RUNS) if smoke else (MOVES, RUNS)
    with scratch_env() as (root, env):
        path = root / "reassign.db"
        ours, raw = _measure(str(path), env, lambda: _raw_sqlite(path, runs), moves, runs)
        yield figure("sqlite_s", ours, "s", baseline=raw, target=0.5)
        yield figure("sqlite_ratio", ours / raw, "x", target=25)
        admin = _postgres_admin()
        if admin is None:
            return
        name = f"seattui_bench_{uuid.uuid4().hex[:8]}"
        base = admin.rsplit("/", 1)[0]
        asyncio.run(_create_database(admin, name))
        try:
            ours, raw = _measure(f"{base}/{name}", env, lambda: asyncio.run(_raw_postgres(f"{base}/{name}", runs)),
                                 moves, runs)
        finally:
            asyncio.run(_create_database(admin, name, drop=True))
        yield figure("postgres_s", ours, "s", baseline=raw)
        yield figure("postgres_ratio", ours / raw, "x", target=25)
