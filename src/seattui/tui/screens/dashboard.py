"""The dashboard: the balance, large; the latest ledger entries; licenses by product and
term; what needs attention soon. `r` reads it all again; enter opens the list behind a figure."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import Digits, OptionList, Static
from textual.widgets.option_list import Option

from seattui.domain.money import format_credits
from seattui.tui.changes import Area
from seattui.tui import commands
from seattui.tui.screens.base import PortalScreen
from seattui.tui.styles import style
from seattui.tui.views import DashboardView, Who
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from seattui.domain.dashboard import Dashboard


class DashboardScreen(PortalScreen):
    SCOPE = "dashboard"
    SHOWS = frozenset(Area)  # every figure on it comes from one area or another
    CSS_PATH = style("dashboard.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.view: DashboardView | None = None
        self.fresh = False  # the figures came from the portal in this session, not the last one

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Problem(id="dashboard-problem")
        with Horizontal(id="dash-top"):
            with Vertical(id="balance-card", classes="card"):
                yield Digits("", id="balance-digits")
                yield Static("", id="balance-caption")
            with Vertical(id="ledger-card", classes="card"):
                yield Static("", id="ledger")
        with Horizontal(id="dash-bottom"):
            with Vertical(id="products-card", classes="card"):
                yield Static("", id="products")
            with Vertical(id="attention-card", classes="card"):
                yield OptionList(id="attention")
        yield KeyFooter()

    def on_mount(self) -> None:
        for card, title in (("balance-card", "Credits"), ("ledger-card", "Latest ledger entries"),
                            ("products-card", "Licenses by product"), ("attention-card", "At a glance")):
            self.query_one(f"#{card}").border_title = title
        self.query_one("#attention", OptionList).focus()
        seen = self.seattui.last_seen
        if seen is not None:
            # The figures of the last session, at once and marked as such, until the portal answers.
            saved = seen.saved_at.astimezone()
            as_of = f"{saved:%Y-%m-%d %H:%M}"
            # The caption is narrow: today's time alone, else the date.
            short = f"{saved:%H:%M}" if saved.date() == datetime.now().astimezone().date() else f"{saved:%Y-%m-%d}"
            self.view = seen.dashboard
            self.seattui.balance = seen.dashboard.balance
            self._show(seen.dashboard, caption=f"credits as of {short}")
            self.query_one(Problem).note(f"As of {as_of}: reading the portal …")
            # Ask a moment after these figures are drawn: opening an embedded portal imports a
            # lot on its own thread, which would keep the terminal writer from putting them out.
            self.call_after_refresh(self.set_timer, 0.1, self.action_refresh)
            return
        self.action_refresh()

    def action_refresh(self) -> None:
        for card in self.query(".card"):
            card.loading = self.view is None
        self._load()

    @work(exclusive=True, group="load")
    async def _load(self) -> None:
        if self.seattui.last_seen is not None:
            # Started from the last session's figures: check who we are before trusting them.
            me = await self.call_portal(lambda client: client.me())
            if me is None:
                return
            self.seattui.confirm_session(Who.of(me))
        summary: Dashboard | None = await self.call_portal(lambda client: client.dashboard())
        for card in self.query(".card"):
            card.loading = False
        if summary is None:
            return
        self.view = DashboardView.of(summary)
        self.fresh = True
        self.seattui.balance = self.view.balance
        try:
            self._show(self.view)
        except NoMatches:  # the app closed while the figures were on the way: nothing to draw them on
            return
        self.seattui.remember_dashboard(self.view)

    def _show(self, view: DashboardView, *, caption: str = "") -> None:
        self.query_one("#balance-digits", Digits).update(format_credits(view.balance))
        self.query_one("#balance-caption", Static).update(caption or f"{view.unit} on {view.today.isoformat()}")
        self.query_one("#ledger", Static).update(self._ledger_table(view))
        self.query_one("#products", Static).update(self._products_table(view))
        attention = self.query_one("#attention", OptionList)
        highlighted = attention.highlighted
        attention.clear_options()
        for index, figure in enumerate(view.figures):
            openable = commands.screen_entry(figure.target or "") is not None
            label = Text.assemble(
                (f"{figure.count:>5,}  ", "bold" if figure.count else "dim"),
                figure.text,
                (" ›" if openable else "", "dim"),
            )
            attention.add_option(Option(label, id=f"figure-{index}"))
        attention.highlighted = highlighted if highlighted is not None else 0

    @staticmethod
    def _ledger_table(view: DashboardView) -> Table:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True, style="dim")
        table.add_column(justify="right", no_wrap=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        if not view.ledger:
            table.add_row("", "", Text("No ledger entries yet.", style="dim"))
        for line in view.ledger:
            amount = Text(f"{'+' if line.amount > 0 else ''}{format_credits(line.amount)}",
                          style="green" if line.amount > 0 else "")
            table.add_row(line.day.isoformat(), amount, line.memo)
        return table

    @staticmethod
    def _products_table(view: DashboardView) -> Table:
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column("Product", no_wrap=True, overflow="ellipsis", ratio=1)
        for heading in ("Perm", "Trial", "Seat", "Dev"):
            table.add_column(heading, justify="right", no_wrap=True)
        if not view.products:
            table.add_row(Text("No licenses yet.", style="dim"), "", "", "", "")
        for product in view.products:
            table.add_row(product.name, *(f"{n:,}" if n else "·" for n in (
                product.permanent, product.trials, product.seat_plans, product.activated)))
        return table

    def action_open_figure(self) -> None:
        attention = self.query_one("#attention", OptionList)
        if self.view is None or attention.highlighted is None:
            return
        figure = self.view.figures[attention.highlighted]
        if figure.target and commands.screen_entry(figure.target):
            self.seattui.open_screen_with(figure.target, figure.preset)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_open_figure()
