"""The project's SQLite driver (store/sqlite_driver.py) when a request is cancelled mid-statement:
its connection is closed (no aiosqlite thread left behind, nothing logged as an error), and
the engine goes on serving. aiosqlite 0.21 has no `Connection.stop()`: SQLAlchemy then closes
the connection rather than force-stopping it.

And the store's point reads, run in the event loop's thread: they see what committed, never
write, never wait for a writer, and wait for a lock (rare) off the loop."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.asyncio import create_async_engine

from seattui.portal.store import SCHEMA_HEAD, Store
from seattui.portal.store.sqlite_driver import engine_url

LONG = ("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 3000000) "
        "SELECT count(*) FROM r")


def aiosqlite_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread is not threading.main_thread() and thread.daemon)


async def test_a_cancelled_statement_closes_its_connection_without_an_error(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = create_async_engine(engine_url(f"sqlite+aiosqlite:///{tmp_path / 'cancel.db'}"))
    before = aiosqlite_threads()
    try:
        for _ in range(3):
            async def long_read() -> None:
                async with engine.connect() as conn:
                    await conn.execute(text(LONG))

            task = asyncio.create_task(long_read())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        for _ in range(100):  # the closed connections' threads end once their statement does
            if aiosqlite_threads() <= before:
                break
            await asyncio.sleep(0.05)
        assert aiosqlite_threads() <= before
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 42"))).scalar() == 42
    finally:
        await engine.dispose()
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]


# -- point reads in the event loop's thread (Store.point_read) ---------------------------------------

async def schema_seen(store: Store) -> str | None:
    async with store.point_read() as conn:
        return await conn.scalar(text("SELECT version_num FROM alembic_version"))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store(tmp_path / "portal.db")
    await store.migrate()
    try:
        yield store
    finally:
        await store.dispose()


async def test_a_point_read_sees_what_committed_and_does_not_wait_for_a_writer(store: Store) -> None:
    async with store.write() as writer:
        await writer.execute(text("UPDATE alembic_version SET version_num = 'changing'"))
        # The writer holds the file's write lock: the point read answers from before it, at once.
        assert await schema_seen(store) == SCHEMA_HEAD
    assert await schema_seen(store) == "changing"


async def test_a_point_read_cannot_write(store: Store) -> None:
    with pytest.raises(OperationalError, match="readonly"):
        async with store.point_read() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'written'"))
    async with store.read() as conn:
        assert await conn.scalar(text("SELECT version_num FROM alembic_version")) == SCHEMA_HEAD
    assert await schema_seen(store) == SCHEMA_HEAD  # and the point reads go on


async def test_point_reads_one_after_another_each_see_the_latest_commit(store: Store) -> None:
    for version in ("first", "second", "third"):
        async with store.write() as writer:
            await writer.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})
        assert await schema_seen(store) == version


def exclusive_lock(path: Path) -> sqlite3.Connection:
    """Another connection holding the file in exclusive locking mode: every reader meets SQLITE_BUSY
    until it closes (as while another process recovers the WAL)."""
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("PRAGMA locking_mode=EXCLUSIVE")
    locker.execute("BEGIN IMMEDIATE")
    locker.execute("UPDATE alembic_version SET version_num = version_num")
    locker.execute("COMMIT")
    return locker


async def ticking(ticks: list[int]) -> None:
    while True:
        await asyncio.sleep(0.01)
        ticks.append(1)


async def test_a_point_read_that_meets_a_lock_waits_for_it_off_the_event_loop(store: Store, tmp_path: Path) -> None:
    await store.dispose()  # the store's pooled connections would keep the locker from its lock
    locker = exclusive_lock(tmp_path / "portal.db")
    ticks: list[int] = []
    ticker = asyncio.create_task(ticking(ticks))
    try:
        read = asyncio.create_task(schema_seen(store))
        while len(ticks) < 10:  # the loop serves on while the read waits
            await asyncio.sleep(0.01)
            assert not read.done(), read
        await asyncio.get_running_loop().run_in_executor(None, locker.close)
        assert await read == SCHEMA_HEAD
        assert await schema_seen(store) == SCHEMA_HEAD
    finally:
        ticker.cancel()


async def test_a_point_read_cancelled_while_it_waits_leaves_the_store_serving(
        store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await store.dispose()
    locker = exclusive_lock(tmp_path / "portal.db")
    read = asyncio.create_task(schema_seen(store))
    await asyncio.sleep(0.1)
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    await asyncio.get_running_loop().run_in_executor(None, locker.close)
    for _ in range(3):
        assert await schema_seen(store) == SCHEMA_HEAD
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]


# -- prepared point reads (store/point.py) ------------------------------------------------------------

async def test_a_prepared_point_read_gives_the_rows_sqlalchemy_gives(database_url: str) -> None:
    """Same fields, same values of the same types: dates, UTC datetimes, empty columns, and a
    LIMIT's own values (the balance's statement); on SQLite's inline connection and asyncpg's."""
    from harness import running_portal
    from license_setup import a_license, on_device

    from seattui.portal.queries import actors
    from seattui.portal.services import activation, credits
    from seattui.portal.bearer import token_hash
    from seattui.portal.store.point import PointQuery

    async with running_portal(database_url) as harness:
        held = await a_license(harness, comment="Held", support_ends_on=None)
        await on_device(harness, held, "ws-1")
        await a_license(harness, key=held.key, term="trial", quantity=1, trial_days=14)
        store = harness.portal.store
        cases: list[tuple[PointQuery, dict[str, object]]] = [
            (activation._DEVICE_LICENSES, {"key": held.key, "product_id": "remotedesk"}),
            (activation._DEVICE_LICENSES, {"key": held.key, "product_id": "no-such-product"}),
            (credits._LAST_ENTRY, {"org_id": harness.world.org_ids["Acme"]}),
            (actors.SESSION_ACTOR, {"token_hash": "not a token"}),
            (credits._BALANCE, {"org_id": harness.world.org_ids["Acme"]}),
            (credits.BALANCE_WITH_ACTOR.session, {"token_hash": token_hash((await harness.login("acme-owner")).token)}),
        ]
        for query, parameters in cases:
            async with store.point_read() as conn:
                prepared = await query.all(conn, parameters)
            async with store.read() as conn:
                expected = (await conn.execute(query.statement, parameters)).all()
            assert [tuple(row) for row in prepared] == [tuple(row) for row in expected]
            assert [row._fields for row in prepared] == [row._fields for row in expected]
            assert [[type(value) for value in row] for row in prepared] == \
                [[type(value) for value in row] for row in expected]
        # Read on the pool connection the connection holds, not by asking SQLAlchemy for it
        # (a greenlet started for every read, a tenth of a balance's time).
        taken: list[object] = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(AsyncConnection, "get_raw_connection", lambda self: taken.append(self))
            async with store.point_read() as conn:
                rows = await activation._DEVICE_LICENSES.all(conn, {"key": held.key, "product_id": "remotedesk"})
            async with store.point_read() as conn:  # the kept connection, checked as it is taken again
                assert await credits._LAST_ENTRY.first(conn, {"org_id": harness.world.org_ids["Acme"]})
        assert taken == []
        assert len(rows) == 2 and {row.device_hostname for row in rows} == {"ws-1", None}
        assert all(row.created_at.tzinfo is not None for row in rows)


async def test_a_point_write_that_meets_another_writer_waits_for_it_off_the_event_loop(
        store: Store, tmp_path: Path) -> None:
    """Store.point_write runs in the loop's thread, and its BEGIN IMMEDIATE never waits there:
    while another process holds the file's write lock the loop serves on, and once it commits
    the point write runs after it, on top of its change, in its own transaction: one that
    fails after its first statement leaves nothing behind."""
    from sqlalchemy import text

    other = sqlite3.connect(tmp_path / "portal.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE alembic_version SET version_num = version_num || '-other'")
    ticks: list[int] = []
    ticker = asyncio.create_task(ticking(ticks))

    async def point_write(*, then_fail: bool = False) -> None:
        async with store.point_write() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = version_num || '-point'"))
            if then_fail:
                raise RuntimeError("a refusal after the first statement")

    try:
        written = asyncio.create_task(point_write(then_fail=True))
        while len(ticks) < 10:  # the loop serves on while the write waits for the lock
            await asyncio.sleep(0.01)
            assert not written.done(), written
        await asyncio.get_running_loop().run_in_executor(None, lambda: other.execute("COMMIT"))
        with pytest.raises(RuntimeError):
            await written
        await point_write()  # the lock free: at once
    finally:
        ticker.cancel()
        other.close()
    assert await schema_seen(store) == f"{SCHEMA_HEAD}-other-point"


async def test_a_prepared_point_read_that_meets_a_lock_waits_for_it_off_the_event_loop(
        store: Store, tmp_path: Path) -> None:
    from sqlalchemy import String, bindparam, column, select, table

    from seattui.portal.store.point import PointQuery

    version = table("alembic_version", column("version_num", String))
    query = PointQuery(select(version.c.version_num).where(version.c.version_num == bindparam("wanted")))
    await store.dispose()
    locker = exclusive_lock(tmp_path / "portal.db")
    ticks: list[int] = []
    ticker = asyncio.create_task(ticking(ticks))

    async def prepared_read() -> list[object]:
        async with store.point_read() as conn:
            return [tuple(row) for row in await query.all(conn, {"wanted": SCHEMA_HEAD})]

    try:
        read = asyncio.create_task(prepared_read())
        while len(ticks) < 10:
            await asyncio.sleep(0.01)
            assert not read.done(), read
        await asyncio.get_running_loop().run_in_executor(None, locker.close)
        assert await read == [(SCHEMA_HEAD,)]
    finally:
        ticker.cancel()
