"""Invoices: unpaid first, one with its lines (by number, or a draft by its id), and paying
one from credits (Idempotency-Key honoured)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from seattui.domain.billing import Invoice
from seattui.domain.paging import Page
from seattui.portal.api import CurrentActor, mutate, read
from seattui.portal.services import billing

router = APIRouter(tags=["billing"])
Reference = Path(min_length=1, max_length=40, description="INV-2026-000123, or a draft's id")


@router.get("/invoices")
async def list_invoices(
    request: Request,
    actor: CurrentActor,
    unpaid: bool = False,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(100, ge=1, le=500),
) -> Page[Invoice]:
    """Every unpaid invoice (drafts and finalized) on the first page, then the paid ones,
    newest first, a page at a time; without their lines."""
    return await read(request, actor, lambda tx: billing.list_invoices(tx, unpaid=unpaid, cursor=cursor, limit=limit))


@router.get("/invoices/{reference}")
async def get_invoice(request: Request, actor: CurrentActor, reference: str = Reference) -> Invoice:
    return await read(request, actor, lambda tx: billing.get_invoice(tx, reference))


@router.post("/invoices/{reference}/payment", response_model=Invoice)
async def pay(request: Request, actor: CurrentActor, reference: str = Reference) -> Response:
    """Pay the invoice's whole amount from credits in one transaction."""
    return await mutate(request, actor, lambda tx: billing.pay_invoice(tx, reference))
