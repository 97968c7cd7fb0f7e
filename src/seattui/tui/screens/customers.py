"""Customers: everyone the organization resells to, with their license and subscription
counts and this year's spend. `/` filters as you type, enter shows a customer's licenses,
subscriptions and what was charged for them, `n` adds one, `e` edits, `w` writes the list
(or the filtered part) to a CSV file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from seattui.domain.customers import Customer, CustomerFilter, CustomerSort
from seattui.domain.money import format_credits
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.formatting import plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

# A first page of what fills a tall terminal comes fastest (as the licenses list does); then more at a time.
FIRST_PAGE, PAGE = 60, 200
COLUMNS = (
    Column("email", "Email", min_width=26),
    Column("name", "Name", min_width=6),
    Column("company", "Company", min_width=6),
    Column("licenses", "Lic", width=5, justify="right", sortable=False),
    Column("subscriptions", "Subs", width=4, justify="right", sortable=False),
    Column("spend", "Spent (yr)", width=11, justify="right", sortable=False),
)


def customer_cells(customer: Customer) -> Sequence[Cell]:
    def count(value: int) -> Cell:
        return f"{value:,}" if value else Text("·", style="dim")

    return (
        Text(customer.email, style="bold"),
        customer.name or Text("·", style="dim"),
        customer.company or Text("·", style="dim"),
        count(customer.licenses),
        count(customer.subscriptions),
        format_credits(customer.spend_this_year) if customer.spend_this_year else Text("·", style="dim"),
    )


class CustomersScreen(PortalScreen):
    SHOWS = frozenset({Area.CUSTOMERS, Area.LICENSES, Area.SUBSCRIPTIONS})
    SCOPE = "customers"
    CSS_PATH = style("customers.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)
    # The table has the focus from the start: focusing it as the screen mounts built the footer twice.
    AUTO_FOCUS = "#customers-table"

    def __init__(self) -> None:
        super().__init__()
        self._asked_for = ""  # the filter of the request out

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Problem(id="customers-problem")
        yield Input(placeholder="/ filter: words of the email, name or company", id="customers-filter")
        table = PagedTable[Customer](COLUMNS, row_key=lambda customer: customer.id, cells=customer_cells, marks=False,
                                     sort=("email", False), empty_text="No customers yet.", id="customers-table")
        self.source = PagedSource(table, self._page, first_page=FIRST_PAGE, page=PAGE)
        # Asked for now (the filter is empty yet): the portal reads it while the screen is built.
        self.source.reload()
        yield table
        yield Static("", id="customers-count")
        yield KeyFooter()

    @property
    def table(self) -> PagedTable[Customer]:
        return self.query_one(PagedTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#customers-filter", Input)

    @property
    def filter_text(self) -> str:
        return self.filter_input.value.strip()

    @property
    def current(self) -> Customer | None:
        return self.table.current

    def reload(self, *, keep_place: bool = False) -> None:
        self._asked_for = self.filter_text
        self.source.reload(keep_place=keep_place)

    async def _page(self, cursor: str | None, limit: int) -> Any:
        table, text = self.table, self._asked_for
        return await self.call_portal(lambda client: client.customers(
            CustomerFilter(text=text), sort=CustomerSort(table.sort_column), descending=table.sort_descending,
            cursor=cursor, limit=limit))

    @on(PagedTable.PageArrived)
    def _arrived(self, message: PagedTable.PageArrived) -> None:
        if message.first:
            self.table.empty_text = ("No customers match the filter." if self._asked_for else
                                     "No customers yet: assigning a license to an email makes its customer (n adds one).")
            total = self.table.total or 0
            matching = f" matching {self._asked_for!r}" if self._asked_for else ""
            self.query_one("#customers-count", Static).update(
                f"{total:,} customer{'' if total == 1 else 's'}{matching}")
        self.refresh_bindings()

    @on(Input.Changed, "#customers-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.reload()

    @on(Input.Submitted, "#customers-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def on_paged_table_sort_changed(self, message: PagedTable.SortChanged) -> None:
        message.stop()
        self.reload()

    def on_paged_table_highlighted(self, _message: PagedTable.Highlighted) -> None:
        self.refresh_bindings()

    def on_paged_table_selected(self, message: PagedTable.Selected) -> None:
        from seattui.tui.screens.customer_forms import CustomerDetailScreen

        self.app.push_screen(CustomerDetailScreen(message.row))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit" and self.current is None:
            return False
        return super().check_action(action, parameters)

    # -- keys ------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.focus_input(self.filter_input)

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.table.focus()
        elif self.filter_text:
            with self.prevent(Input.Changed):
                self.filter_input.value = ""
            self.reload()
        else:
            self.seattui.action_open_screen("dashboard")

    def action_refresh(self) -> None:
        self.reload(keep_place=True)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        self.reload(keep_place=True)

    def action_add(self) -> None:
        from seattui.tui.screens.customer_forms import CustomerForm

        def added(customer: Customer | None) -> None:
            if customer is not None:
                self.notify(f"Added {customer.email}.")

        self.app.push_screen(CustomerForm(None), added)

    def action_edit(self) -> None:
        from seattui.tui.screens.customer_forms import CustomerForm

        if self.current is not None:
            self.app.push_screen(CustomerForm(self.current))

    def action_write_file(self) -> None:
        from seattui.tui.screens.customer_forms import CustomerExportScreen

        def written(outcome: tuple[str, int] | None) -> None:
            if outcome is not None:
                path, rows = outcome
                self.notify(f"Wrote {plural(rows, 'customer')} to {path}.", timeout=5)

        self.app.push_screen(CustomerExportScreen(self._asked_for, self.table.total), written)
