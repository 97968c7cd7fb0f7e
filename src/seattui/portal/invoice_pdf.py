"""An invoice as a PDF (fpdf2): render_invoice_pdf(InvoiceDocument) -> bytes.

fpdf2 is imported when a PDF is drawn, not with the portal: the app's start and
`seattui credits` never pay for it. Text from the store is written as plain text (fpdf2's
markdown is off), so a description cannot style or hide anything. DejaVu Sans is used where
the system has it (fonts-dejavu-core), so any name prints; without it the PDF's built-in
Helvetica prints Latin-1 and shows other characters as "?".
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from seattui.domain.invoice_document import InvoiceDocument, InvoiceDocumentLine
from seattui.domain.money import CREDIT_UNIT, format_credits

FONT_FOLDERS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
                Path("/usr/local/share/fonts/dejavu"), Path("/usr/share/fonts/TTF"))
# Description, service period, quantity, unit price, discount, amount (mm of an A4 page's 180).
COLUMNS = (54.0, 44.0, 16.0, 22.0, 20.0, 24.0)
HEADINGS = ("Description", "Service period", "Qty", "Unit price", "Discount", "Amount")


def _unicode_font() -> tuple[Path, Path] | None:
    for folder in FONT_FOLDERS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _period(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return ""
    if start == end or end is None:
        return _day(start)
    return f"{_day(start)} to {_day(end)}"


def _quantity(value: Decimal) -> str:
    # 10 seats, 12.5 seat-months: no trailing zeros, never an exponent.
    return f"{value.normalize():f}"


def _money(value: Decimal) -> str:
    return format_credits(value)


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The invoice on A4 pages; the lines' table breaks across pages with its headings."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = _unicode_font()

    class InvoicePdf(FPDF):  # type: ignore[misc]
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font(family, "", 8)
            self.set_text_color(110)
            # Left-aligned: the page count's alias is wider than the count that replaces it.
            self.cell(0, 6, clean(f"Invoice {doc.number}") + f"  ·  Page {self.page_no()} of {pages}", align="L")

    pdf = InvoicePdf(orientation="portrait", unit="mm", format="A4")
    if font is not None:
        family = "DejaVu"
        pdf.add_font(family, "", str(font[0]))
        pdf.add_font(family, "B", str(font[1]))
    else:
        family = "Helvetica"

    def clean(text: str) -> str:
        if font is not None:
            return text
        return text.encode("latin-1", errors="replace").decode("latin-1")

    title = "Summary invoice" if doc.summary else "Invoice"
    pdf.set_title(clean(f"{title} {doc.number}"))
    pdf.set_author(clean(doc.seller_name))
    pdf.set_creator("seattui")
    pdf.set_creation_date(datetime.combine(doc.issued_on, time(), UTC))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=20)
    # The page count is filled in at the end wherever this alias is written; a token no text
    # from the store can contain, where "{nb}" in a description would print the page count.
    pages = "{pages-" + secrets.token_hex(8) + "}"
    pdf.alias_nb_pages(pages)
    pdf.add_page()

    # Title and the invoice's facts.
    pdf.set_font(family, "B", 20)
    pdf.cell(90, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    facts = [("Invoice number", doc.number), ("Issue date", _day(doc.issued_on)), ("Due date", _day(doc.due_on))]
    if doc.period_start or doc.period_end:
        facts.append(("Period", _period(doc.period_start, doc.period_end)))
    facts.append(("PO number", doc.po_number or "none"))
    _facts(pdf, family, clean, facts)
    pdf.ln(4)

    # Seller and buyer side by side.
    top = pdf.get_y()
    _party(pdf, family, clean, "From", doc.seller_name, doc.seller_address, x=15, width=85)
    seller_bottom = pdf.get_y()
    pdf.set_y(top)
    _party(pdf, family, clean, "Bill to", doc.buyer_name, doc.buyer_address, x=110, width=85)
    pdf.set_y(max(seller_bottom, pdf.get_y()) + 6)
    if doc.summary:
        pdf.set_font(family, "", 9)
        pdf.multi_cell(0, 5, "Summary invoice: all orders of the period above, billed together.",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    # One row per line; fpdf2 repeats the headings on every page the table reaches.
    pdf.set_font(family, "", 9)
    right = ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
    with pdf.table(col_widths=COLUMNS, width=sum(COLUMNS), align="LEFT", text_align=right, markdown=False,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                   borders_layout="HORIZONTAL_LINES", line_height=5, padding=1.2,
                   repeat_headings=1) as table:
        table.row(HEADINGS)
        for line in doc.lines:
            table.row([clean(text) for text in _line_cells(line)])
    pdf.ln(4)

    # Totals, kept together on one page.
    totals = [("Subtotal", doc.subtotal), ("Total", doc.total), ("Amount paid", doc.paid), ("Amount due", doc.due)]
    if pdf.get_y() + 6 * len(totals) + 8 > pdf.h - pdf.b_margin:
        pdf.add_page()
    for label, value in totals:
        strong = label in ("Total", "Amount due")
        pdf.set_font(family, "B" if strong else "", 10)
        pdf.set_x(15 + sum(COLUMNS) - 75)
        pdf.cell(45, 6, label, align="L")
        pdf.cell(30, 6, _money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    pdf.set_text_color(110)
    pdf.ln(2)
    pdf.cell(0, 5, f"Amounts in {CREDIT_UNIT}.", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _line_cells(line: InvoiceDocumentLine) -> tuple[str, ...]:
    return (line.description, _period(line.service_start, line.service_end), _quantity(line.quantity),
            _money(line.unit_price), _money(line.discount), _money(line.amount))


def _facts(pdf: Any, family: str, clean: Any, facts: Iterable[tuple[str, str]]) -> None:
    for label, value in facts:
        pdf.set_font(family, "", 10)
        pdf.cell(35, 6, label)
        pdf.set_font(family, "B", 10)
        pdf.multi_cell(0, 6, clean(value), new_x="LMARGIN", new_y="NEXT")


def _party(pdf: Any, family: str, clean: Any, heading: str, name: str, address: str, *, x: float,
           width: float) -> None:
    pdf.set_x(x)
    pdf.set_font(family, "", 8)
    pdf.set_text_color(110)
    pdf.cell(width, 5, heading.upper(), new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_font(family, "B", 11)
    pdf.multi_cell(width, 6, clean(name), new_x="LEFT", new_y="NEXT")
    pdf.set_font(family, "", 10)
    for address_line in address.splitlines():
        pdf.multi_cell(width, 5, clean(address_line), new_x="LEFT", new_y="NEXT")
