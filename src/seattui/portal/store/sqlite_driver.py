"""SQLAlchemy's aiosqlite dialect with one trip to the connection's thread per statement.

aiosqlite runs each call of the sqlite3 connection on a thread of its own, and SQLAlchemy's
adapter makes four calls per statement (open a cursor, execute, fetch all, close), each a
trip to that thread and back to the event loop. A point query takes 0.05 ms in SQLite; the
four trips took ten times that, and more when 32 requests wait for the GIL at once. Here a
statement is one function run on the thread: it opens the cursor, executes, fetches every row
and closes, and the adapter answers from what it brought back. Transactions, isolation and
errors are aiosqlite's and SQLAlchemy's own; only the cursor changes.

`engine_url(url)` names this dialect in place of `sqlite+aiosqlite`.

`inline_url(url)` names the other one here, for point reads and short writes: its statements
run in the event loop's own thread, with no trip at all (see InlineConnection).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import make_url
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "sqlite+seattui"


def _statement(connection: sqlite3.Connection, begin: str | None, operation: str, parameters: Any,
               many: bool) -> tuple[Any, ...]:
    """Runs on the connection's thread: the transaction's BEGIN when this is its first statement,
    then the whole statement, its rows and what it reports."""
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        return description, cursor.fetchall() if description else [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")
    # Nothing stays open on the thread: closing is forgetting the rows.
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._adapt_connection
        if operation[:9].upper().startswith(("BEGIN", "SAVEPOINT")):  # SAVEPOINT alone begins one too
            connection._in_transaction = True
        async with connection._execute_mutex:
            begin, connection._begin = connection._begin, None
            if begin is not None:
                connection._in_transaction = True
            thread = self._connection
            self._description, rows, self._rowcount, self._lastrowid = await thread._execute(
                _statement, thread._conn, begin, operation, parameters, many)
            self._rows = collections.deque(rows)

    def nextset(self) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Knows whether it began a transaction since its last commit or rollback. The connection
    runs in autocommit mode (the store says BEGIN itself), so a connection back in the pool
    after its transaction committed holds none: the pool's rollback on return would be one
    more trip to the thread per request for nothing, and is skipped then."""

    __slots__ = ("_begin", "_in_transaction")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._in_transaction = False
        self._begin: str | None = None  # begin_with_first_statement's, not yet run

    def begin_with_first_statement(self, begin: str) -> None:
        """BEGIN (or BEGIN IMMEDIATE) on the same trip as the transaction's first statement:
        nothing else runs on this connection in between, so it is the same transaction."""
        self._begin = begin

    def commit(self) -> None:
        if self._begin is not None:  # a transaction that ran no statement: nothing to end
            self._begin = None
            return
        super().commit()
        self._in_transaction = False  # not when COMMIT failed (busy): the transaction is still open

    def rollback(self) -> None:
        self._begin = None
        if self._in_transaction:
            super().rollback()
            self._in_transaction = False


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = "seattui"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register("sqlite.seattui", __name__, "OneTripDialect")


# -- point reads in the event loop's thread ------------------------------------------------------

INLINE_DRIVER = "sqlite+seattui_inline"
# Where an inline statement that meets a lock waits for it (rare: see InlineConnection).
_WAITERS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="sqlite-wait")


