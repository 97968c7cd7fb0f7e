"""The invoice PDF, read back with pypdf as a person's PDF viewer would show it."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from seattui.domain.invoice_document import InvoiceDocument, InvoiceDocumentLine
from seattui.portal import invoice_pdf
from seattui.portal.invoice_pdf import render_invoice_pdf


def line(number: int, description: str | None = None) -> InvoiceDocumentLine:
    quantity = Decimal(number)
    discount = Decimal("2.50") if number % 2 else Decimal("0.00")
    return InvoiceDocumentLine(
        description=description or f"Mail Server Pro Enterprise, order {number:03d}",
        service_start=date(2026, 11, number % 28 + 1), service_end=date(2026, 11, 30),
        quantity=quantity, unit_price=Decimal("19.99"), discount=discount,
        amount=quantity * Decimal("19.99") - discount)


def document(lines: tuple[InvoiceDocumentLine, ...], *, summary: bool = False, paid: str = "0.00",
             buyer: str = "Acme Resellers GmbH") -> InvoiceDocument:
    subtotal = sum((item.amount for item in lines), Decimal("0.00"))
    return InvoiceDocument(
        number="INV-2026-000123", issued_on=date(2026, 12, 1), due_on=date(2026, 12, 31),
        period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), po_number="PO-4471/B",
        seller_name="Seattui Licensing Ltd", seller_address="1 Portal Street\n10115 Berlin\nGermany",
        buyer_name=buyer, buyer_address="Am Markt 5\n04109 Leipzig\nGermany",
        summary=summary, lines=lines, subtotal=subtotal, total=subtotal, paid=Decimal(paid),
        due=subtotal - Decimal(paid))


def pdf_text(data: bytes) -> tuple[int, str]:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), " ".join(text.split())  # a wrapped cell reads as one line


def test_the_pdf_shows_the_parties_the_dates_every_line_and_the_totals() -> None:
    lines = (line(1), line(2), line(3, "Seat plan Annual: 12 seats"))
    doc = document(lines, paid="10.00")
    pages, text = pdf_text(render_invoice_pdf(doc))
    assert pages == 1
    for expected in ("INV-2026-000123", "2026-12-01", "2026-12-31", "PO-4471/B",
                     "Seattui Licensing Ltd", "10115 Berlin", "Acme Resellers GmbH", "04109 Leipzig",
                     "Mail Server Pro Enterprise, order 001", "Mail Server Pro Enterprise, order 002",
                     "Seat plan Annual: 12 seats", "Unit price", "Discount", "Service period"):
        assert expected in text, expected
    # Line 3: 3 x 19.99 - 2.50 = 57.47, for 2026-11-04 to 2026-11-30.
    assert re.search(r"2026-11-04 to\s*2026-11-30\s+3\s+19\.99\s+2\.50\s+57\.47", text), text
    assert doc.total == Decimal("114.94")
    assert re.search(r"Subtotal\s*114\.94", text) and re.search(r"Total\s*114\.94", text)
    assert re.search(r"Amount paid\s*10\.00", text) and re.search(r"Amount due\s*104\.94", text)
    assert "Summary invoice" not in text


def test_a_summary_invoice_says_so() -> None:
    _, text = pdf_text(render_invoice_pdf(document((line(1),), summary=True)))
    assert "Summary invoice" in text and re.search(r"Period 2026-11-01 to\s*2026-11-30", text)


def test_many_lines_break_onto_pages_with_every_line_once_and_the_total_at_the_end() -> None:
    lines = tuple(line(number) for number in range(1, 121))
    doc = document(lines)
    pages, text = pdf_text(render_invoice_pdf(doc))
    assert pages >= 3
    for number in range(1, 121):
        assert text.count(f"order {number:03d}") == 1, number
    assert text.count("Unit price") == pages  # the headings on every page
    assert f"Page {pages} of {pages}" in text
    last_page = PdfReader(io.BytesIO(render_invoice_pdf(doc))).pages[-1].extract_text()
    assert f"{doc.total:,.2f}" in last_page and "Amount due" in last_page


def test_text_from_the_store_is_printed_as_text() -> None:
    tricky = "**Free** <b>upgrade</b> __now__ \\n {nb} (Łódź office)"
    _, text = pdf_text(render_invoice_pdf(document((line(1, tricky),), buyer="Zoë & Søn <script>")))
    assert "**Free** <b>upgrade</b> __now__" in text
    assert "{nb} (Łódź office)" in text
    assert "Zoë & Søn <script>" in text


def test_without_a_unicode_font_the_pdf_still_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invoice_pdf, "FONT_FOLDERS", ())
    _, text = pdf_text(render_invoice_pdf(document((line(1, "Büro Łódź"),), buyer="Zoë")))
    assert "B\u00fcro ?\u00f3d?" in text and "Zo\u00eb" in text and "INV-2026-000123" in text


def test_the_pdf_library_is_loaded_only_to_draw_a_pdf() -> None:
    code = ("import sys, seattui.portal.app, seattui.portal.invoice_pdf, seattui.cli; "
            "print(sorted(name for name in sys.modules if name.split('.')[0] in ('fpdf', 'PIL', 'fontTools')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
