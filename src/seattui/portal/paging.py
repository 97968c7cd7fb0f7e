"""Keyset pagination: a page ends at an id, the next starts below it; no OFFSET, no COUNT."""

from __future__ import annotations

import base64
import collections
import json
import math
import weakref
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Boolean, Date, Integer, ScalarSelect, Select, String, bindparam, literal_column, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement

from seattui.domain.base import MAX_RECORD_ID
from seattui.domain.errors import ValidationFailed
from seattui.domain.paging import Page

T = TypeVar("T")
MAX_PAGE = 500


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or not all(_storable(value) for value in values):
        raise ValidationFailed(
            "The page cursor is not one this portal handed out; start from the first page.",
            {"cursor": "invalid cursor"},
        )
    return values


def _storable(value: Any) -> bool:
    """A cursor value the store can compare with: a forged cursor's huge number or NUL byte
    would make the database fail instead of the request being refused."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -MAX_RECORD_ID - 1 <= value <= MAX_RECORD_ID
    if isinstance(value, str):
        return "\x00" not in value
    return isinstance(value, float) and math.isfinite(value)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"A page holds 1 to {MAX_PAGE} items.", {"limit": f"between 1 and {MAX_PAGE}"})
    return limit


async def id_cursor_page(
    conn: AsyncConnection,
    query: Select[Any],
    id_column: ColumnElement[int],
    cursor: str | None,
    limit: int,
    convert: Callable[[Any], T],
) -> Page[T]:
    """Newest first, by id."""
    check_limit(limit)
    if cursor:
        (last_id,) = decode_cursor(cursor)[:1] or [None]
        if not isinstance(last_id, int):
            raise ValidationFailed("The page cursor is not valid; start again.", {"cursor": "invalid"})
        query = query.where(id_column < last_id)
    rows = (await conn.execute(query.order_by(id_column.desc()).limit(limit + 1))).all()
    items = [convert(row) for row in rows[:limit]]
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page[T](items=items, next_cursor=next_cursor)


def _coerce(value: Any, column: ColumnElement[Any]) -> Any:
    """A cursor's JSON value back in the column's Python type (dates arrive as text)."""
    if value is None:
        return None
    kind = getattr(column.type, "impl_instance", column.type)  # a TypeDecorator's own type says object
    try:
        python_type: Any = kind.python_type
    except NotImplementedError:
        python_type = None
    try:
        if python_type is date and isinstance(value, str):
            return date.fromisoformat(value)
        if python_type is datetime and isinstance(value, str):
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("a cursor's time has its time zone")
            return value
        if python_type is int and not isinstance(value, int):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_RECORD_ID:
            raise ValueError("beyond the store's integers")
        if python_type in (int, str, date, datetime) and not isinstance(value, python_type):
            raise TypeError("a forged cursor: the database would fail on this value")
    except (TypeError, ValueError, OverflowError, NotImplementedError):
        raise ValidationFailed("The page cursor is not valid; start again.", {"cursor": "invalid"}) from None
    return value


def keyset_query(
    query: Select[Any],
    *,
    sort: ColumnElement[Any],
    id_column: ColumnElement[int],
    descending: bool,
    after: bool,
    count: ScalarSelect[Any] | None = None,
    rows: int | None = None,
) -> Select[Any]:
    """keyset_page's statement: the query's rows ordered by `sort` then id, with `count` as
    `_total` when given, and parameters `_page_rows` (the page's rows plus one) and, `after`
    a cursor, `_after_sort` and `_after_id` (its row's). A caller that keeps it built passes
    it to keyset_page, which then does not build it again (SQLAlchemy finds a kept statement
    in its compiled cache by the key it worked out once, not again on each request)."""
    ordered = query.add_columns(sort.label("_sort_value"))
    if count is not None:
        ordered = ordered.add_columns(count.label("_total"))
    if after:
        pair = tuple_(sort, id_column)
        after_sort = _IsoDate(bindparam("_after_sort", type_=String())) if _is_date(sort) \
            else bindparam("_after_sort", type_=sort.type)
        bound = tuple_(after_sort, bindparam("_after_id", type_=Integer()))
        ordered = ordered.where(pair < bound if descending else pair > bound)
    direction = (sort.desc(), id_column.desc()) if descending else (sort.asc(), id_column.asc())
    # The page's size is written into the statement, not sent: PostgreSQL, not knowing how
    # many rows a LIMIT $n takes, thinks a plan made once for every call far costlier than
    # one made for the call, so it planned each page again (0.3-0.4 ms, half a page's query).
    # `rows`: the number written in by the caller, for a statement prepared once (store/point.py
    # takes no value rendered at execution).
    limit = literal_column(str(int(rows))) if rows is not None else \
        bindparam("_page_rows", type_=Integer(), literal_execute=True)
    return ordered.order_by(*direction).limit(limit)


async def keyset_page(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    sort: ColumnElement[Any],
    id_column: ColumnElement[int],
    descending: bool,
    cursor: str | None,
    limit: int,
    convert: Callable[[Any], T],
    count: Select[Any] | ScalarSelect[Any] | int | None = None,
    built: Select[Any] | None = None,
    parameters: dict[str, Any] | None = None,
) -> Page[T]:
    """One page ordered by `sort` then id, starting after the cursor's row.

    `sort` must never be NULL (wrap nullable columns in coalesce): the cursor compares the
    pair (sort, id) with the last row's, which an index on (org_id, sort, id) answers
    directly. `count` (a query, or the number when the caller knows it) tells the first page
    how many rows match in all; a scalar subquery of that number is read with the page's rows,
    one statement instead of two (none of them: none match). `built`: keyset_query's statement
    of these very arguments, kept by the caller, with its own `parameters`.
    """
    counted = isinstance(count, ScalarSelect) and not cursor
    values = keyset_values(sort, cursor, limit, parameters)
    if built is None:
        built = keyset_query(query, sort=sort, id_column=id_column, descending=descending, after=bool(cursor),
                             count=count if counted else None)  # type: ignore[arg-type]
    rows = (await conn.execute(built, values)).all()
    items = [convert(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last._sort_value, last.id])
    total = None
    if counted:
        total = int(rows[0]._total or 0) if rows else 0
    elif count is not None and not cursor:
        total = count if isinstance(count, int) else await conn.scalar(count)
    return Page[T](items=items, next_cursor=next_cursor, total=total)


def keyset_values(sort: ColumnElement[Any], cursor: str | None, limit: int,
                  parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """keyset_query's parameters for a page of `limit` after the cursor's row (ValidationFailed
    for a limit out of range or a cursor this portal did not hand out)."""
    check_limit(limit)
    values: dict[str, Any] = {**(parameters or {}), "_page_rows": limit + 1}
    if cursor:
        decoded = decode_cursor(cursor)
        if len(decoded) != 2 or not isinstance(decoded[1], int):
            raise ValidationFailed("The page cursor is not valid; start again.", {"cursor": "invalid"})
        after_sort = _coerce(decoded[0], sort)
        if _is_date(sort) and after_sort is not None:
            after_sort = after_sort.isoformat()  # as _IsoDate binds it
        values |= {"_after_sort": after_sort, "_after_id": decoded[1]}
    return values


class KeptPages:
    """Pages as written, by what was asked, each with the state of the rows it was written
    from (read in the statement that wrote it): a page is answered again only while a read of
    its rows' state gives the same state. Nothing is invalidated, so no writer (another
    instance, a bulk load, a hand-made UPDATE) needs to know of it; the most recently used
    `size` pages are kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.answered = 0  # pages answered from here, for tests and the curious
        self._pages: collections.OrderedDict[Any, tuple[Any, bytes]] = collections.OrderedDict()

    def get(self, key: Any, state: Any) -> bytes | None:
        kept = self._pages.get(key)
        if kept is None or kept[0] != state:
            return None
        self._pages.move_to_end(key)
        self.answered += 1
        return kept[1]

    def keep(self, key: Any, state: Any, page: bytes) -> None:
        self._pages[key] = (state, page)
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)


