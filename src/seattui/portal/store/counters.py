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

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from seattui.portal.store import Store
from seattui.portal.store.sqlite_driver import engine_url
from seattui.portal.store.tables import rate_counters


class CallCounter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._sidecar: AsyncEngine | None = None
        self._over: dict[str, datetime] = {}  # bucket -> the window it is known to be over in
        self._swept: datetime | None = None

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
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        async with self._sidecar.begin() as conn:
            await conn.run_sync(lambda sync: rate_counters.create(sync, checkfirst=True))

    async def close(self) -> None:
        if self._sidecar is not None:
            await self._sidecar.dispose()

    def known_over(self, buckets: Iterable[str], start: datetime) -> bool:
        return any(self._over.get(bucket) == start for bucket in buckets)

    async def hit(self, limits: Mapping[str, int], start: datetime, *, keep_after: datetime) -> bool:
        """Count one call in each bucket's window starting at `start`; whether every bucket is
        still within its limit. Windows before `keep_after` are swept now and then."""
        if self.known_over(limits, start):
            return False
        buckets = list(limits)
        if self._sidecar is not None:
            async with self._sidecar.begin() as conn:
                hits = await self._count(conn, buckets, start, keep_after)
        else:
            async with self._store.write() as conn:
                hits = await self._count(conn, buckets, start, keep_after)
        within = True
        for bucket, count in zip(buckets, hits, strict=True):
            if count > limits[bucket]:
                self._over[bucket] = start
                within = False
        if len(self._over) > 10_000:  # forget windows gone by
            self._over = {bucket: window for bucket, window in self._over.items() if window == start}
        return within

    async def _count(self, conn: AsyncConnection, buckets: Sequence[str], start: datetime,
                     keep_after: datetime) -> list[int]:
        dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
        hits = []
        for bucket in buckets:
            statement = dialect.insert(rate_counters).values(bucket=bucket[:200], window_start=start, hits=1)
            statement = statement.on_conflict_do_update(
                index_elements=[rate_counters.c.bucket, rate_counters.c.window_start],
                set_={"hits": rate_counters.c.hits + 1},
            ).returning(rate_counters.c.hits)
            hits.append(int((await conn.execute(statement)).scalar_one()))
        if self._swept != start:
            # Once per window per instance: old windows go (the index on window_start keeps it cheap).
            await conn.execute(delete(rate_counters).where(rate_counters.c.window_start < keep_after))
            self._swept = start
        return hits
