"""The ledger and orders screen (`g o`, `:ledger`): every ledger entry, or every order, newest
first, paged by the portal at any size. `1` shows the ledger, `2` the orders, `/` filters by
text as you type, `t` picks the next kind (a ledger reason or an order kind), `3` a range of
days; enter shows an order's lines; `w` exports everything the filter matches to CSV."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Resize
from textual.widgets import Input, Static

from seattui.domain.billing import Order, OrderFilter, OrderKind
from seattui.domain.credits import LedgerEntry, LedgerFilter, LedgerReason
from seattui.domain.money import format_credits
from seattui.domain.paging import DatedFilter, Page
from seattui.domain.text import printable
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.ledger_forms import LEDGER, ORDERS, DaysScreen, ExportScreen, OrderScreen, paid_with
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

FIRST_PAGE, PAGE = 100, 200
WIDE = 110  # from here the columns that say who and which PO fit too

LEDGER_KINDS: tuple[LedgerReason, ...] = tuple(LedgerReason)
ORDER_KINDS: tuple[OrderKind, ...] = tuple(OrderKind)


def when(entry: LedgerEntry | Order) -> str:
    at = entry.at if isinstance(entry, LedgerEntry) else entry.placed_at
    return at.strftime("%Y-%m-%d %H:%M")


def signed(amount: Any) -> Text:
    return Text(format_credits(amount), style="green" if amount > 0 else "")


def ledger_columns(width: int) -> list[Column]:
    columns = [
        Column("at", "When", width=16, sortable=False),
        Column("reason", "Reason", width=12, sortable=False),
        Column("amount", "Amount", width=11, justify="right", sortable=False),
        Column("balance", "Balance", width=11, justify="right", sortable=False),
        Column("memo", "Memo", min_width=8, sortable=False),
    ]
    if width >= WIDE:
        columns.append(Column("actor", "By", width=14, sortable=False))
    return columns


def ledger_cells(entry: LedgerEntry, width: int) -> list[Cell]:
    cells: list[Cell] = [when(entry), entry.reason.value, signed(entry.amount), format_credits(entry.balance_after),
                         printable(entry.memo)]
    if width >= WIDE:
        cells.append(printable(entry.actor or ""))
    return cells


def order_columns(width: int) -> list[Column]:
    columns = [
        Column("at", "Placed", width=16, sortable=False),
        Column("kind", "Kind", width=12, sortable=False),
        Column("total", "Total", width=11, justify="right", sortable=False),
        Column("paid", "Paid with", width=15, sortable=False),
        Column("reference", "Reference", min_width=8, sortable=False),
    ]
    if width >= WIDE:
        columns[4:4] = [Column("po", "PO number", width=14, sortable=False)]
        columns.append(Column("by", "By", width=14, sortable=False))
    return columns


def order_cells(order: Order, width: int) -> list[Cell]:
    cells: list[Cell] = [when(order), order.kind.value, format_credits(order.total), paid_with(order),
                         printable(order.reference_name or "")]
    if width >= WIDE:
        cells[4:4] = [printable(order.po_number or "")]
        cells.append(printable(order.placed_by))
    return cells


def range_words(wanted: DatedFilter) -> str:
    if wanted.since and wanted.until:
        return f"{wanted.since} to {wanted.until}" if wanted.since != wanted.until else f"on {wanted.since}"
    if wanted.since:
        return f"from {wanted.since}"
    if wanted.until:
        return f"to {wanted.until}"
    return "any day"


class LedgerScreen(PortalScreen):
    SHOWS = frozenset({Area.CREDITS, Area.ORDERS})
    SCOPE = "ledger"
    CSS_PATH = style("ledger.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)
    AUTO_FOCUS = "#ledger-table"
    VIEWS: ClassVar[tuple[str, str]] = (LEDGER, ORDERS)

    def __init__(self) -> None:
        super().__init__()
        self.view = LEDGER
        self.ledger_filter = LedgerFilter()
        self.order_filter = OrderFilter()
        self._asked: tuple[str, DatedFilter] = (self.view, self.ledger_filter)  # the request out

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        width = self.app.size.width
        table = PagedTable[Any](
            ledger_columns(width), row_key=lambda row: row.id, cells=self._cells, marks=False,
            empty_text="No ledger entry matches.", sort=("none", False), id="ledger-table")
        self.source = PagedSource(table, self._page, first_page=FIRST_PAGE, page=PAGE)
        yield StatusBar()
        with Horizontal(classes="ledger-bar"):
            yield Input(placeholder="/ filter: memo or login", id="ledger-filter")
            yield Static("", id="ledger-scope")
        yield Problem(id="ledger-problem")
        yield table
        yield KeyFooter()

    @property
    def table(self) -> PagedTable[Any]:
        return self.query_one("#ledger-table", PagedTable)

    @property
    def filter(self) -> DatedFilter:
        return self.ledger_filter if self.view == LEDGER else self.order_filter

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self, event: Resize) -> None:
        self.table.set_columns(self._columns(event.size.width))

    def _columns(self, width: int) -> list[Column]:
        return ledger_columns(width) if self.view == LEDGER else order_columns(width)

    def _cells(self, row: Any) -> list[Cell]:
        width = self.app.size.width
        return ledger_cells(row, width) if isinstance(row, LedgerEntry) else order_cells(row, width)

    def _show_scope(self) -> None:
        wanted = self.filter
        kind = getattr(wanted, "reason", None) if self.view == LEDGER else getattr(wanted, "kind", None)
        what = "Ledger" if self.view == LEDGER else "Orders"
        text = Text.assemble((what, "bold"), f" · {kind.value if kind else 'every kind'} · {range_words(wanted)}")
        self.query_one("#ledger-scope", Static).update(text)

    # -- loading ----------------------------------------------------------------------------

    def reload(self, *, keep_place: bool = False) -> None:
        self._asked = (self.view, self.filter)
        self._show_scope()
        self.source.reload(keep_place=keep_place)

    async def _page(self, cursor: str | None, limit: int) -> Page[Any] | None:
        view, wanted = self._asked
        if view == LEDGER:
            assert isinstance(wanted, LedgerFilter)
            return await self.call_portal(lambda client: client.ledger(wanted, cursor=cursor, limit=limit))
        assert isinstance(wanted, OrderFilter)
        return await self.call_portal(lambda client: client.orders(wanted, cursor=cursor, limit=limit))

    def set_filter(self, wanted: DatedFilter) -> None:
        if isinstance(wanted, LedgerFilter):
            self.ledger_filter = wanted
        else:
            assert isinstance(wanted, OrderFilter)
            self.order_filter = wanted
        self.reload()

    # -- the keys ---------------------------------------------------------------------------

    def action_show_view(self, view: str) -> None:
        """1 the ledger, 2 the orders; each keeps its own filter."""
        if view not in self.VIEWS or view == self.view:
            return
        self.view = view
        table = self.table
        table.empty_text = "No ledger entry matches." if self.view == LEDGER else "No order matches."
        table.clear_marks()
        table.set_columns(self._columns(self.app.size.width))
        table.reset([], total=None, has_more=False)
        box = self.query_one("#ledger-filter", Input)
        with box.prevent(Input.Changed):
            box.value = self.filter.q
        box.placeholder = ("/ filter: memo or login" if self.view == LEDGER
                           else "/ filter: reference, PO, login, invoice or line")
        self.reload()

    def action_next_kind(self) -> None:
        """t: the next kind (every kind, then each in turn)."""
        if self.view == LEDGER:
            reasons: list[LedgerReason | None] = [None, *LEDGER_KINDS]
            after = reasons[(reasons.index(self.ledger_filter.reason) + 1) % len(reasons)]
            self.set_filter(self.ledger_filter.model_copy(update={"reason": after}))
        else:
            kinds: list[OrderKind | None] = [None, *ORDER_KINDS]
            later = kinds[(kinds.index(self.order_filter.kind) + 1) % len(kinds)]
            self.set_filter(self.order_filter.model_copy(update={"kind": later}))

    def action_dates(self) -> None:
        def chosen(wanted: DatedFilter | None) -> None:
            if wanted is not None:
                self.set_filter(wanted)

        self.app.push_screen(DaysScreen(self.filter), chosen)

    def action_write_file(self) -> None:
        def written(outcome: tuple[str, int] | None) -> None:
            if outcome is not None:
                path, rows = outcome
                what = "ledger entries" if self.view == LEDGER else "order lines"
                self.notify(f"Wrote {rows:,} {what} to {path}.", timeout=6)

        self.app.push_screen(ExportScreen(self.view, self.filter), written)

    def on_paged_table_selected(self, message: PagedTable.Selected) -> None:
        if isinstance(message.row, Order):
            self.app.push_screen(OrderScreen(message.row))

    @on(Input.Changed, "#ledger-filter")
    def _typed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        if text != self.filter.q:
            self.set_filter(self.filter.model_copy(update={"q": text}))

    @on(Input.Submitted, "#ledger-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.focus_input(self.query_one("#ledger-filter", Input))

    def action_back(self) -> None:
        """escape: out of the filter box; then clear the filter; then back to the dashboard."""
        box = self.query_one("#ledger-filter", Input)
        if box.has_focus:
            self.table.focus()
        elif self.filter != type(self.filter)():
            with box.prevent(Input.Changed):
                box.value = ""
            self.set_filter(type(self.filter)())
        else:
            self.seattui.action_open_screen("dashboard")

    def action_refresh(self) -> None:
        self.reload()

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        """After a paid change: the same list read again, the cursor staying on its row."""
        self.reload(keep_place=True)

    def problem(self) -> Problem | None:
        return self.query_one("#ledger-problem", Problem)
