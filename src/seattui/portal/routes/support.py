"""Support of permanent licenses: one quote and one transaction for a batch of licenses.
The licenses by end of support are GET /licenses with the support filters."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seattui.domain.licensing import BatchResult, SupportExtension
from seattui.domain.pricing import Quote
from seattui.domain.roles import Permission
from seattui.portal.api import CurrentActor, allowed, mutate, read
from seattui.portal.services import support

router = APIRouter(tags=["support"])


@router.post("/support/quote")
async def quote(extension: SupportExtension, request: Request, actor: CurrentActor) -> Quote:
    """What extending these licenses' support costs against the balance now. Changes nothing."""
    return await read(request, actor, lambda tx: support.quote(tx, extension))


@router.post("/support/extensions", response_model=BatchResult, dependencies=[allowed(Permission.PURCHASE)])
async def extend(extension: SupportExtension, request: Request, actor: CurrentActor) -> Response:
    """Extend every license's support and pay for it in one transaction, or change nothing."""
    return await mutate(request, actor, lambda tx: support.extend(tx, extension), batch_id=str(uuid.uuid4()))
