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
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import BigInteger, String, any_, bindparam, false, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement


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
