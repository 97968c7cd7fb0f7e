"""The audit log: every change, newest first, filtered by who, what, which object and when."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Request
from fastapi import APIRouter

from seattui.domain.audit import AuditEntry, AuditFilter
from seattui.domain.base import MAX_RECORD_ID, PlainText
from seattui.domain.paging import Page
from seattui.portal.api import CurrentActor, read
from seattui.portal.services import audit

router = APIRouter(tags=["audit"])


@router.get("/audit")
async def entries(
    request: Request,
    actor: CurrentActor,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    batch_id: Annotated[PlainText | None, Query(max_length=36)] = None,
    user: Annotated[PlainText | None, Query(max_length=64, description="who acted: a login")] = None,
    kind: Annotated[PlainText | None, Query(max_length=48, description="an action (license.create) or its area (license)")] = None,
    object_type: Annotated[PlainText | None, Query(max_length=32, description="license, activation_key, employee…")] = None,
    object_id: Annotated[int | None, Query(ge=1, le=MAX_RECORD_ID)] = None,
    since: Annotated[date | None, Query(description="from this day (UTC), inclusive")] = None,
    until: Annotated[date | None, Query(description="to this day (UTC), inclusive")] = None,
) -> Page[AuditEntry]:
    """Newest first; the filters combine (all must hold)."""
    wanted = AuditFilter(user=user or None, kind=kind or None, object_type=object_type or None, object_id=object_id,
                         since=since, until=until, batch_id=batch_id or None)
    return await read(request, actor, lambda tx: audit.list_entries(tx, wanted, cursor=cursor, limit=limit))
