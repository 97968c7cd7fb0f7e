"""The few statements every device and terminal request runs (a device's licenses, a token's
member, a balance), prepared once and run on Store.point_read's connections without
SQLAlchemy's execution around them.

SQLite answers one of these in about 10 us; SQLAlchemy's execution of the same compiled
statement (its context, cursor, result and the greenlet it runs in) took 40 us more, a sixth of
a device's check. Here the statement is compiled by SQLAlchemy once per dialect, its parameters
and columns converted by the types' own processors (so a row holds what SQLAlchemy's would:
dates, UTC datetimes), and its rows come back as named tuples with the same fields: on a SQLite
file from sqlite3 in the event loop's thread, on PostgreSQL from asyncpg's fetch on the kept
connection. On any other connection (a database in memory, a read or write transaction) it is
SQLAlchemy's execute, unchanged. tests/test_sqlite_driver.py holds the two equal on both stores.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from seattui.portal.store.sqlite_driver import InlineConnection

Processor = Callable[[Any], Any] | None
# The execution option that marks a point read's connection (Store.point_read's engines).
POINT_CONNECTION = "seattui_point"


class _Prepared:
    __slots__ = ("sql", "names", "binds", "fixed", "results", "row")

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None:
            raise ValueError("a prepared point read needs a positional paramstyle (SQLite's, asyncpg's)")
        self.sql = compiled.string
        if "POSTCOMPILE" in self.sql or any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a prepared point read takes single values, bound as they are")
        self.names: tuple[str, ...] = tuple(compiled.positiontup)
        # The statement's own values (a LIMIT's), for the names a caller does not give.
        self.fixed = {name: compiled.binds[name].effective_value for name in self.names
                      if not compiled.binds[name].required}
        self.binds: tuple[Processor, ...] = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names)
        columns = list(statement.selected_columns)
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]
        self.results: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (index, process) for index, process in enumerate(processors) if process is not None)
        # (rename: a column that no name may hold, _sort_value's, is named by its place)
        self.row = collections.namedtuple(  # type: ignore[misc]
            "PointRow", [column.key for column in columns], rename=True)

    def parameters(self, given: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, process in zip(self.names, self.binds, strict=True):
            value = given[name] if name in given else self.fixed[name]
            values.append(value if process is None else process(value))
        return values

    def convert(self, raw: Sequence[Any]) -> Any:
        # Only the few columns a type converts (dates, times) are touched: a device's row has
        # thirty, and a generator over every one of them was a tenth of a check.
        return self.row._make(self.convert_values(raw))

    def convert_values(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not self.results:
            return tuple(raw)
        values = list(raw)
        for index, process in self.results:
            values[index] = process(values[index])
        return tuple(values)


async def pool_connection(conn: AsyncConnection) -> Any:
    """conn.get_raw_connection(), without starting a greenlet (and mapping a new frame stack
    for it) only to read the pool connection a connection in use holds already: a tenth of a
    balance's time."""
    sync = conn.sync_connection
    if sync is not None and not (sync.closed or sync.invalidated):
        return sync.connection
    return await conn.get_raw_connection()


class PointQuery:
    """A select by key, built once, for point reads (see the module's text)."""

    __slots__ = ("statement", "_prepared")

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._prepared: dict[str, _Prepared] = {}

    async def all(self, conn: AsyncConnection, parameters: Mapping[str, Any]) -> Sequence[Any]:
        return await self._rows(conn, parameters, named=True)

    async def tuples(self, conn: AsyncConnection, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """all()'s rows as plain tuples of the same values: a caller comparing whole rows
        (services/licenses.py's kept pages) does not pay for naming each one."""
        return await self._rows(conn, parameters, named=False)

    async def _rows(self, conn: AsyncConnection, parameters: Mapping[str, Any], *, named: bool) -> Any:
        raw = await pool_connection(conn)
        driver = raw.dbapi_connection
        if isinstance(driver, InlineConnection):
            prepared = self._prepared_for(conn.dialect)
            values = prepared.parameters(parameters)
            try:
                rows = await driver.rows(prepared.sql, values)
            except sqlite3.Error as error:  # as SQLAlchemy raises it, for the app's handlers
                raise DBAPIError.instance(prepared.sql, values, error, sqlite3.Error) from error
            convert = prepared.convert if named else prepared.convert_values
            return [convert(row) for row in rows]
        if conn.dialect.driver == "asyncpg" and conn.sync_connection.get_execution_options().get(POINT_CONNECTION):
            # A point read's own connection, in AUTOCOMMIT: asyncpg's fetch is the statement's
            # snapshot, as SQLAlchemy's execute there would be.
            return await self._asyncpg_rows(raw.driver_connection, conn.dialect, parameters, named)
        rows = (await conn.execute(self.statement, dict(parameters))).all()
        return rows if named else [tuple(row) for row in rows]

    async def _asyncpg_rows(self, connection: Any, dialect: Dialect, parameters: Mapping[str, Any],
                            named: bool) -> list[Any]:
        import asyncpg

        prepared = self._prepared_for(dialect)
        values = prepared.parameters(parameters)
        try:
            records = await connection.fetch(prepared.sql, *values)
        except (asyncpg.InterfaceError, OSError) as error:  # a connection closed or lost: 503
            raise OperationalError(prepared.sql, values, error) from error
        except asyncpg.PostgresError as error:
            raise DBAPIError(prepared.sql, values, error) from error
        convert = prepared.convert if named else prepared.convert_values
        return [convert(record) for record in records]

    def _prepared_for(self, dialect: Dialect) -> _Prepared:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            prepared = self._prepared[dialect.name] = _Prepared(self.statement, dialect)
        return prepared

    async def first(self, conn: AsyncConnection, parameters: Mapping[str, Any]) -> Any | None:
        rows = await self.all(conn, parameters)
        return rows[0] if rows else None