def _busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and (
        getattr(error, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _waiting(connection: sqlite3.Connection, wait_ms: int, begin: str | None, operation: Any, parameters: Any,
             many: bool) -> tuple[Any, ...]:
    """On a worker thread: the statement again (after its transaction's BEGIN IMMEDIATE, when
    that was what met the lock), now waiting for the lock as the store's other connections do,
    and the connection back to not waiting at all."""
    connection.execute(f"PRAGMA busy_timeout={wait_ms}")
    try:
        return _statement(connection, begin, operation, parameters, many)
    finally:
        connection.execute("PRAGMA busy_timeout=0")


async def _ran(result: tuple[Any, ...]) -> tuple[Any, ...]:
    return result


class InlineCursor(OneTripCursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            self._adapt_connection.run(self, operation, parameters, False)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            self._adapt_connection.run(self, operation, seq_of_parameters, True)
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class InlineConnection(AsyncAdapt_dbapi_connection):
    """A plain sqlite3 connection whose statements run in the event loop's own thread: a point
    read takes 20-50 us in SQLite, less than one trip to a connection's thread and back, and a
    group of activations' six statements took 1.8 ms of their thread's CPU but 18 ms on it:
    sqlite3 gives up the GIL for every row it steps, and waits to take it back from the busy
    loop.

    Nothing here may hold the loop: the connection never waits in SQLite's busy handler
    (busy_timeout 0). A statement that meets a lock (another process writing, a WAL recovery)
    is run again on a worker thread, which waits as long as the store's other connections
    would, while the loop serves on; a write transaction meets the file's lock only at its
    BEGIN IMMEDIATE, and this process's writers take turns before it (Store.write). A point
    read's connection is query_only. Only short reads and writes by key belong here
    (Store.point_read, Store.point_write): a long one would hold every other request."""

    __slots__ = ("_away", "_begin", "_in_transaction", "_wait_ms")
    _cursor_cls = InlineCursor

    def __init__(self, dbapi: Any, connection: sqlite3.Connection, wait_ms: int) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None
        self._in_transaction = False
        self._wait_ms = wait_ms
        self._away: concurrent.futures.Future[Any] | None = None  # a statement still on a worker thread

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection.isolation_level = value

    def create_function(self, *args: Any, **kw: Any) -> None:
        self._connection.create_function(*args, **kw)

    def begin_with_first_statement(self, begin: str) -> None:
        self._begin = begin

    def _here(self) -> sqlite3.Connection:
        if self._away is not None and not self._away.done():
            # A statement cancelled while it waited on a worker thread still runs there: touching
            # the connection now would wait for it in the loop. SQLAlchemy then discards it.
            raise sqlite3.OperationalError("the connection's last statement still waits for a lock")
        return self._connection

    def run(self, cursor: OneTripCursor, operation: Any, parameters: Any, many: bool) -> None:
        # Handed back through an await that never suspends: SQLAlchemy's async execute
        # requires one (it takes a statement that awaits nothing for a sync driver's).
        result = await_(_ran(self._at_once(operation, parameters, many)))
        if result is None:
            result = await_(self._wait_elsewhere(operation, parameters, many))
        cursor._description, rows, cursor._rowcount, cursor._lastrowid = result
        cursor._rows = collections.deque(rows)

    async def rows(self, operation: str, parameters: Sequence[Any]) -> list[Any]:
        """A statement's rows as sqlite3 gives them, without SQLAlchemy's execution around it
        (store/point.py's prepared point reads): 40 us a statement more than SQLite's 10."""
        result = self._at_once(operation, parameters, False)
        if result is None:
            result = await self._wait_elsewhere(operation, parameters, False)
        return result[1]  # type: ignore[no-any-return]

    def _at_once(self, operation: Any, parameters: Any, many: bool) -> tuple[Any, ...] | None:
        """The statement run here and now; None when it met a lock (then _wait_elsewhere)."""
        connection = self._here()
        try:
            if self._begin is not None:
                connection.execute(self._begin)  # a deferred one never waits, BEGIN IMMEDIATE may
                self._begin = None
                self._in_transaction = True
            elif operation[:9].upper().startswith(("BEGIN", "SAVEPOINT")):
                self._in_transaction = True
            return _statement(connection, None, operation, parameters, many)
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
            return None

    async def _wait_elsewhere(self, operation: Any, parameters: Any, many: bool) -> tuple[Any, ...]:
        begin, self._begin = self._begin, None  # when the BEGIN met the lock, it goes too
        if begin is not None:
            self._in_transaction = True
        away = _WAITERS.submit(_waiting, self._connection, self._wait_ms, begin, operation, parameters, many)
        self._away = away
        # Shielded: a cancelled request does not stop the statement on its thread (_here, close).
        return await asyncio.shield(asyncio.wrap_future(away))

    def commit(self) -> None:
        if self._begin is not None:
            self._begin = None
            return
        self._here().commit()
        self._in_transaction = False

    def rollback(self) -> None:
        self._begin = None
        if self._in_transaction:
            self._here().rollback()
            self._in_transaction = False

    def close(self) -> None:
        away, connection = self._away, self._connection
        if away is not None and not away.done():
            away.add_done_callback(lambda _: connection.close())
        else:
            connection.close()

    def terminate(self) -> None:  # what the pool calls for a connection it discards
        self.close()


class InlineDBAPI(OneTripDBAPI):
    def __init__(self, aiosqlite: Any, sqlite: Any, *, writes: bool) -> None:
        super().__init__(aiosqlite, sqlite)
        self.writes = writes

    def connect(self, *arg: Any, **kw: Any) -> InlineConnection:  # type: ignore[override]
        wait_ms = int(float(kw.pop("timeout", 5.0)) * 1000)
        kw.pop("async_creator_fn", None)
        kw |= {"timeout": 0, "check_same_thread": False, "isolation_level": None}
        # timeout=0: no busy handler; used from the loop's thread and, when it must wait, from a
        # worker thread (never both at once).
        connection = sqlite3.connect(*arg, **kw)
        if not self.writes:
            connection.execute("PRAGMA query_only=ON")
        return InlineConnection(self, connection, wait_ms)


class InlineReadDialect(OneTripDialect):
    driver = "seattui_inline"
    supports_statement_cache = True
    writes = False

    @classmethod
    def import_dbapi(cls) -> InlineDBAPI:
        return InlineDBAPI(__import__("aiosqlite"), __import__("sqlite3"), writes=cls.writes)


class InlineWriteDialect(InlineReadDialect):
    driver = "seattui_inline_write"
    supports_statement_cache = True
    writes = True


registry.register("sqlite.seattui_inline", __name__, "InlineReadDialect")
registry.register("sqlite.seattui_inline_write", __name__, "InlineWriteDialect")


def begin(connection: Any, statement: str) -> None:
    """Start a transaction from SQLAlchemy's "begin" event (the connection is in autocommit
    mode): with this driver on the trip of its first statement, otherwise at once."""
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, (OneTripConnection, InlineConnection)):
        dbapi_connection.begin_with_first_statement(statement)
    else:
        connection.exec_driver_sql(statement)


def inline_url(url: str, *, writes: bool = False) -> Any:
    """The URL of a file database's point-read engine, or its point-write engine (InlineConnection)."""
    return make_url(url).set(drivername=f"{INLINE_DRIVER}_write" if writes else INLINE_DRIVER)


def engine_url(url: str) -> Any:
    """The URL an engine is made with: a sqlite+aiosqlite URL through this dialect."""
    parsed = make_url(url)
    return parsed.set(drivername=DRIVER) if parsed.drivername == "sqlite+aiosqlite" else parsed
