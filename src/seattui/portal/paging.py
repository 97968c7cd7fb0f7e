"""Keyset pagination: a page ends at an id, the next starts below it; no OFFSET, no COUNT."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

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
    if not isinstance(values, list):
        raise ValidationFailed(
            "The page cursor is not one this portal handed out; start from the first page.",
            {"cursor": "invalid cursor"},
        )
    return values


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