_KEPT: weakref.WeakKeyDictionary[Any, KeptPages] = weakref.WeakKeyDictionary()
KEPT_PAGES = 256  # about 30 KB each (100 licenses), with their rows' state


def kept_pages(conn: AsyncConnection) -> KeptPages:
    """The pages kept for the database `conn` is a connection to (its engine's)."""
    engine = conn.sync_engine
    kept = _KEPT.get(engine)
    if kept is None:
        kept = _KEPT[engine] = KeptPages(KEPT_PAGES)
    return kept


def _is_date(column: ColumnElement[Any]) -> bool:
    kind = getattr(column.type, "impl_instance", column.type)
    try:
        return kind.python_type is date
    except NotImplementedError:
        return False


class _IsoDate(ColumnElement[date]):
    """A date bound as its ISO text. asyncpg sends date.max as PostgreSQL's 'infinity', which
    is past every date stored: a cursor after a row of no support end (9999-12-31, the sort's
    last) found no row after it, and a list sorted by support lost the rest of its rows."""

    inherit_cache = True
    type = Date()

    def __init__(self, bound: ColumnElement[str]) -> None:
        self.bound = bound


@compiles(_IsoDate)
def _iso_date_default(element: _IsoDate, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.bound, **kw)  # SQLite keeps dates as this very text


@compiles(_IsoDate, "postgresql")
def _iso_date_postgresql(element: _IsoDate, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.bound, **kw)} AS DATE)"


class _Likely(ColumnElement[bool]):
    inherit_cache = True
    type = Boolean()

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition


@compiles(_Likely)
def _likely_default(element: _Likely, compiler: SQLCompiler, **kw: Any) -> str:
    # Parenthesized: an OR inside would otherwise bind looser than the AND it is joined with.
    return f"({compiler.process(element.condition, **kw)})"


@compiles(_Likely, "sqlite")
def _likely_sqlite(element: _Likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.condition, **kw)}, 0.9)"


def along_the_sort(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """A filter checked row by row while a page walks the sort's index.

    SQLite, without statistics, tends to pick the filter's index and then sort every match,
    hundreds of milliseconds for a filter that keeps half of 100,000 rows. Walking the sort's
    index instead costs at most one pass over the organization's rows, tens of milliseconds,
    and stops as soon as a page is full. PostgreSQL plans from its statistics and gets the
    condition as it is.
    """
    return _Likely(condition)


def on_days(column: ColumnElement[datetime], since: date | None, until: date | None) -> list[ColumnElement[bool]]:
    """A time column on the days from `since` to `until`, both included (UTC days), as a range
    the index on (org_id, column, id) answers."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(column >= datetime.combine(since, time(), UTC))
    if until is not None and until < date.max:
        conditions.append(column < datetime.combine(until + timedelta(days=1), time(), UTC))
    return conditions


def containing(conn: AsyncConnection, columns: tuple[ColumnElement[str], ...], word: str) -> ColumnElement[bool]:
    """The word in any of the columns, whatever the case, wildcards taken as plain text.
    SQLite's LIKE ignores the case already; lower() around each column would triple the time
    of a filter."""
    pattern = "%" + word.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    if conn.dialect.name == "sqlite":
        return or_(*(column.like(pattern, escape="/") for column in columns))
    return or_(*(column.ilike(pattern, escape="/") for column in columns))
