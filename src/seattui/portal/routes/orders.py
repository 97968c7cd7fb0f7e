"""Orders: every paid change, newest first, with its lines (append-only: read here, never edited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from seattui.domain.billing import Order, OrderFilter
from seattui.domain.paging import Page
from seattui.portal.api import CurrentActor, PathId, read
from seattui.portal.services import billing

router = APIRouter(tags=["billing"])


@router.get("/orders")
async def list_orders(
    request: Request,
    actor: CurrentActor,
    wanted: Annotated[OrderFilter, Query()],
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=500),
) -> Page[Order]:
    """Orders newest first: placed on the days `since` to `until` (UTC, both included), of one
    `kind`, with `q` in the reference name, PO number, login, invoice number or a line."""
    return await read(request, actor, lambda tx: billing.list_orders(tx, cursor=cursor, limit=limit, wanted=wanted))


@router.get("/orders/{order_id}")
async def get_order(order_id: PathId, request: Request, actor: CurrentActor) -> Order:
    return await read(request, actor, lambda tx: billing.get_order(tx, order_id))
