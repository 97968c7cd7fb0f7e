"""The one way a quote is shown, before anything is paid or refunded: each price line, the
balance now, the cost, the balance after; how it is paid; what of it can come back; and, when
the balance is short, the shortfall and that nothing is charged.

Every review in the app (the wizard, upgrade, extend support, channels, delete) shows its
quote with `quote_renderable` or the `QuoteView` widget, with the `Payment` of that change.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from seattui.domain.money import format_credits
from seattui.domain.pricing import Quote

MOST_LINES = 8  # a quote for many licenses (support of 200) sums up the rest in one line


@dataclass(frozen=True)
class Payment:
    """How a change is paid, and what of it can come back, said before the user agrees.

    Every change is paid from the prepaid credits today: at once, in the same step as the
    change. Paying by invoice is another `way`, with words of its own.
    """

    refund: str  # what of it can come back, and when, as a sentence
    way: str = "credits"

    def how_paid(self, quote: Quote, *, refund: bool = False) -> str:
        if refund:
            return "Refunded to your credits now, with the change."
        if not quote.cost:
            return "Free: nothing is charged."
        return "Paid now from your credits, with the change."


# What comes back of each kind of change (the portal's rules: services/licenses.py, subscriptions.py).
LICENSE = Payment("Refundable in full while the license is not activated on a device (delete it); "
                  "not once activated.")
LICENSE_CHANGE = Payment("Refundable in full with the license while it is not activated on a device "
                         "(delete it); not once activated.")
SUBSCRIPTION = Payment("Not refundable: a month paid stays paid, also when channels are removed later.")
@dataclass(frozen=True)
class InvoicePayment(Payment):
    """Paying a finalized invoice: no change comes with it, only the payment."""

    def how_paid(self, quote: Quote, *, refund: bool = False) -> str:
        return "Paid now from your credits, in full." if quote.cost else "Nothing is due."


INVOICE = InvoicePayment("Not refundable: a paid invoice stays paid; a later refund is a credit note on the "
                         "next month's invoice.")
REFUND = Payment("Deleted licenses cannot be restored; their keys stay.")


def quote_renderable(quote: Quote, payment: Payment, *, refund: bool = False,
                     shortfall: bool = True, terms: bool = True) -> RenderableType:
    """The quote in words. `refund`: its amounts come back (a deletion), shown as positive.
    QuoteView says the shortfall and the terms in lines of their own (`shortfall`, `terms`)."""
    sign = -1 if refund else 1
    lines = Table(box=None, padding=(0, 1), expand=True, show_header=False)
    lines.add_column(ratio=1, overflow="fold")
    lines.add_column(justify="right", no_wrap=True, style="dim")
    lines.add_column(justify="right", no_wrap=True)
    for line in quote.lines[:MOST_LINES]:
        lines.add_row(line.description, f"{line.quantity:,} × {format_credits(sign * line.unit_price)}",
                      format_credits(sign * line.amount))
    if len(quote.lines) > MOST_LINES:
        rest = sum((line.amount for line in quote.lines[MOST_LINES:]), start=quote.cost * 0)
        lines.add_row(f"and {len(quote.lines) - MOST_LINES:,} more", "", format_credits(sign * rest))
    if not quote.lines:
        lines.add_row(Text("Free: nothing is charged.", style="dim"), "", "0.00")
    totals = Table(box=None, padding=(0, 1), show_header=False)
    totals.add_column(no_wrap=True)
    totals.add_column(justify="right", no_wrap=True)
    totals.add_row("Balance now", format_credits(quote.balance))
    totals.add_row("Refund" if refund else "Cost", format_credits(sign * quote.cost))
    totals.add_row(Text("Balance after", style="bold"), Text(format_credits(quote.balance_after), style="bold"))
    parts: list[RenderableType] = [lines, Text(""), totals]
    if shortfall and not quote.affordable:
        parts.append(Text(shortfall_words(quote), style="bold red"))
    if terms:
        parts.append(terms_text(quote, payment, refund=refund))
    return Group(*parts)


def terms_text(quote: Quote, payment: Payment, *, refund: bool = False) -> Text:
    """How it is paid and what of it can come back."""
    terms = Text(payment.how_paid(quote, refund=refund), style="dim")
    if quote.cost and payment.refund:
        terms.append(" " + payment.refund)
    return terms


def shortfall_words(quote: Quote) -> str:
    return (f"Not enough credits: {format_credits(quote.shortfall)} short. Nothing is charged: make the "
            "change smaller, or ask your vendor for credits.")


class QuoteView(Vertical):
    """Empty until a quote arrives; `waiting()` says the portal is being asked."""

    DEFAULT_CSS = """
    QuoteView { height: auto; }
    QuoteView > .quote-shortfall { color: $text-error; text-style: bold; margin-top: 1; }
    QuoteView > .quote-waiting { color: $text-muted; }
    QuoteView > .quote-terms { color: $text-muted; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="quote-figures")
        yield Static("", classes="quote-shortfall")
        yield Static("", classes="quote-terms")

    def on_mount(self) -> None:
        self.clear()

    def show_quote(self, quote: Quote, payment: Payment) -> None:
        figures = self.query_one(".quote-figures", Static)
        figures.remove_class("quote-waiting")
        figures.update(quote_renderable(quote, payment, shortfall=False, terms=False))
        shortfall = self.query_one(".quote-shortfall", Static)
        shortfall.update(shortfall_words(quote))
        shortfall.display = not quote.affordable
        terms = self.query_one(".quote-terms", Static)
        terms.update(terms_text(quote, payment))
        terms.display = True

    def waiting(self) -> None:
        figures = self.query_one(".quote-figures", Static)
        figures.add_class("quote-waiting")
        figures.update("Asking the portal for the price …")
        self.query_one(".quote-shortfall", Static).display = False
        self.query_one(".quote-terms", Static).display = False

    def clear(self) -> None:
        self.query_one(".quote-figures", Static).update("")
        self.query_one(".quote-shortfall", Static).display = False
        self.query_one(".quote-terms", Static).display = False

