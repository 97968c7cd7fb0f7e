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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from seattui.portal.store import Store
from seattui.portal.store.sqlite_driver import begin, engine_url
from seattui.portal.store.tables import rate_counters
from seattui.portal.store.together import Together


class CallCounter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._sidecar: AsyncEngine | None = None
        self._over: dict[str, datetime] = {}  # bucket -> the window it is known to be over in
        self._swept: datetime | None = None
        self._counted: Together[_Call, bool] = Together(self._count_group, _GROUP)

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
        url = f"sqlite+aiosqlite:///{path}" if path else "sqlite+aiosqlite://"
        self._sidecar = create_async_engine(engine_url(url), connect_args={"timeout": 30})

        @event.listens_for(self._sidecar.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")  # counts may be lost in a crash, never the data
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(self._sidecar.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            begin(connection, "BEGIN IMMEDIATE")

        async with self._sidecar.begin() as conn:
            await conn.run_sync(lambda sync: rate_counters.create(sync, checkfirst=True))

    async def close(self) -> None:
        if self._sidecar is not None:
            await self._sidecar.dispose()

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
        if self.known_over(limits, start):
            return False
        return await self._counted(_Call({bucket[:200]: limit for bucket, limit in limits.items()}, start, keep_after))

    async def _count_group(self, calls: list[_Call]) -> list[bool | Exception]:
        if self._sidecar is not None:
            async with self._sidecar.begin() as conn:
                within: list[bool | Exception] = [*await self._count(conn, calls)]
        else:
            async with self._store.write() as conn:
                within = [*await self._count(conn, calls)]
        if len(self._over) > 10_000:  # forget windows gone by
            newest = max(self._over.values())
            self._over = {bucket: window for bucket, window in self._over.items() if window == newest}
        return within

    async def _count(self, conn: AsyncConnection, calls: list[_Call]) -> list[bool]:
        """One upsert of each window's buckets, adding all their calls; each call's own count is
        its place among them, in the order they came."""
        within = [True] * len(calls)
        for start in sorted({call.start for call in calls}):
            added: dict[str, int] = {}
            for call in calls:
                if call.start == start:
                    for bucket in call.limits:
                        added[bucket] = added.get(bucket, 0) + 1
            # Buckets in one order everywhere, so two instances' upserts never lock in a cycle.
            rows = [{"bucket": bucket, "window_start": start, "hits": n} for bucket, n in sorted(added.items())]
            totals = {row.bucket: int(row.hits) for row in await conn.execute(_UPSERT[conn.dialect.name], rows)}
            counted = {bucket: totals[bucket] - n for bucket, n in added.items()}  # before this batch
            for index, call in enumerate(calls):
                if call.start != start:
                    continue
                for bucket, limit in call.limits.items():
                    counted[bucket] += 1
                    if counted[bucket] > limit:
                        within[index] = False
                        self._over[bucket] = start
            keep_after = max(call.keep_after for call in calls if call.start == start)
            if self._swept != start:
                # Once per window per instance: old windows go (the index on window_start keeps it cheap).
                await conn.execute(delete(rate_counters).where(rate_counters.c.window_start < keep_after))
                self._swept = start
        return within


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


@dataclass
class _Call:
    limits: dict[str, int]  # bucket -> its limit
    start: datetime
    keep_after: datetime
