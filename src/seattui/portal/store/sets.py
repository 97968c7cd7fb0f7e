"""`column IN (many values)` with the values bound as one parameter: a JSON array read by
json_each on SQLite, an array on PostgreSQL. A list of 20,000 ids then compiles and binds as
fast as a list of 2, with no chunking under SQLite's limit on bound variables."""

from __future__ import annotations

import json
from collections.abc import Collection
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
