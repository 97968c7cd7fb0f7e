from __future__ import annotations

from fastapi import APIRouter, Request

from seattui.domain.dashboard import Dashboard
from seattui.portal.api import CurrentActor, read
from seattui.portal.services import dashboard

router = APIRouter(tags=["dashboard"])


@router.get("/dashboard")
async def summary(request: Request, actor: CurrentActor) -> Dashboard:
    """The figures of the dashboard, read at once so they agree with each other."""
    return await read(request, actor, dashboard.summary)
