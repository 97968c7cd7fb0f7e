"""An invoice as a document shows it: what the PDF renderer (portal/invoice_pdf.py) draws.

Plain frozen dataclasses with exact Decimal amounts; billing builds one from an invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class InvoiceDocumentLine:
    description: str
    service_start: date | None
    service_end: date | None
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal  # taken off this line, as an amount (0 for none)
    amount: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    issued_on: date
    due_on: date
    period_start: date | None
    period_end: date | None
    po_number: str | None
    seller_name: str
    seller_address: str  # lines separated by newlines
    buyer_name: str
    buyer_address: str
    summary: bool  # a monthly summary invoice of the period's orders
    lines: tuple[InvoiceDocumentLine, ...]
    subtotal: Decimal
    total: Decimal
    paid: Decimal
    due: Decimal
