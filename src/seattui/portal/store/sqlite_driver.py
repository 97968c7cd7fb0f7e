"""SQLAlchemy's aiosqlite dialect with one trip to the connection's thread per statement.

aiosqlite runs each call of the sqlite3 connection on a thread of its own, and SQLAlchemy's
adapter makes four calls per statement (open a cursor, execute, fetch all, close), each a
trip to that thread and back to the event loop. A point query takes 0.05 ms in SQLite; the
four trips took ten times that, and more when 32 requests wait for the GIL at once. Here a
statement is one function run on the thread: it opens the cursor, executes, fetches every row
and closes, and the adapter answers from what it brought back. Transactions, isolation and
errors are aiosqlite's and SQLAlchemy's own; only the cursor changes.

`engine_url(url)` names this dialect in place of `sqlite+aiosqlite`.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

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


def begin(connection: Any, statement: str) -> None:
    """Start a transaction from SQLAlchemy's "begin" event (the connection is in autocommit
    mode): with this driver on the trip of its first statement, otherwise at once."""
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, OneTripConnection):
        dbapi_connection.begin_with_first_statement(statement)
    else:
        connection.exec_driver_sql(statement)


def engine_url(url: str) -> Any:
    """The URL an engine is made with: a sqlite+aiosqlite URL through this dialect."""
    parsed = make_url(url)
    return parsed.set(drivername=DRIVER) if parsed.drivername == "sqlite+aiosqlite" else parsed
