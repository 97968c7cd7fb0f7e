from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from seattui.domain.audit import AuditEntry
from seattui.domain.paging import Page
from seattui.domain.base import PlainText
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
    since: date | None = Query(None, description="only entries made on this day (UTC) or later"),
) -> Page[AuditEntry]:
    """The organization's audit trail, newest first."""
    return await read(request, actor, lambda tx: audit.list_entries(
        tx, cursor=cursor, limit=limit, batch_id=batch_id, since=since))
