"""The dialogs of the ledger and orders screen: a range of days, the CSV export (asks where,
then pages through the portal for everything the filter matches) and one order's lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from seattui.domain.billing import Order, OrderFilter, PaymentMethod
from seattui.domain.credits import LedgerFilter
from seattui.domain.errors import ValidationFailed
from seattui.domain.ledger_export import LEDGER_COLUMNS, ORDER_COLUMNS, ledger_rows, order_rows
from seattui.domain.money import format_credits
from seattui.domain.paging import DatedFilter
from seattui.domain.text import printable
from seattui.domain.validation import build
from seattui.tui import commands
from seattui.tui.screens.csv_export import CsvExportScreen
from seattui.tui.screens.form import FormScreen
from seattui.tui.styles import style

if TYPE_CHECKING:
    from seattui.client import PortalClient

EXPORT_PAGE = 500  # the most the portal sends at once: fewest round trips
LEDGER, ORDERS = "ledger", "orders"  # what the screen shows: ledger entries, or orders


def paid_with(order: Order) -> str:
    if order.paid_with is PaymentMethod.CREDITS:
        return "credits"
    return printable(order.invoice_number) if order.invoice_number else "month's invoice"


class DaysScreen(FormScreen):
    """The entries of a range of days (either end may be left empty). Dismissed with the filter."""

    TITLE_TEXT = "Show the days"
    HINT = "ctrl+s or enter: show · escape: cancel"

    def __init__(self, wanted: DatedFilter) -> None:
        super().__init__()
        self.wanted = wanted

    def fields(self) -> ComposeResult:
        yield Label("From (YYYY-MM-DD, empty: from the first)")
        yield Input(str(self.wanted.since or ""), placeholder="2026-01-01", id="days-since")
        yield Label("To (YYYY-MM-DD, included; empty: to today)")
        yield Input(str(self.wanted.until or ""), placeholder="2026-12-31", id="days-until")

    def action_submit(self) -> None:
        values = {name: self.query_one(f"#days-{name}", Input).value.strip() or None for name in ("since", "until")}
        try:
            wanted = build(type(self.wanted), **(self.wanted.model_dump(exclude={"since", "until"}) | values))
        except ValidationFailed as error:
            self.refused(error, {"since": "From", "until": "To", "body": "Days"})
            return
        self.dismiss(wanted)


def default_path(view: str) -> str:
    """In the folder seattui runs in."""
    return "ledger.csv" if view == LEDGER else "orders.csv"


class ExportScreen(CsvExportScreen):
    """The ledger's entries or the orders' lines the filter matches."""

    TITLE_TEXT = "Export to CSV"

    def __init__(self, view: str, wanted: DatedFilter) -> None:
        ledger = view == LEDGER
        super().__init__(LEDGER_COLUMNS if ledger else ORDER_COLUMNS,
                         ("ledger entry", "ledger entries") if ledger else ("order line", "order lines"))
        self.view, self.wanted = view, wanted

    def about(self) -> str:
        row = "a row per ledger entry" if self.view == LEDGER else "a row per order line"
        return f"Everything the filter matches, not only what is on the screen: {row}."

    def default_path(self) -> str:
        return default_path(self.view)

    async def fetch(self, client: PortalClient, cursor: str | None) -> Any:
        wanted = self.wanted
        if isinstance(wanted, LedgerFilter):
            return await client.ledger(wanted, cursor=cursor, limit=EXPORT_PAGE)
        assert isinstance(wanted, OrderFilter)
        return await client.orders(wanted, cursor=cursor, limit=EXPORT_PAGE)

    def rows(self, items: Sequence[Any]) -> list[list[str]]:
        return list(ledger_rows(items) if self.view == LEDGER else order_rows(items))


class OrderScreen(ModalScreen[None]):
    """One order: who placed it, how it was paid, and each line with what it paid for."""

    CSS_PATH = style("ledger_forms.tcss")
    BINDINGS = commands.bindings("order")

    def __init__(self, order: Order) -> None:
        super().__init__()
        self.order = order

    def compose(self) -> ComposeResult:
        order = self.order
        with Vertical(id="order"):
            yield Static(Text.assemble((f"Order {order.id}", "bold"), f" · {order.kind.value} · "
                                       f"{order.placed_at:%Y-%m-%d %H:%M} · by {printable(order.placed_by)}"),
                         id="order-title")
            yield Static(self._about(), id="order-about")
            with VerticalScroll(id="order-lines"):
                yield Static(self._lines())
            yield Static("escape: back", id="order-hint")

    def _about(self) -> Group:
        order = self.order
        reference = printable(order.reference_name) if order.reference_name else "none"
        po = printable(order.po_number) if order.po_number else "none"
        invoice = f" · invoice {printable(order.invoice_number)}" if order.invoice_number else ""
        return Group(
            Text(f"Reference: {reference} · PO number: {po}"),
            Text(f"Total {format_credits(order.total)} · paid with {paid_with(order)}{invoice}"),
        )

    def _lines(self) -> Group:
        """A block per line, so that a long description wraps and every figure stays whole at 80 columns."""
        blocks: list[Text] = []
        for number, line in enumerate(self.order.lines, start=1):
            period = (f"{line.service_start} to {line.service_end}" if line.service_start and line.service_end
                      else str(line.service_start or line.service_end or "none"))
            paid_for = (f"{printable(line.object_type or 'object')} #{line.object_id}" if line.object_id is not None
                        else printable(line.object_type or "nothing named"))
            blocks.append(Text.assemble(
                (f"{number}. {printable(line.description)}", "bold"), "\n",
                f"   Quantity {line.quantity:,} · unit price {format_credits(line.unit_price)} · discount "
                f"{format_credits(line.discount)} · amount {format_credits(line.amount)}\n",
                f"   Service period {period} · paid for {paid_for}"))
        return Group(*blocks) if blocks else Group(Text("This order has no lines.", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
