"""Fixed-window call counters shared by every portal instance on one database, kept off the
store's write lock.

Device activation is public: anyone may call it with guessed keys, and each call is counted
before it is answered. On SQLite one write transaction at a time holds the whole file, so a
count per call in the portal's own file made every owner's change wait behind strangers'
guesses. There the counters live in a file of their own beside the database (its write lock
is taken by counting only), which every instance on the same file shares, so the limit holds
across them. On PostgreSQL a count is an upsert of one row of rate_counters, which locks that
row only. Each instance also remembers, per window, the buckets already over the limit and
refuses those calls without asking the database again.

A device's check is a read, and devices check far more often than they change anything: its
call is counted in the instance's memory (`hit_here`), decided from the totals last read back
plus the calls not yet shared, and `share` adds those to the shared counters now and then, in
one write, reading the totals back (other instances' counts included). Across instances a
check's limit can so be passed by the checks the instances admitted before each heard of the
others' (about one share interval's worth each).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, event, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from seattui.portal.store import Store
from seattui.portal.store.sqlite_driver import begin, engine_url, inline_url
from seattui.portal.store.tables import rate_counters
from seattui.portal.store.together import Together

log = logging.getLogger("seattui.portal.limits")

_Counts = dict[datetime, dict[str, int]]  # window start -> bucket -> calls
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def window_start(now: datetime, window: timedelta) -> datetime:
    """When the fixed window holding `now` started."""
    return _EPOCH + window * ((now - _EPOCH) // window)


class CallCounter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._sidecar: AsyncEngine | None = None
        self._over: dict[str, datetime] = {}  # bucket -> the window it is known to be over in
        self._swept: datetime | None = None
        self._counted: Together[_Call | _Share, bool] = Together(self._count_group, _GROUP)
        # Calls counted in memory (hit_here): the shared totals last read back, the calls on
        # their way to the store in a share, and those not shared yet.
        self._shared: _Counts = {}
        self._sharing: _Counts = {}
        self._unshared: _Counts = {}
        self._keep_after: dict[datetime, datetime] = {}  # window start -> the windows to sweep before it
        self._near: dict[datetime, set[str]] = {}  # window start -> buckets past half their limit here
        self._sharer: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._share_turn = asyncio.Lock()
        self._share_failing = False
        self._current: Callable[[], datetime] | None = None

    @staticmethod
    def sidecar_path(store: Store) -> Path | None:
        """Where a SQLite portal's counters live: portal.db -> portal.limits.db (None: in memory)."""
        database = store.engine.url.database
        if not database or database == ":memory:":
            return None
        path = Path(database)
        return path.with_name(f"{path.stem}.limits{path.suffix or '.db'}")

    async def start(self) -> None:
        if not self._store.is_sqlite:
            return
        path = self.sidecar_path(self._store)
        # A file's counts run in the event loop's thread (sqlite_driver.InlineConnection): a
        # group's upsert is a few rows by key, and its trips to a connection's thread took 12 ms
        # a group of activations, the longest step of an activation.
        url = f"sqlite+aiosqlite:///{path}" if path else "sqlite+aiosqlite://"
        self._sidecar = create_async_engine(inline_url(url, writes=True) if path else engine_url(url),
                                            connect_args={"timeout": 30})

        @event.listens_for(self._sidecar.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")  # another process may be setting the journal up
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")  # counts may be lost in a crash, never the data
            if path:  # then never waits in the loop: a statement that meets the lock waits elsewhere
                cursor.execute("PRAGMA busy_timeout=0")
            cursor.close()

        @event.listens_for(self._sidecar.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            begin(connection, "BEGIN IMMEDIATE")

        async with self._sidecar.begin() as conn:
            await conn.run_sync(lambda sync: rate_counters.create(sync, checkfirst=True))

    async def close(self) -> None:
        if self._sharer is not None:
            self._stopping.set()
            sharer, self._sharer = self._sharer, None
            try:
                await sharer  # its last share: the calls counted since the one before are not lost
            except asyncio.CancelledError:
                if not sharer.cancelled():  # this close is cancelled
                    raise
                await self._share_logged()  # the embedded portal cancels its tasks before closing
        if self._sidecar is not None:
            await self._sidecar.dispose()

    def share_every(self, interval: timedelta, current: Callable[[], datetime]) -> None:
        """Share the calls counted in memory every `interval` while the portal runs, and once
        more at close(); `current` says when the window now started (its totals are read back)."""
        self._current = current
        self._stopping = asyncio.Event()
        self._sharer = asyncio.create_task(self._keep_sharing(interval.total_seconds()), name="seattui-call-sharing")

    async def _keep_sharing(self, seconds: float) -> None:
        stopping = False
        while not stopping:
            try:
                stopping = await asyncio.wait_for(self._stopping.wait(), seconds)
            except TimeoutError:
                pass
            await self._share_logged()

    async def _share_logged(self) -> None:
        """A share that fails (the database away) keeps its calls for the next one; it is logged
        once, not every tick, until a share succeeds again."""
        try:
            await self.share()
        except Exception as error:
            if not self._share_failing:
                log.warning("Cannot share the device check counts (kept for the next try): %s", error)
            self._share_failing = True
        else:
            if self._share_failing:
                log.info("The device check counts are shared again.")
            self._share_failing = False

    def known_over(self, buckets: Iterable[str], start: datetime) -> bool:
        return any(self._over.get(bucket[:200]) == start for bucket in buckets)

    async def hit(self, limits: Mapping[str, int], start: datetime, *, keep_after: datetime) -> bool:
        """Count one call in each bucket's window starting at `start`; whether every bucket is
        still within its limit. Windows before `keep_after` are swept now and then.

        The calls that arrive while a count is being written are counted together in the next
        transaction, each given its own place in the count as if counted alone: the count is
        still in the shared store before any of them is answered, so the limits hold exactly
        across instances, but 32 calls at once cost one write instead of 32 waiting in turn
        for the lock (SQLite's busy handler sleeps up to 100 ms a try)."""
        return (await self.hit_each([limits], start, keep_after=keep_after))[0]

    async def hit_each(self, calls: list[Mapping[str, int]], start: datetime, *, keep_after: datetime) -> list[bool]:
        """hit() for several calls at once (each its buckets' limits), counted in one write."""
        known = [not self.known_over(limits, start) for limits in calls]
        counted = iter(await self._counted.each([
            _Call({bucket[:200]: limit for bucket, limit in limits.items()}, start, keep_after)
            for limits, unknown in zip(calls, known, strict=True) if unknown]))
        within = []
        for unknown in known:
            outcome = next(counted) if unknown else False
            if isinstance(outcome, Exception):  # the count could not be written
                raise outcome
            within.append(outcome)
        return within

    def hit_here(self, limits: Mapping[str, int], start: datetime, *, keep_after: datetime) -> bool:
        """Count one call in each bucket's window in this instance's memory, if every bucket is
        still within its limit by the shared totals last read and the calls not shared since;
        whether it is. A refused call is not counted (as one known over is not, by hit)."""
        if self.known_over(limits, start):
            return False
        buckets = [(bucket[:200], limit) for bucket, limit in limits.items()]
        shared, sharing = self._shared.get(start, {}), self._sharing.get(start, {})
        unshared = self._unshared.setdefault(start, {})
        near = []
        for bucket, limit in buckets:
            counted = shared.get(bucket, 0) + sharing.get(bucket, 0) + unshared.get(bucket, 0)
            if counted >= limit:
                self._over[bucket] = start
                return False
            if 2 * (counted + 1) >= limit:
                near.append(bucket)
        for bucket, _ in buckets:
            unshared[bucket] = unshared.get(bucket, 0) + 1
        if near:
            self._near.setdefault(start, set()).update(near)
        self._keep_after[start] = keep_after
        return True

    async def share(self) -> None:
        """Add the calls counted in memory to the shared counters, in one write with any counts
        waiting (hit), and read the totals back. On failure the calls wait for the next share."""
        async with self._share_turn:
            refresh = self._to_refresh()
            if not any(self._unshared.values()) and not refresh:
                self._unshared = {}
                return
            self._sharing, self._unshared = self._unshared, {}
            keep_after, self._keep_after = self._keep_after, {}
            try:
                await self._counted(_Share(self._sharing, keep_after, refresh))
            except BaseException:
                for start, counts in self._sharing.items():
                    waiting = self._unshared.setdefault(start, {})
                    for bucket, n in counts.items():
                        waiting[bucket] = waiting.get(bucket, 0) + n
                self._keep_after = keep_after | self._keep_after
                raise
            finally:
                self._sharing = {}

    def _to_refresh(self) -> dict[datetime, list[str]]:
        """The buckets of the window now past half their limit here that this share adds
        nothing to: read back too, so other instances' checks count here before the bucket's
        next call (only those near their limit matter, so few are read, at most _REFRESH)."""
        if self._current is None:
            return {}
        start = self._current()
        adding = self._unshared.get(start, {})
        buckets = [bucket for bucket in self._near.get(start, ()) if bucket not in adding]
        if len(buckets) > _REFRESH:
            known = self._shared.get(start, {})
            buckets = sorted(buckets, key=lambda bucket: -known.get(bucket, 0))[:_REFRESH]
        return {start: buckets} if buckets else {}

    async def _count_group(self, calls: list[_Call | _Share]) -> list[bool | Exception]:
        async with self._writing() as conn:
            within, totals = await self._count(conn, calls)
        # The totals as committed, of every bucket this instance counted in: a check counted in
        # memory is decided on them (with the calls not shared since).
        newest = max(totals, default=None)
        if newest is not None:
            self._shared = {start: counts for start, counts in self._shared.items() if start >= newest}
            self._near = {start: buckets for start, buckets in self._near.items() if start >= newest}
            for start, counts in totals.items():
                if start >= newest:
                    self._shared.setdefault(start, {}).update(counts)
        if len(self._over) > 10_000:  # forget windows gone by
            newest_over = max(self._over.values())
            self._over = {bucket: window for bucket, window in self._over.items() if window == newest_over}
        return [*within]

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        if self._sidecar is not None:
            async with self._sidecar.begin() as conn:
                yield conn
        else:
            async with self._store.write() as conn:
                yield conn

    async def _count(self, conn: AsyncConnection, calls: list[_Call | _Share]) -> tuple[list[bool], _Counts]:
        """One upsert of each window's buckets, adding all their calls (a share's first: they
        were answered before); each call's own count is its place among them, in the order
        they came. The totals after, by window."""
        within = [True] * len(calls)
        totals: _Counts = {}
        starts = {call.start for call in calls if isinstance(call, _Call)}
        starts |= {start for call in calls if isinstance(call, _Share) for start in [*call.counts, *call.refresh]}
        for start in sorted(starts):
            added: dict[str, int] = {}  # by the calls to decide
            shared: dict[str, int] = {}  # by shares
            for call in calls:
                if isinstance(call, _Share):
                    for bucket, n in call.counts.get(start, {}).items():
                        shared[bucket] = shared.get(bucket, 0) + n
                elif call.start == start:
                    for bucket in call.limits:
                        added[bucket] = added.get(bucket, 0) + 1
            hits = {bucket: added.get(bucket, 0) + shared.get(bucket, 0) for bucket in added.keys() | shared.keys()}
            # Buckets in one order everywhere, so two instances' upserts never lock in a cycle.
            rows = [{"bucket": bucket, "window_start": start, "hits": n} for bucket, n in sorted(hits.items())]
            now = totals[start] = {row.bucket: int(row.hits)
                                   for row in await conn.execute(_UPSERT[conn.dialect.name], rows)} if rows else {}
            refresh = sorted({bucket for call in calls if isinstance(call, _Share)
                              for bucket in call.refresh.get(start, ()) if bucket not in now})
            if refresh:
                now |= {row.bucket: int(row.hits) for row in await conn.execute(
                    select(rate_counters.c.bucket, rate_counters.c.hits).where(
                        rate_counters.c.window_start == start, rate_counters.c.bucket.in_(refresh)))}
            # Before these calls: the shared count, and the checks this instance admitted but has
            # not shared yet (or is sharing in another group).
            pending = [self._unshared.get(start, {})] + ([] if shared else [self._sharing.get(start, {})])
            counted = {bucket: now[bucket] - n + sum(counts.get(bucket, 0) for counts in pending)
                       for bucket, n in added.items()}
            for index, call in enumerate(calls):
                if isinstance(call, _Share) or call.start != start:
                    continue
                for bucket, limit in call.limits.items():
                    counted[bucket] += 1
                    if counted[bucket] > limit:
                        within[index] = False
                        self._over[bucket] = start
            sweeps = [call.keep_after for call in calls if isinstance(call, _Call) and call.start == start]
            sweeps += [call.keep_after[start] for call in calls if isinstance(call, _Share) and start in call.keep_after]
            if not sweeps:  # read back only
                continue
            keep_after = max(sweeps)
            if self._swept != start:
                # Once per window per instance, old windows go (the index on window_start finds
                # them), a few thousand rows a group: on a SQLite file this runs in the event
                # loop's thread, and a minute of a busy fleet's keys is tens of thousands of rows.
                gone = await conn.execute(_SWEEP, {"keep_after": keep_after})
                if gone.rowcount < _SWEEP_ROWS:
                    self._swept = start
        return within, totals


_SWEEP_ROWS = 2_000
_SWEEP = delete(rate_counters).where(tuple_(rate_counters.c.bucket, rate_counters.c.window_start).in_(
    select(rate_counters.c.bucket, rate_counters.c.window_start)
    .where(rate_counters.c.window_start < bindparam("keep_after")).limit(_SWEEP_ROWS)))


def _upsert(dialect: Any) -> Any:
    """Adds each row's hits to its bucket's window; the totals after. Built once, and sent as
    one statement of all the rows (SQLAlchemy's insertmanyvalues): a statement of N literal rows
    was compiled anew for every batch, which cost more than running it."""
    statement = dialect.insert(rate_counters)
    return statement.on_conflict_do_update(
        index_elements=[rate_counters.c.bucket, rate_counters.c.window_start],
        set_={"hits": rate_counters.c.hits + statement.excluded.hits},
    ).returning(rate_counters.c.bucket, rate_counters.c.hits)


_UPSERT = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}


# As many calls as one count's statement takes at once (the rest make the next group).
_GROUP = 1_000
# Buckets at most whose totals a share reads back without adding to them.
_REFRESH = 1_000


@dataclass
class _Call:
    limits: dict[str, int]  # bucket -> its limit
    start: datetime
    keep_after: datetime


@dataclass
class _Share:
    """Calls answered already (counted in memory), added to the shared counts."""
    counts: _Counts
    keep_after: dict[datetime, datetime] = field(default_factory=dict)  # window start -> sweep before
    refresh: dict[datetime, list[str]] = field(default_factory=dict)  # window start -> buckets to read back
