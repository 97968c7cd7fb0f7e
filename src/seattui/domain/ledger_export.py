"""The ledger and the orders as CSV for a spreadsheet: one row per ledger entry, one row per
order line (the order's own fields repeated on each). Amounts are plain decimals (`-490.00`),
times ISO 8601 in UTC. Pure: the caller pages through the portal and writes the text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from seattui.domain.billing import Order
from seattui.domain.credits import LedgerEntry
from seattui.domain.csvfile import spreadsheet_text

LEDGER_COLUMNS = ("entry_id", "at", "reason", "amount", "balance_after", "object_type", "object_id", "memo", "by")
ORDER_COLUMNS = ("order_id", "placed_at", "kind", "placed_by", "reference_name", "po_number", "paid_with",
                 "invoice_number", "order_total", "line", "description", "quantity", "unit_price", "discount",
                 "amount", "service_start", "service_end", "object_type", "object_id")
def text_cell(value: str | None) -> str:
    """Stored text (amounts are written as they are: a debit's minus is not a formula)."""
    return spreadsheet_text(value or "")


def ledger_rows(entries: Iterable[LedgerEntry]) -> list[list[str]]:
    return [[str(entry.id), entry.at.isoformat(), entry.reason.value, f"{entry.amount:.2f}",
             f"{entry.balance_after:.2f}", text_cell(entry.object_type),
             "" if entry.object_id is None else str(entry.object_id), text_cell(entry.memo), text_cell(entry.actor)]
            for entry in entries]


def order_rows(orders: Iterable[Order]) -> list[list[str]]:
    rows: list[list[str]] = []
    for order in orders:
        head = [str(order.id), order.placed_at.isoformat(), order.kind.value, text_cell(order.placed_by),
                text_cell(order.reference_name), text_cell(order.po_number), order.paid_with.value,
                order.invoice_number or "", f"{order.total:.2f}"]
        for number, line in enumerate(order.lines, start=1):
            rows.append([*head, str(number), text_cell(line.description), str(line.quantity), f"{line.unit_price:.2f}",
                         f"{line.discount:.2f}", f"{line.amount:.2f}",
                         line.service_start.isoformat() if line.service_start else "",
                         line.service_end.isoformat() if line.service_end else "", text_cell(line.object_type),
                         "" if line.object_id is None else str(line.object_id)])
    return rows


def csv_text(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> str:
    """Rows as CSV text (the header first when given), lines ended as RFC 4180 says."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
