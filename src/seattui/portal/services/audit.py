"""Every change writes an audit entry: who, what, when, and the batch it belongs to."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import insert, select

from seattui.domain.audit import AuditEntry
from seattui.domain.paging import Page
from seattui.portal.context import Tx
from seattui.portal.paging import id_cursor_page
from seattui.portal.store.tables import audit_entries


async def record(
    tx: Tx,
    action: str,
    object_type: str,
    object_id: int | None,
    summary: str,
    details: dict[str, Any] | None = None,
) -> None:
    await tx.conn.execute(
        insert(audit_entries).values(
            org_id=tx.org_id,
            at=tx.now,
            actor_id=tx.actor.user_id,
            actor=tx.actor.login,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary[:500],
            details=details or {},
            batch_id=tx.batch_id,
            token_name=tx.actor.token_name,
        )
    )


async def record_many(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Audit entries for a batch, written in one statement."""
    if not rows:
        return
    base = {"org_id": tx.org_id, "at": tx.now, "actor_id": tx.actor.user_id, "actor": tx.actor.login,
            "batch_id": tx.batch_id, "token_name": tx.actor.token_name}
    await tx.conn.execute(insert(audit_entries), [base | row for row in rows])


async def list_entries(
    tx: Tx, *, cursor: str | None, limit: int, batch_id: str | None = None, since: date | None = None
) -> Page[AuditEntry]:
    query = select(audit_entries).where(audit_entries.c.org_id == tx.org_id)
    if batch_id:
        query = query.where(audit_entries.c.batch_id == batch_id)
    if since is not None:
        query = query.where(audit_entries.c.at >= datetime.combine(since, time.min, UTC))
    return await id_cursor_page(tx.conn, query, audit_entries.c.id, cursor, limit, _entry)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        summary=row.summary,
        details=row.details or {},
        batch_id=row.batch_id,
        token=row.token_name,
    )
