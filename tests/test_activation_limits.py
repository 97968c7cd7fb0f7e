"""Counting device activation calls costs the store's writers nothing: on SQLite, refused and
repeated calls (unknown keys, the limit reached, a machine asking again) take no write
transaction of the portal's database, whose write lock holds every owner's change up; the
limit still holds across portal instances (tests/test_api_activation.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from seattui.client import PortalClient
from seattui.domain.errors import RateLimited, UnknownKey
from seattui.domain.licensing import ActivationRequest, DeviceRequest
from seattui.portal.app import create_app
from seattui.portal.store.counters import CallCounter

import harness as test_harness
from harness import PortalHarness, running_portal
from license_setup import a_license


@contextmanager
def write_transactions(harness: PortalHarness) -> Iterator[list[str]]:
    """The write transactions (BEGIN IMMEDIATE) begun on the portal's own SQLite file meanwhile
    (the driver sends the BEGIN with the transaction's first statement)."""
    seen: list[str] = []

    def record(conn: Any) -> None:
        if conn.get_execution_options().get("seattui_write"):
            seen.append("BEGIN IMMEDIATE")

    engines = [engine.sync_engine for engine in harness.portal.store.engines]  # point_write's too
    for engine in engines:
        event.listen(engine, "begin", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "begin", record)


@contextmanager
def writes_anywhere() -> Iterator[list[str]]:
    """The statements that change a table, on any database meanwhile (the portal's and the
    counters' file beside it), and the portal store's write transactions."""
    seen: list[str] = []

    def record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            seen.append(statement)

    def begun(conn: Any) -> None:
        if conn.get_execution_options().get("seattui_write"):
            seen.append("a write transaction")

    event.listen(Engine, "before_cursor_execute", record)
    event.listen(Engine, "begin", begun)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        event.remove(Engine, "begin", begun)


def machine(key: str) -> ActivationRequest:
    return ActivationRequest(key=key, product_id="remotedesk", fingerprint="machine-pc-1-fp", hostname="pc-1")


async def test_refused_and_repeated_calls_take_no_write_lock_of_the_portal(sqlite_url: str) -> None:
    async with running_portal(sqlite_url, activation_limit=7) as harness:
        license = await a_license(harness, quantity=1)
        software = harness.client()
        with write_transactions(harness) as writes:
            await software.activate(machine(license.key))
        assert len(writes) == 1  # the one activation that changes something writes, once

        with write_transactions(harness) as writes:
            await software.activate(machine(license.key))  # again from the same machine
            await software.check_activation(DeviceRequest(key=license.key, product_id="remotedesk",
                                                          fingerprint="machine-pc-1-fp"))
            await software.deactivate(DeviceRequest(key=license.key, product_id="remotedesk",
                                                    fingerprint="machine-pc-2-fp"))  # holds nothing
            for n in range(3):
                with pytest.raises(UnknownKey):
                    await software.activate(machine(f"AAAA-AAAA-AAAA-AAA{n}"))
            with pytest.raises(RateLimited):
                await software.activate(machine("AAAA-AAAA-AAAA-AAA9"))
        assert writes == []
    assert CallCounter.sidecar_path(harness.portal.store) is not None
    assert CallCounter.sidecar_path(harness.portal.store).exists()  # type: ignore[union-attr]


async def test_checks_answered_or_refused_write_nothing_on_their_way(database_url: str) -> None:
    # Shared in the background only after the test: any write seen is on the checks' own path.
    async with running_portal(database_url, activation_limit=7, activation_check_share=timedelta(hours=1)) as harness:
        license = await a_license(harness, quantity=1)
        software = harness.client()
        await software.activate(machine(license.key))
        asking = DeviceRequest(key=license.key, product_id="remotedesk", fingerprint="machine-pc-1-fp")
        with writes_anywhere() as writes:
            for _ in range(6):
                assert (await software.check_activation(asking)).activated_here
            for _ in range(3):
                with pytest.raises(RateLimited):  # the key's 8th call on
                    await software.check_activation(asking)
        assert writes == []


async def test_checks_go_on_while_their_counts_cannot_be_shared_and_none_is_lost(
        database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    async with running_portal(database_url, activation_limit=5,
                              activation_check_share=timedelta(milliseconds=10)) as harness:
        license = await a_license(harness, quantity=1)
        software = harness.client()
        asking = DeviceRequest(key=license.key, product_id="remotedesk", fingerprint="machine-pc-1-fp")
        caplog.set_level(logging.INFO, logger="seattui.portal.limits")
        counter = harness.portal.calls
        count = counter._count
        tries: list[int] = []

        async def away(*_: Any) -> Any:  # the counters' database is away
            tries.append(1)
            raise ConnectionRefusedError("the database is away")

        monkeypatch.setattr(counter, "_count", away)
        for _ in range(3):
            assert not (await software.check_activation(asking)).activated_here
        await until(lambda: len(tries) >= 5)
        failures = [record for record in caplog.records if record.name == "seattui.portal.limits"]
        assert [record.levelname for record in failures] == ["WARNING"]  # once, not every tick
        monkeypatch.setattr(counter, "_count", count)
        await until(lambda: any("shared again" in record.getMessage() for record in caplog.records))
        other = create_app(test_harness.test_settings(database_url, harness.clock, activation_limit=5,
                                                      activation_check_share=timedelta(0)))
        async with other.router.lifespan_context(other):
            elsewhere = PortalClient(transport=httpx.ASGITransport(app=other), retries=0)
            for _ in range(2):  # the key's 4th and 5th calls: the three before were kept
                await elsewhere.check_activation(asking)
            with pytest.raises(RateLimited):
                await elsewhere.check_activation(asking)
            await elsewhere.aclose()


async def test_the_embedded_portal_shares_its_checks_as_it_closes(sqlite_url: str) -> None:
    # The embedded portal cancels its tasks before it stops: the last share must happen anyway.
    from seattui.wiring import EmbeddedConnector

    async with running_portal(sqlite_url, activation_limit=4, activation_check_share=timedelta(0)) as harness:
        license = await a_license(harness, quantity=1)
        asking = DeviceRequest(key=license.key, product_id="remotedesk", fingerprint="machine-pc-1-fp")
        embedded = EmbeddedConnector(sqlite_url, activation_limit=4, activation_check_share=timedelta(hours=1),
                                     billing_check_every=None, argon2_time_cost=1, argon2_memory_kib=64,
                                     clock=harness.clock)
        software = await embedded.open(None)
        for _ in range(3):
            assert not (await software.check_activation(asking)).activated_here
        await software.aclose()
        await embedded.close()
        here = harness.client()
        await here.activate(machine(license.key))  # the key's 4th call
        with pytest.raises(RateLimited):
            await here.check_activation(asking)


async def until(condition: Any, seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "never came"
        await asyncio.sleep(0.01)


async def test_calls_at_the_same_moment_are_each_counted(database_url: str) -> None:
    # Calls arriving together are counted in one write; each must still take its own place in
    # the count, so exactly the limit's number are answered and the rest refused.
    async with running_portal(database_url, activation_limit=7) as harness:
        license = await a_license(harness, quantity=1)
        software = harness.client()
        asking = DeviceRequest(key=license.key, product_id="remotedesk", fingerprint="machine-pc-1-fp")
        results = await asyncio.gather(*(software.check_activation(asking) for _ in range(12)),
                                       return_exceptions=True)
        assert sum(isinstance(result, RateLimited) for result in results) == 5
        assert sum(not isinstance(result, BaseException) for result in results) == 7


async def test_old_windows_are_swept_a_few_thousand_rows_a_count(database_url: str) -> None:
    """A window gone by is deleted as calls of a new one are counted, 2,000 of its buckets a
    count (on a SQLite file each count runs in the event loop's thread), until none is left."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from seattui.portal.store import Store
    from seattui.portal.store.tables import rate_counters

    store = Store(database_url)
    counter = CallCounter(store)
    await counter.start()
    old, new = datetime(2026, 12, 1, 9, 0, tzinfo=UTC), datetime(2026, 12, 1, 9, 1, tzinfo=UTC)

    async def left_in(window: datetime) -> int:
        async with counter._writing() as conn:
            return int(await conn.scalar(select(func.count()).select_from(rate_counters)
                                         .where(rate_counters.c.window_start == window)) or 0)

    try:
        assert await counter.hit({f"key:{n}": 10 for n in range(2_500)}, old, keep_after=old)
        assert await left_in(old) == 2_500
        for left in (500, 0, 0):
            assert await counter.hit({"key:0": 10}, new, keep_after=new)
            assert await left_in(old) == left
        assert await left_in(new) == 1
    finally:
        await counter.close()
        await store.dispose()
