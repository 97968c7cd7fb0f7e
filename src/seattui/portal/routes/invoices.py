"""Invoices: unpaid first, one with its lines (by number, or a draft by its id), its PDF,
paying one from credits and emailing it (Idempotency-Key honoured), and the organization's
billing address that invoices are emailed to."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from seattui.domain.billing import (
    BillingContact, BillingContactChange, Invoice, InvoiceEmail, InvoiceMailed, InvoiceSort, invoice_filename,
)
from seattui.domain.base import PlainText
from seattui.domain.paging import Page
from seattui.domain.roles import Permission
from seattui.portal.api import CurrentActor, allowed, mutate, read
from seattui.portal.invoice_pdf import render_invoice_pdf
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
    q: Annotated[PlainText | None, Query(max_length=40, description="keep the invoices whose number holds this")] = None,
    sort: InvoiceSort = InvoiceSort.NEWEST,
    descending: bool = False,
) -> Page[Invoice]:
    """Every unpaid invoice (drafts and finalized) on the first page, then the paid ones,
    newest first (or by `sort`), a page at a time; without their lines."""
    return await read(request, actor, lambda tx: billing.list_invoices(
        tx, unpaid=unpaid, cursor=cursor, limit=limit, text=q, sort=sort, descending=descending))


@router.get("/invoices/{reference}")
async def get_invoice(request: Request, actor: CurrentActor, reference: str = Reference) -> Invoice:
    return await read(request, actor, lambda tx: billing.get_invoice(tx, reference))


@router.get("/invoices/{reference}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the invoice as a PDF"}})
async def invoice_pdf(request: Request, actor: CurrentActor, reference: str = Reference) -> Response:
    """The finalized invoice as a PDF (a draft has none until the month is billed)."""
    document = await read(request, actor, lambda tx: billing.invoice_document(tx, reference))
    pdf = await asyncio.to_thread(render_invoice_pdf, document)  # drawing is CPU work: off the event loop
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{invoice_filename(document.number)}"'})


@router.post("/invoices/{reference}/payment", response_model=Invoice)
async def pay(request: Request, actor: CurrentActor, reference: str = Reference) -> Response:
    """Pay the invoice's whole amount from credits in one transaction."""
    return await mutate(request, actor, lambda tx: billing.pay_invoice(tx, reference))


@router.post("/invoices/{reference}/email", response_model=InvoiceMailed,
             dependencies=[allowed(Permission.MANAGE_BILLING)])
async def email(request: Request, actor: CurrentActor, mail: InvoiceEmail | None = None,
                reference: str = Reference) -> Response:
    """Write the invoice's mail with its PDF to the outbox, to `to` or the billing address; the
    portal's mail task delivers it. A retry with the same Idempotency-Key writes no second mail."""
    to = mail.to if mail else None
    # Drawn before the write transaction, so no writer waits while the PDF is drawn.
    document = await read(request, actor, lambda tx: billing.invoice_document(tx, reference))
    pdf = await asyncio.to_thread(render_invoice_pdf, document)
    return await mutate(request, actor, lambda tx: billing.email_invoice(tx, reference, to, document, pdf))


@router.get("/organization/billing")
async def billing_contact(request: Request, actor: CurrentActor) -> BillingContact:
    return await read(request, actor, billing.billing_contact)


@router.put("/organization/billing", response_model=BillingContact,
            dependencies=[allowed(Permission.MANAGE_BILLING)])
async def set_billing_contact(request: Request, actor: CurrentActor, change: BillingContactChange) -> Response:
    """Set (or, with null, clear) where the organization's invoices are emailed."""
    return await mutate(request, actor, lambda tx: billing.set_billing_contact(tx, change))
