from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

import seattui
from seattui.portal.api import PortalDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str


@router.get("/health")
async def health(portal: PortalDep) -> Health:
    async with portal.store.read() as conn:
        await conn.execute(text("SELECT 1"))
    return Health(status="ok", version=seattui.__version__, database=portal.store.engine.dialect.name)
