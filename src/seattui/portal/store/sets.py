"""`column IN (many values)` with the values bound as one parameter: a JSON array read by
json_each on SQLite, an array on PostgreSQL. A list of 20,000 ids then compiles and binds as
fast as a list of 2, with no chunking under SQLite's limit on bound variables.

On PostgreSQL, run statements that bind long lists inside `custom_plans`: a prepared statement
goes generic after five runs, and a generic plan assumes the array holds 10 values. Without
statistics (a freshly loaded table) it then scans and compares each row with every value:
25,000 ids against 25,000 seats took 6 s instead of 45 ms, and each further run was slower.
(Joining against `unnest($1)` instead plans no better without statistics: a nested loop over
both lists.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from sqlalchemy import BigInteger, String, any_, bindparam, column, false, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine


def among(conn: AsyncConnection, column: ColumnElement[Any], values: Collection[int] | Collection[str]) -> ColumnElement[bool]:
    listed = list(values)
    if not listed:
        # Nothing is among no values; PostgreSQL could not even type an empty array.
        return false()
    if conn.dialect.name == "postgresql":
        element = String() if listed and isinstance(listed[0], str) else BigInteger()
        return column == any_(bindparam(None, listed, type_=ARRAY(element)))
    rows = func.json_each(bindparam(None, json.dumps(listed))).table_valued("value")
    return column.in_(select(rows.c.value))


@asynccontextmanager
async def custom_plans(conn: AsyncConnection) -> AsyncIterator[None]:
    """Plan every statement inside for the values it is given (PostgreSQL; a no-op on SQLite).

    Only around lookups: an executemany inside would be planned once per row. The setting is
    the transaction's, so a failure inside needs no reset (the transaction rolls back)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    yield
    await conn.exec_driver_sql("SET LOCAL plan_cache_mode = DEFAULT")


def insert_or_ignore(conn: AsyncConnection, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect: two transactions making the
    same row at once both go on with the one that won."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


async def update_rows(conn: AsyncConnection, table: Any, columns: Mapping[str, TypeEngine[Any]],
                      rows: Sequence[Mapping[str, Any]], *, where: Callable[[Any], ColumnElement[bool]],
                      changes: Callable[[Any], dict[str, Any]]) -> None:
    """Update `table` once for each of `rows`: the rows `where(source)` finds get what
    `changes(source)` gives, `source.<name>` being the row's value of each of `columns` (names
    that are not the table's columns: SQLAlchemy keeps those for its own parameters).

    On SQLite, one executemany. On PostgreSQL, one statement for all rows, `UPDATE … FROM
    unnest($1, $2, …) AS changed(…)`, each column bound as one array: the triggers on licenses
    keep the dashboard's figures once per statement (migration of license_tally), where an
    executemany ran them once per row (0.7 ms each); and the statement is the same for any
    number of rows, so SQLAlchemy compiles it once and asyncpg prepares it once (a VALUES list
    was compiled again for every group of activations: 14% of the portal's time under their
    load). `where` must find a table row for one of `rows` at most (one joined twice would be
    updated once, by either)."""
    if conn.dialect.name != "postgresql":
        bound = SimpleNamespace(**{name: bindparam(name, type_=kind) for name, kind in columns.items()})
        await conn.execute(update(table).where(where(bound)).values(**changes(bound)), list(rows))
        return
    if not rows:
        return
    arrays = [bindparam(f"changed_{name}", [row[name] for row in rows], type_=ARRAY(kind))
              for name, kind in columns.items()]
    changed = func.unnest(*arrays).table_valued(*(column(name, kind) for name, kind in columns.items())
                                                ).render_derived(name="changed")
    source = SimpleNamespace(**{name: changed.c[name] for name in columns})
    await conn.execute(update(table).where(where(source)).values(**changes(source)))
