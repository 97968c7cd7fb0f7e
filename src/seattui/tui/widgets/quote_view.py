"""A quote in words: each price line, the balance, the cost, the balance after, and, when the
balance is short, the shortfall and that nothing can be charged."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from seattui.domain.money import format_credits
from seattui.domain.pricing import Quote


def quote_renderable(quote: Quote) -> RenderableType:
    lines = Table(box=None, padding=(0, 1), expand=True, show_header=False)
    lines.add_column(ratio=1, overflow="fold")
    lines.add_column(justify="right", no_wrap=True, style="dim")
    lines.add_column(justify="right", no_wrap=True)
    for line in quote.lines:
        lines.add_row(line.description, f"{line.quantity:,} × {format_credits(line.unit_price)}",
                      format_credits(line.amount))
    if not quote.lines:
        lines.add_row(Text("Free: nothing is charged.", style="dim"), "", "0.00")
    totals = Table(box=None, padding=(0, 1), show_header=False)
    totals.add_column(no_wrap=True)
    totals.add_column(justify="right", no_wrap=True)
    totals.add_row("Balance now", format_credits(quote.balance))
    totals.add_row("Cost", format_credits(quote.cost))
    totals.add_row(Text("Balance after", style="bold"), Text(format_credits(quote.balance_after), style="bold"))
    return Group(lines, Text(""), totals)


class QuoteView(Vertical):
    """Empty until a quote arrives; `waiting()` says the portal is being asked."""

    DEFAULT_CSS = """
    QuoteView { height: auto; }
    QuoteView > .quote-shortfall { color: $text-error; text-style: bold; margin-top: 1; }
    QuoteView > .quote-waiting { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="quote-figures")
        yield Static("", classes="quote-shortfall")

    def on_mount(self) -> None:
        self.clear()

    def show_quote(self, quote: Quote) -> None:
        figures = self.query_one(".quote-figures", Static)
        figures.remove_class("quote-waiting")
        figures.update(quote_renderable(quote))
        shortfall = self.query_one(".quote-shortfall", Static)
        shortfall.update(
            f"Not enough credits: {format_credits(quote.shortfall)} short. Nothing can be charged; "
            "ask your vendor for credits or make the order smaller."
        )
        shortfall.display = not quote.affordable

    def waiting(self) -> None:
        figures = self.query_one(".quote-figures", Static)
        figures.add_class("quote-waiting")
        figures.update("Asking the portal for the price …")
        self.query_one(".quote-shortfall", Static).display = False

    def clear(self) -> None:
        self.query_one(".quote-figures", Static).update("")
        self.query_one(".quote-shortfall", Static).display = False
