"""The store: one async engine, transactions that serialize writers, migrations on start.

The same code runs on SQLite (WAL, one file) and PostgreSQL (several portal instances).
Writers are serialized where it matters: on SQLite every write transaction takes the write
lock up front (BEGIN IMMEDIATE), on PostgreSQL services lock the organization's row.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from seattui.portal.store.point import POINT_CONNECTION, pool_connection
from seattui.portal.store.sqlite_driver import begin, engine_url, inline_url
from seattui.portal.store.tables import metadata

__all__ = ["DatabaseUnavailable", "DatabaseUrlError", "Readiness", "SchemaTooNew", "Store", "database_url", "metadata"]

# The newest migration; tests/test_store.py checks it against the migrations folder.
SCHEMA_HEAD = "0029"

_WRITE = "seattui_write"
_IDLE_POINT_CONNECTIONS = 16
# PostgreSQL's point-read connections, besides the main pool's 20 (40 at most): two instances
# stay within the server's 100 connections (its default max_connections) at 32 requests each.
_POSTGRES_POINT_CONNECTIONS = 8
_MIGRATION_LOCK = 7_302_025  # any constant shared by every portal instance


async def _open(connection: AsyncConnection) -> bool:
    """Whether a kept PostgreSQL connection is still open: asyncpg sees the server close it."""
    return not (await pool_connection(connection)).driver_connection.is_closed()


def _replace_closed(engine: AsyncEngine) -> None:
    """A PostgreSQL connection the server closed (a restart, an idle timeout) is replaced as it
    leaves the pool: asyncpg has seen the socket close. SQLAlchemy's pre-ping asked the server
    instead, a round trip more for every transaction (a tenth of an activation's time)."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.driver_connection is not None and record.driver_connection.is_closed():
            raise DisconnectionError("PostgreSQL closed this connection")


class DatabaseUrlError(ValueError):
    pass


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer seattui than this one."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or refuses this portal; the message says what to check."""


def shown_url(url: str) -> str:
    """A database URL fit for a message or a log line: without its password or driver name."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def unavailable(error: BaseException, url: str) -> DatabaseUnavailable:
    """One line saying why a database did not answer, from the driver's own words."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    words = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    where = shown_url(url)
    if isinstance(cause, OSError) or "connect" in words.lower():
        return DatabaseUnavailable(
            f"Cannot reach the database {where}: {words}. Check that the server runs and that the URL's "
            "host, port and database are right.")
    return DatabaseUnavailable(f"The database {where} refused the portal: {words}.")


class Readiness(NamedTuple):
    """Whether this portal can serve the database: its schema version and what is missing."""

    schema: str | None
    missing_tables: list[str]

    @property
    def ready(self) -> bool:
        return self.schema == SCHEMA_HEAD and not self.missing_tables

    def problem(self) -> str:
        if self.schema != SCHEMA_HEAD:
            return (f"The database's schema is at migration {self.schema or 'none'}, not {SCHEMA_HEAD}; "
                    "the portal migrates it when it starts.")
        return f"The database lacks the tables {', '.join(self.missing_tables)}; restore it from a backup."


def database_url(text_or_path: str | Path) -> str:
    """A SQLAlchemy async URL from what a person types: a URL or a plain SQLite file path."""
    value = str(text_or_path).strip()
    if not value:
        raise DatabaseUrlError("Give a database: a SQLite file path or a postgresql:// URL.")
    if "://" not in value:
        return f"sqlite+aiosqlite:///{Path(value).expanduser().resolve()}"
    scheme, rest = value.split("://", 1)
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }.get(scheme)
    if driver is None:
        raise DatabaseUrlError(
            f"Unsupported database {scheme!r}: use a SQLite file path, sqlite:///PATH "
            "or postgresql://USER@HOST/DB."
        )
    return f"{driver}://{rest}"


