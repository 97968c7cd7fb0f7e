"""A portal killed (SIGKILL) in the middle of a large batch leaves all of its moves applied or
none: a real `seattui serve` on SQLite and on PostgreSQL, killed while the batch's write
transaction is open, at a few points of it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from cli_helpers import serving
from harness import PASSWORD, running_portal
from seat_support import staff

MOVES = 12_000
DELAYS = (0.0, 0.08, 0.2)  # after the transaction is seen open: its start, middle and late


def sqlite_path(database_url: str) -> str:
    return database_url.split(":///", 1)[1]


def sqlite_writing(database_url: str) -> Callable[[], Awaitable[bool]]:
    """True while another connection holds SQLite's write lock: the batch's transaction."""
    path = sqlite_path(database_url)

    async def probe() -> bool:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            connection.close()

    return probe


async def postgres_writing(database_url: str) -> tuple[Callable[[], Awaitable[bool]], Callable[[], Awaitable[None]]]:
    """True while a transaction holds a write lock on the seats table, not yet committed."""
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))

    async def probe() -> bool:
        return bool(await connection.fetchval(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'seats' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"))

    return probe, connection.close


def send_batch(url: str, token: str, moves: list[dict[str, object]]) -> str:
    """Send the batch and say how it ended for the client: an answer, or a broken connection."""
    try:
        response = httpx.post(f"{url}/api/v1/seat-batches", content=json.dumps({"moves": moves}),
                              headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                       "Idempotency-Key": str(uuid.uuid4())}, timeout=60)
    except httpx.TransportError:
        return "cut off"
    return f"answered {response.status_code}"


async def receivers_holding(database_url: str, receivers: list[int]) -> int:
    from sqlalchemy import func, select

    from seattui.portal.store import Store
    from seattui.portal.store.sets import among
    from seattui.portal.store.tables import seats

    store = Store(database_url)
    try:
        async with store.read() as conn:
            return int(await conn.scalar(select(func.count()).where(among(conn, seats.c.employee_id, receivers))) or 0)
    finally:
        await store.dispose()


async def test_a_portal_killed_mid_batch_applies_all_moves_or_none(database_url: str) -> None:
    async with running_portal(database_url) as harness:
        ids = await staff(harness, 2 * MOVES, MOVES)
    holders, others = ids[:MOVES], ids[MOVES:]
    if database_url.startswith("sqlite"):
        writing, close = sqlite_writing(database_url), None
    else:
        writing, close = await postgres_writing(database_url)
    outcomes = []
    try:
        for delay in DELAYS:
            moved = await receivers_holding(database_url, others)
            givers, receivers = (holders, others) if moved == 0 else (others, holders)
            moves = [{"from_id": g, "to_id": r, "product_id": "workspace"} for g, r in zip(givers, receivers)]
            with serving(database_url) as (url, server):
                login = httpx.post(f"{url}/api/v1/auth/login", json={"login": "acme-op", "password": PASSWORD})
                token = login.json()["token"]
                request = asyncio.create_task(asyncio.to_thread(send_batch, url, token, moves))
                deadline = time.monotonic() + 60
                while not await writing():
                    assert not request.done(), f"the batch ended before it was seen: {request.result()}"
                    assert time.monotonic() < deadline, "the batch's transaction never started"
                    await asyncio.sleep(0.002)
                await asyncio.sleep(delay)
                server.kill()
                server.wait(timeout=15)
                outcomes.append(await request)
            now_held = await receivers_holding(database_url, receivers)
            assert now_held in (0, MOVES), f"{now_held} of {MOVES} moves applied after the kill"
            assert await receivers_holding(database_url, givers) == MOVES - now_held
    finally:
        if close is not None:
            await close()
    assert "cut off" in outcomes  # the kill came while the portal was working on the batch
    if database_url.startswith("sqlite"):
        with sqlite3.connect(sqlite_path(database_url)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

