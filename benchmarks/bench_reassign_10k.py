"""10,000 seat moves end to end: the client sends one batch to `seattui serve` over loopback,
the portal checks it whole, updates the seats, writes the batch and its audit entries, and
commits. Compared, in the same run and on the same database, with a raw `executemany` of the
same 10,000 updates. On SQLite, and on PostgreSQL when SEATTUI_TEST_POSTGRES_URL (or
SEATTUI_BENCH_POSTGRES_URL) names a server. Targets: <= 0.5 s on SQLite, <= 25x raw on both.

The batch runs RUNS times in a row on the same data (to and fro): `*_repeat_ratio` is the
slowest run against the first (each run's ratio in `runs`), target <= 1.5x, since a store
whose plans degrade from run to run shows it there.

Then a plan of 100,000 moves as one batch, on a database of its own: `seattui reassign
plan.csv` (by email, the CLI's whole run) and the same moves back through the API by id, each
against a raw `executemany` of 100,000 updates. Target: <= 25x raw."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import (
    BENCH_LOGIN,
    BENCH_PASSWORD,
    SEATTUI,
    figure,
    median,
    scratch_env,
    seed_workforce,
    serving,
    wall_time,
)

MOVES = 10_000
RUNS = 5
SMOKE_MOVES, SMOKE_RUNS = 200, 2
PLAN_MOVES, SMOKE_PLAN_MOVES = 100_000, 300
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


def _measure(database: str, env: dict[str, str], raw: Any, moves: int, runs: int) -> tuple[list[float], float]:
    asyncio.run(seed_workforce(database, 2 * moves, moves))
    with serving(database, env) as url:
        ours = asyncio.run(_end_to_end(url, moves, runs))
    return ours, median(raw())


def _plan_file(root: Path, moves: int) -> Path:
    """Every seat holder's seat to the employee as far down the list (seed_workforce's emails)."""
    plan = root / "plan.csv"
    with plan.open("w") as file:
        file.write("from_email,to_email,product\n")
        file.writelines(f"person{i:06d}@staff.example,person{i + moves:06d}@staff.example,workspace\n"
                        for i in range(moves))
    return plan


def _measure_plan(database: str, root: Path, env: dict[str, str], raw: Any, moves: int) -> tuple[float, float, float]:
    """(the CLI applying the plan file, the API moving the seats back by id, raw executemany)."""
    asyncio.run(seed_workforce(database, 2 * moves, moves))
    plan = _plan_file(root, moves)
    with serving(database, env) as url:
        subprocess.run([SEATTUI, "login", "--portal", url, "--login", BENCH_LOGIN, "--password-stdin"],
                       input=BENCH_PASSWORD + "\n", env=env, check=True, capture_output=True, text=True)
        cli = wall_time([SEATTUI, "reassign", str(plan), "--json"], env, expect='"applied": true')
        api = asyncio.run(_api_back(url, moves))
    return cli, api, raw()[0]


async def _api_back(url: str, moves: int) -> float:
    from seattui.client import PortalClient
    from seattui.domain.seating import MoveRequest

    async with PortalClient(url, timeout=600) as client:
        await client.login(BENCH_LOGIN, BENCH_PASSWORD)
        ids = sorted(await client.employee_ids())
        batch = [MoveRequest(from_id=ids[i + moves], to_id=ids[i], product_id="workspace") for i in range(moves)]
        start = time.perf_counter()
        outcome = await client.reassign(batch, idempotency_key=str(uuid.uuid4()))
        elapsed = time.perf_counter() - start
        assert outcome.applied and outcome.count == moves
    return elapsed


def _figures(store: str, times: list[float], raw: float, *, target_s: float | None = None) -> Iterator[dict[str, Any]]:
    ours = median(times)
    yield figure(f"{store}_s", ours, "s", baseline=raw, target=target_s)
    yield figure(f"{store}_ratio", ours / raw, "x", target=25)
    runs = [round(t / times[0], 3) for t in times]
    yield {**figure(f"{store}_repeat_ratio", max(runs), "x", target=1.5), "runs": runs}


def _plan_figures(store: str, cli: float, api: float, raw: float, moves: int) -> Iterator[dict[str, Any]]:
    yield {**figure(f"{store}_plan_cli_s", cli, "s", baseline=raw), "moves": moves}
    yield figure(f"{store}_plan_cli_ratio", cli / raw, "x", target=25)
    yield {**figure(f"{store}_plan_api_s", api, "s", baseline=raw), "moves": moves}
    yield figure(f"{store}_plan_api_ratio", api / raw, "x", target=25)


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    moves, runs, plan_moves = (SMOKE_MOVES, SMOKE_RUNS, SMOKE_PLAN_MOVES) if smoke else (MOVES, RUNS, PLAN_MOVES)
    with scratch_env() as (root, env):
        path = root / "reassign.db"
        times, raw = _measure(str(path), env, lambda: _raw_sqlite(path, runs), moves, runs)
        yield from _figures("sqlite", times, raw, target_s=0.5)
        path = root / "plan.db"
        yield from _plan_figures("sqlite", *_measure_plan(str(path), root, env, lambda: _raw_sqlite(path, 1),
                                                          plan_moves), moves=plan_moves)
        admin = _postgres_admin()
        if admin is None:
            return
        base = admin.rsplit("/", 1)[0]
        for part in ("batch", "plan"):
            name = f"seattui_bench_{uuid.uuid4().hex[:8]}"
            url = f"{base}/{name}"
            asyncio.run(_create_database(admin, name))
            try:
                if part == "batch":
                    times, raw = _measure(url, env, lambda: asyncio.run(_raw_postgres(url, runs)), moves, runs)
                    yield from _figures("postgres", times, raw)
                else:
                    yield from _plan_figures("postgres", *_measure_plan(
                        url, root, env, lambda: asyncio.run(_raw_postgres(url, 1)), plan_moves), moves=plan_moves)
            finally:
                asyncio.run(_create_database(admin, name, drop=True))
