"""Failed logins under a burst: however many wrong passwords arrive at once, through one
portal or several on the same database, at most the allowed number of them reach the slow
password check in a window, and a lock once set is never undone by a try that was already on
its way. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from seattui.client import PortalClient
from seattui.domain.errors import AccountLocked, InvalidCredentials, LoginThrottled, SeattuiError
from seattui.portal.runtime import Portal
from seattui.portal.store.tables import login_failures

from harness import PASSWORD, PortalHarness, running_portal

BURST = 40


class CheckCounter:
    """Counts the argon2 checks of the portals it watches (they run on worker threads)."""

    def __init__(self) -> None:
        self.checks = 0
        self._lock = threading.Lock()

    def watch(self, portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
        verify = portal.hasher._verify

        def counted(stored_hash: str | None, password: str) -> bool:
            with self._lock:
                self.checks += 1
            return verify(stored_hash, password)

        monkeypatch.setattr(portal.hasher, "_verify", counted)


async def burst(clients: list[PortalClient], login: str, count: int = BURST) -> list[BaseException]:
    """`count` wrong passwords at once, spread over the clients; what each one answered."""
    tries = [clients[n % len(clients)].login(login, f"wrong-{n}") for n in range(count)]
    answers = await asyncio.gather(*tries, return_exceptions=True)
    assert all(isinstance(answer, SeattuiError) for answer in answers), answers
    refusals = (InvalidCredentials, LoginThrottled, AccountLocked)
    # Never a 503 from two first failures inserting the same row, nor any other fault.
    assert all(isinstance(answer, refusals) for answer in answers), {type(a).__name__ for a in answers}
    return list(answers)


@asynccontextmanager
async def portals(harness: PortalHarness, instances: int) -> AsyncIterator[list[PortalClient]]:
    """Clients of `instances` portals on the harness's database (the harness's own first)."""
    if instances == 1:
        yield [harness.client() for _ in range(4)]
        return
    settings = harness.portal.settings
    overrides = {"login_throttle_after": settings.login_throttle_after, "login_lock_after": settings.login_lock_after}
    async with running_portal(settings.database_url, world=False, **overrides) as other:
        other.portal.settings.clock = harness.clock  # one time for both
        yield [harness.client(), harness.client(), other.client(), other.client()]


@pytest.mark.parametrize("instances", [1, 2])
async def test_a_burst_of_wrong_passwords_is_checked_at_most_lock_after_times(
    database_url: str, instances: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No slowing down before the lock, as in a burst: only the lock stands in the way.
    async with running_portal(database_url, login_throttle_after=10, login_lock_after=10) as harness:
        async with portals(harness, instances) as clients:
            counter = CheckCounter()
            counter.watch(harness.portal, monkeypatch)
            if instances == 2:
                counter.watch(_portal_of(clients[-1]), monkeypatch)

            answers = await burst(clients, "acme-owner")
            assert counter.checks == 10
            assert sum(isinstance(answer, AccountLocked) for answer in answers) >= BURST - 9

            # The second burst finds the login locked: not one more check, and no try that
            # was already on its way has restarted the count.
            await burst(clients, "acme-owner")
            assert counter.checks == 10
            with pytest.raises(AccountLocked):
                await clients[0].login("acme-owner", PASSWORD)
            assert counter.checks == 10


@pytest.mark.parametrize("instances", [1, 2])
async def test_slowing_down_and_locking_hold_under_bursts(
    harness: PortalHarness, instances: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = harness.portal.settings
    async with portals(harness, instances) as clients:
        counter = CheckCounter()
        counter.watch(harness.portal, monkeypatch)
        if instances == 2:
            counter.watch(_portal_of(clients[-1]), monkeypatch)

        # The first tries pass until the slowing down starts: then each wait lets one through.
        await burst(clients, "nobody-known")
        assert counter.checks == settings.login_throttle_after
        for _ in range(settings.login_lock_after):
            harness.clock.advance(seconds=61)
            await burst(clients, "nobody-known", count=8)
        assert counter.checks == settings.login_lock_after
        answers = await burst(clients, "nobody-known", count=8)
        assert all(isinstance(answer, AccountLocked) for answer in answers)


async def test_a_right_password_on_its_way_does_not_lift_a_lock_set_meanwhile(harness: PortalHarness) -> None:
    """A login whose password was right gets its session, but the lock that another try set
    while it was being checked stays: the tries behind it get no fresh count."""
    lock_after = harness.portal.settings.login_lock_after
    client = harness.client()
    for _ in range(lock_after - 2):
        with pytest.raises((InvalidCredentials, LoginThrottled)):
            await client.login("acme-admin", "bad guess")
        harness.clock.advance(seconds=61)
    original = harness.portal.hasher.verify
    release = asyncio.Event()

    async def held_verify(stored_hash: str | None, password: str) -> bool:
        if password == PASSWORD:
            await release.wait()
        return await original(stored_hash, password)

    harness.portal.hasher.verify = held_verify  # type: ignore[method-assign]
    right = asyncio.create_task(harness.client().login("acme-admin", PASSWORD))
    while await _failures(harness, "acme-admin") < lock_after - 1:
        await asyncio.sleep(0.01)
    harness.clock.advance(seconds=61)
    with pytest.raises(AccountLocked):  # the last allowed try, wrong: it locks the login
        await client.login("acme-admin", "bad guess")
    release.set()
    session = await right
    assert session.me.user.login == "acme-admin"
    with pytest.raises(AccountLocked):
        await client.login("acme-admin", PASSWORD)


async def _failures(harness: PortalHarness, login: str) -> int:
    async with harness.portal.store.read() as conn:
        counted = await conn.scalar(select(login_failures.c.failures).where(login_failures.c.login == login))
    return int(counted or 0)


def _portal_of(client: PortalClient) -> Portal:
    return client._http._transport.app.state.portal  # type: ignore[attr-defined]
