"""Licenses: quote and buy (or start a trial) on an activation key, read one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seattui.domain.licensing import License, LicenseOrder
from seattui.domain.pricing import Quote
from seattui.portal.api import CurrentActor, mutate, read
from seattui.portal.services import licenses

router = APIRouter(tags=["licenses"])


@router.post("/licenses/quote")
async def quote(order: LicenseOrder, request: Request, actor: CurrentActor) -> Quote:
    """What the order costs against the balance now. Changes nothing."""
    return await read(request, actor, lambda tx: licenses.quote(tx, order))


@router.post("/licenses", status_code=201, response_model=License)
async def create(order: LicenseOrder, request: Request, actor: CurrentActor) -> Response:
    """Create the license and debit its price in one transaction (Idempotency-Key honoured)."""
    return await mutate(request, actor, lambda tx: licenses.create(tx, order), status_code=201)


@router.get("/licenses/{license_id}")
async def get(license_id: int, request: Request, actor: CurrentActor) -> License:
    return await read(request, actor, lambda tx: licenses.get(tx, license_id))
