"""Employees as stored: rows by id, and the lock that serializes an organization's seat changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from seattui.portal.context import Tx
from seattui.portal.store.sets import among
from seattui.portal.store.tables import employees, organizations


async def lock_seats(tx: Tx) -> None:
    """Serialize the organization's seat changes (PostgreSQL; SQLite writers already are)."""
    await tx.conn.execute(select(organizations.c.id).where(organizations.c.id == tx.org_id).with_for_update())


async def rows_by_id(tx: Tx, employee_ids: Iterable[int], *, columns: Sequence[Any] = ()) -> dict[int, Any]:
    query = select(*columns) if columns else select(employees)
    rows = await tx.conn.execute(
        query.where(employees.c.org_id == tx.org_id, among(tx.conn, employees.c.id, set(employee_ids))))
    return {row.id: row for row in rows}
