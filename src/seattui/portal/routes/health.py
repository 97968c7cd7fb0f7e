"""Probes for process managers and load balancers: `health` says the process is up, `ready`
that it can serve (its database answers and carries the schema this portal expects)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

import seattui
from seattui.portal.api import PortalDep
from seattui.portal.store import SCHEMA_HEAD

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str


class Ready(BaseModel):
    status: str
    schema_version: str


# GET and HEAD as routes of their own, so each has its own operation id (one route of two methods
# gives both FastAPI's one id, and FastAPI warns of the duplicate).
@router.get("/health")
@router.head("/health")
async def health(portal: PortalDep) -> Health:
    """The process is up; it does not touch the database (that is `ready`)."""
    return Health(status="ok", version=seattui.__version__, database=portal.store.engine.dialect.name)


NOT_READY = {503: {"description": "The database does not answer or its schema is not this portal's"}}


@router.get("/ready", response_model=Ready, responses=NOT_READY)
@router.head("/ready", response_model=Ready, responses=NOT_READY)
async def ready(portal: PortalDep) -> Ready | JSONResponse:
    try:
        readiness = await portal.store.readiness()
    except (SQLAlchemyError, OSError) as error:
        return _not_ready(f"The database does not answer: {type(error).__name__}.", {})
    if not readiness.ready:
        return _not_ready(readiness.problem(), {"schema_version": readiness.schema,
                                                "missing_tables": readiness.missing_tables})
    return Ready(status="ready", schema_version=SCHEMA_HEAD)


def _not_ready(message: str, details: dict[str, object]) -> JSONResponse:
    return JSONResponse({"code": "not_ready", "message": message, "details": details}, status_code=503)