class Store:
    def __init__(self, url: str | Path, *, echo: bool = False) -> None:
        self.url = database_url(url)
        try:
            make_url(self.url)
        except (ArgumentError, ValueError):
            raise DatabaseUrlError(
                f"{shown_url(self.url)} is not a database URL: write sqlite:///PATH or "
                "postgresql://USER:PASSWORD@HOST:PORT/DATABASE.") from None
        options: dict[str, Any] = {"echo": echo}
        # Connections beyond pool_size are closed when given back, and opening one costs far more
        # than a request (a thread and its pragmas on SQLite, a login on PostgreSQL): the pool
        # keeps as many as 32 requests at once use.
        if self.url.startswith("postgresql"):
            options |= {"pool_size": 20, "max_overflow": 20}
        else:
            options |= {"pool_size": 32, "max_overflow": 32, "connect_args": {"timeout": 30}}
        self.engine: AsyncEngine = create_async_engine(engine_url(self.url), **options)
        # How many connections the main pool may hold at once (the metrics' capacity).
        self.pool_capacity: int = options["pool_size"] + options["max_overflow"]
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._writers: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        # Point reads of a SQLite file run in the event loop's thread (point_read), on a pool
        # of their own, each statement its own snapshot as on PostgreSQL (no BEGIN or ROLLBACK:
        # SQLAlchemy's transaction around one read cost more than the read).
        self._point_engine: AsyncEngine | None = None
        self._point_idle: list[AsyncConnection] = []
        # PostgreSQL's point reads take turns for their engine's connections (made in the loop
        # that reads; a store serves one loop until disposed, as SQLAlchemy's engines do).
        self._point_turns: asyncio.Semaphore | None = None
        # Short writes of a SQLite file run in the event loop's thread too (point_write).
        self._point_write_engine: AsyncEngine | None = None
        if not self.is_sqlite:
            _replace_closed(self.engine)
            # Kept open between reads too, with no ping, BEGIN or COMMIT: a device's check was
            # four round trips besides its one query. Each statement is its own snapshot
            # (AUTOCOMMIT): a point read's few rows by key need no more. A kept connection the
            # server closed (a restart) is seen closed by asyncpg and replaced before it is used.
            # Their statements are planned once (a generic plan): a read by key plans the same for
            # every key, and PostgreSQL chose to plan the next licenses page anew on every request
            # (330 us of planning for 200 us of reading).
            self._point_engine = create_async_engine(
                engine_url(self.url), echo=echo, pool_size=_POSTGRES_POINT_CONNECTIONS, max_overflow=0,
                isolation_level="AUTOCOMMIT", execution_options={POINT_CONNECTION: True},
                connect_args={"server_settings": {"plan_cache_mode": "force_generic_plan"}})
        else:
            self._prepare_sqlite(self.engine, point=False)
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                self._point_engine = create_async_engine(
                    inline_url(self.url), echo=echo, pool_size=32, max_overflow=32, connect_args={"timeout": 30},
                    isolation_level="AUTOCOMMIT", execution_options={POINT_CONNECTION: True})
                self._prepare_sqlite(self._point_engine, point=True)
                # Writers take turns in this process (write), so one connection serves; a second
                # for the moment a discarded one is being replaced.
                self._point_write_engine = create_async_engine(
                    inline_url(self.url, writes=True), echo=echo, pool_size=1, max_overflow=1,
                    connect_args={"timeout": 30}, execution_options={_WRITE: True})
                self._prepare_sqlite(self._point_write_engine, point=False, inline=True)

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Each engine of the store: the main one, then point reads' and point writes' own."""
        return tuple(engine for engine in (self.engine, self._point_engine, self._point_write_engine)
                     if engine is not None)

    def _prepare_sqlite(self, engine: AsyncEngine, *, point: bool, inline: bool = False) -> None:
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event decide how each transaction starts.
            dbapi_connection.isolation_level = None
            if point:
                return  # a point-read connection: no lock to wait for, nothing to write (the driver's)
            cursor = dbapi_connection.cursor()
            if not inline:  # the main engine's connections set the file's journal once and for all
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            if not inline:  # an inline connection never waits in the loop (the driver's worker does)
                cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        if point:
            return

        @event.listens_for(sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            immediate = connection.get_execution_options().get(_WRITE, False)
            begin(connection, "BEGIN IMMEDIATE" if immediate else "BEGIN")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction: sees one consistent snapshot, blocks no writer. On
        PostgreSQL that is REPEATABLE READ: at its default, READ COMMITTED, each statement saw
        what was committed as it began, so a page's total could disagree with its rows. The
        level travels in the BEGIN itself (asyncpg): no round trip more."""
        async with self.engine.connect() as connection:
            if not self.is_sqlite:
                await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                yield connection

    @asynccontextmanager
    async def point_read(self) -> AsyncIterator[AsyncConnection]:
        """`read` for a few rows found by key (a device's licenses, a token's member, a
        balance), each statement its own snapshot (AUTOCOMMIT: no BEGIN or COMMIT to wait for):
        on a SQLite file its statements run in the event loop's own thread, without the trips
        to a connection's thread that cost more than the read (the hottest of them without
        SQLAlchemy's execution either, store/point.py); on PostgreSQL, on connections kept
        open. Never for a read whose length grows with the data (a page, an export):
        that would hold every other request."""
        if self._point_engine is None:
            async with self.read() as connection:
                yield connection
            return
        # One context manager, not one inside another: each cost a few percent of a balance.
        turns = None if self.is_sqlite else self._point_turns_now()
        if turns is not None:
            await turns.acquire()
        try:
            connection = await self._kept_point_connection(self._point_engine)
            try:
                yield connection  # its first statement begins the transaction (SQLAlchemy's autobegin)
                if connection.in_transaction():
                    await connection.rollback()  # for a read, the same as a commit
            except BaseException:
                # Closing never waits here (the rollback runs inline), so a cancelled request closes too.
                await connection.close()
                raise
            if len(self._point_idle) < _IDLE_POINT_CONNECTIONS:
                self._point_idle.append(connection)
            else:
                await connection.close()
        finally:
            if turns is not None:
                turns.release()

    def _point_turns_now(self) -> asyncio.Semaphore:
        """On PostgreSQL, the turns for the point reads' connections: a read waiting for one
        in the pool would wait for ever, as the kept ones are never given back to it."""
        if self._point_turns is None:
            self._point_turns = asyncio.Semaphore(_POSTGRES_POINT_CONNECTIONS)
        return self._point_turns

    async def _kept_point_connection(self, engine: AsyncEngine) -> AsyncConnection:
        # Connections are kept open between reads: taking one from the engine's pool and giving
        # it back cost more than the read (pool events, a Connection, SQLAlchemy's close in a
        # task of its own).
        while self._point_idle:
            kept = self._point_idle.pop()
            if self.is_sqlite or await _open(kept):
                return kept
            await kept.invalidate()
        return await engine.connect()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed whole when the block ends, rolled back on error."""
        if not self.is_sqlite:
            async with self._write() as connection:
                yield connection
            return
        # SQLite: this process's writers take turns here, first come first served, instead of
        # in SQLite's busy handler, which sleeps up to 100 ms a try (32 activations at once had
        # a p99 of 3 s). Another process's writers still meet them at the file's lock.
        async with self._writers_here():
            async with self._write() as connection:
                yield connection

    @asynccontextmanager
    async def point_write(self) -> AsyncIterator[AsyncConnection]:
        """`write` for a change of a few rows by key, in a few statements (a group of device
        activations): on a SQLite file its statements run in the event loop's own thread
        (sqlite_driver.InlineConnection), taking the same turn as every writer of this process.
        Never for a change whose length grows with the data (a bulk move, an import): that
        would hold every other request."""
        if self._point_write_engine is None:
            async with self.write() as connection:
                yield connection
            return
        async with self._writers_here():
            async with self._point_write_engine.connect() as connection, connection.begin():
                yield connection

    def _writers_here(self) -> asyncio.Lock:
        """The turn of this event loop's writers (a store used from another loop gets its own)."""
        loop = asyncio.get_running_loop()
        if self._writers is None or self._writers[0] is not loop:
            self._writers = (loop, asyncio.Lock())
        return self._writers[1]

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            await connection.execution_options(**{_WRITE: True})
            async with connection.begin():
                yield connection

    async def schema_version(self) -> str | None:
        async with self.read() as connection:
            if not await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
                return None
            return await connection.scalar(text("SELECT version_num FROM alembic_version"))

    async def readiness(self) -> Readiness:
        """The schema version and the portal's tables the database lacks (one round trip each)."""
        async with self.read() as connection:
            present = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            schema = None
            if "alembic_version" in present:
                schema = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        return Readiness(schema, sorted(set(metadata.tables) - present))

    async def migrate(self) -> None:
        """Bring the schema to the newest migration; safe when several instances start at once.

        A database already at the newest migration is left alone without loading Alembic,
        which keeps the embedded portal's start quick. A database that cannot be reached
        raises DatabaseUnavailable, one that a newer seattui migrated SchemaTooNew.
        """
        try:
            await self._migrate()
        except (DBAPIError, OSError) as error:
            raise unavailable(error, self.url) from error

    async def _migrate(self) -> None:
        if await self.schema_version() == SCHEMA_HEAD:
            return
        from seattui.portal.store.migrate import known_revision, upgrade_to_head

        version = await self.schema_version()
        if version is not None and not known_revision(version):
            raise SchemaTooNew(
                f"The database's schema is at migration {version}, newer than this seattui knows "
                f"(its newest is {SCHEMA_HEAD}): upgrade seattui, or point it at another database."
            )
        async with self.write() as connection:
            if not self.is_sqlite:
                await connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
            await connection.run_sync(upgrade_to_head)
        await self.analyze()

    async def analyze(self) -> None:
        """Fresh planner statistics, after a migration or a bulk write. PostgreSQL without them
        guesses: a bulk-loaded database planned the first licenses page as a nested loop, 305 ms
        instead of 1.5 ms. (SQLite's plans here come from its indexes; tests/test_license_store.py
        holds them.)"""
        if self.is_sqlite:
            return
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))

    async def dispose(self) -> None:
        if self._point_write_engine is not None:
            await self._point_write_engine.dispose()
        if self._point_engine is not None:
            idle, self._point_idle = self._point_idle, []
            for connection in idle:
                await connection.close()
            await self._point_engine.dispose()
            self._point_turns = None  # a store disposed may serve another event loop
        await self.engine.dispose()
