"""The project's SQLite driver (store/sqlite_driver.py) when a request is cancelled mid-statement:
its connection is closed (no aiosqlite thread left behind, nothing logged as an error), and
the engine goes on serving. aiosqlite 0.21 has no `Connection.stop()`: SQLAlchemy then closes
the connection rather than force-stopping it."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

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
