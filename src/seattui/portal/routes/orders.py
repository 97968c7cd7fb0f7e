"""Orders: every paid change, newest first, with its lines (append-only: read here, never edited)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from seattui.domain.billing import Order
from seattui.domain.paging import Page
from seattui.portal.api import CurrentActor, PathId, read
from seattui.portal.services import billing

router = APIRouter(tags=["billing"])


@router.get("/orders")
async def list_orders(
    request: Request,
    actor: CurrentActor,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=500),
) -> Page[Order]:
    return await read(request, actor, lambda tx: billing.list_orders(tx, cursor=cursor, limit=limit))


@router.get("/orders/{order_id}")
async def get_order(order_id: PathId, request: Request, actor: CurrentActor) -> Order:
    return await read(request, actor, lambda tx: billing.get_order(tx, order_id))
