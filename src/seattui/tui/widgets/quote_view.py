"""The one way a quote is shown, before anything is paid or refunded: each price line, the
balance now, the cost, the balance after; how it is paid; what of it can come back; and, when
the balance is short or the credit limit passed, by how much and that nothing is charged.

Every review in the app (the wizard, upgrade, extend support, channels, delete) shows its
quote with `quote_renderable` or the `QuoteView` widget: how it is paid is the portal's
`Quote.payment` (domain.billing.Payment), what of it can come back the change's `Refunds`.
Whether a coupon applies is said by the review's `CouponField` (widgets/coupon_field.py).
A deletion's refunds are shown by `refund_renderable`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from seattui.domain.billing import PaymentMethod
from seattui.domain.catalog import RefundPolicy
from seattui.domain.money import format_credits
from seattui.domain.pricing import Quote, multiplies_out

MOST_LINES = 8  # a quote for many licenses (support of 200) sums up the rest in one line


@dataclass(frozen=True)
class Refunds:
    """What of a change can come back, and when, said before the user agrees. How it is paid
    (credits now, or which month's invoice) is the portal's `Quote.payment`."""

    refund: str  # as a sentence


def license_refunds(policy: RefundPolicy, *, change: bool = False, annual: bool = False) -> Refunds:
    """The catalog's refund policy of a license (the rule the portal applies when it is deleted)."""
    what = "with the license" if change else "by deleting the license"
    if policy.days == 0:
        return Refunds("Not refundable: an annual plan is billed in full and never refunded." if annual
                       else "Not refundable, also when the license is deleted.")
    window = "at any time" if policy.days is None else f"within {policy.days} days of the purchase"
    condition = ", while it was never activated on a device" if policy.until_activated else ""
    return Refunds(f"Refundable {what} {window}{condition}.")


# What comes back of a change made to licenses of several products (support of many).
LICENSE_CHANGE = Refunds("Refundable with each license, as its product's refund policy says "
                         "(the delete confirmation shows how much).")
SUBSCRIPTION = Refunds("Not refundable: a month paid stays paid, also when channels are removed later.")


def how_paid(quote: Quote) -> str:
    """The portal's words for how this order is paid: credits now, or which invoice."""
    if not quote.cost:
        return "Free: nothing is charged."
    if quote.payment is None:  # a portal from before billing: every change was prepaid
        return "Paid now from your credits, with the change."
    if quote.payment.method is PaymentMethod.INVOICE:
        return f"{quote.payment.summary}. Nothing is taken from your credits now."
    if not quote.affordable:  # never "balance after -2,878.40": the shortfall is said beside it
        return f"To be paid now from credits, which are {format_credits(quote.shortfall)} short."
    return f"{quote.payment.summary}."


# Paying a finalized invoice: no change comes with it, and a paid invoice stays paid.
INVOICE = Refunds("Not refundable: a paid invoice stays paid; a later refund is a credit note on the "
                  "next month's invoice.")


def on_invoice(quote: Quote) -> bool:
    return quote.payment is not None and quote.payment.method is PaymentMethod.INVOICE


def payment_choice(quote: Quote, key: str) -> str:
    """What the user may press to pay the other way (monthly terms with credits left), or ''."""
    payment = quote.payment
    if payment is None or not payment.may_pay_from_credits or not quote.cost:
        return ""
    if payment.method is PaymentMethod.INVOICE:
        return f"{key}: pay it from credits now instead (balance {format_credits(quote.balance)})"
    return f"{key}: put it on the monthly invoice instead"


def _price_lines(quote: Quote, sign: int = 1) -> Table:
    lines = Table(box=None, padding=(0, 1), expand=True, show_header=False)
    lines.add_column(ratio=1, overflow="fold")
    lines.add_column(justify="right", no_wrap=True, style="dim")
    lines.add_column(justify="right", no_wrap=True)
    for line in quote.lines[:MOST_LINES]:
        # A discount or a credit is an amount, not a quantity times a price; a line rounded once
        # over its days says its arithmetic in its description, never a product that is off by a cent.
        shown = not (line.quantity == 1 and line.amount < 0) and multiplies_out(line)
        each = f"{line.quantity:,} × {format_credits(sign * line.unit_price)}" if shown else ""
        lines.add_row(line.description, each, format_credits(sign * line.amount))
    if len(quote.lines) > MOST_LINES:
        rest = sum((line.amount for line in quote.lines[MOST_LINES:]), start=quote.cost * 0)
        lines.add_row(f"and {len(quote.lines) - MOST_LINES:,} more", "", format_credits(sign * rest))
    return lines


def _totals() -> Table:
    totals = Table(box=None, padding=(0, 1), show_header=False)
    totals.add_column(no_wrap=True)
    totals.add_column(justify="right", no_wrap=True)
    return totals


def quote_renderable(quote: Quote, refunds: Refunds, *, shortfall: bool = True, terms: bool = True) -> RenderableType:
    """The quote in words: the lines, then the balance (paid from credits) or the month's
    invoice and its limit (on the invoice). QuoteView says the shortfall and the terms in lines
    of their own (`shortfall`, `terms`)."""
    lines = _price_lines(quote)
    if not quote.lines:
        lines.add_row(Text("Free: nothing is charged.", style="dim"), "", "0.00")
    totals = _totals()
    payment = quote.payment
    if quote.cost and on_invoice(quote) and payment is not None and payment.unpaid_after is not None:
        assert payment.credit_limit is not None
        totals.add_row("Cost", format_credits(quote.cost))
        totals.add_row(Text(f"Unpaid after ({payment.invoice_month})", style="bold"),
                       Text(format_credits(payment.unpaid_after), style="bold"))
        totals.add_row("Credit limit", format_credits(payment.credit_limit))
    else:
        totals.add_row("Balance now", format_credits(quote.balance))
        totals.add_row("Cost", format_credits(quote.cost))
        totals.add_row(Text("Balance after", style="bold"), Text(format_credits(quote.balance_after), style="bold"))
    parts: list[RenderableType] = [lines, Text(""), totals]
    if shortfall and not quote.affordable:
        parts.append(Text(shortfall_words(quote), style="bold red"))
    if terms:
        parts.append(terms_text(quote, refunds))
    return Group(*parts)


def terms_text(quote: Quote, refunds: Refunds) -> Text:
    """How it is paid and what of it can come back."""
    terms = Text(how_paid(quote), style="dim")
    if quote.cost and refunds.refund:
        terms.append(" " + refunds.refund)
    return terms


def shortfall_words(quote: Quote) -> str:
    """Why the order cannot be placed, in amounts: credits short, or over the credit limit."""
    payment = quote.payment
    if on_invoice(quote) and payment is not None and payment.over_limit > 0:
        assert payment.unpaid_after is not None and payment.credit_limit is not None
        return (f"Over the credit limit: the unpaid total would be {format_credits(payment.unpaid_after)}, "
                f"{format_credits(payment.over_limit)} over the limit of {format_credits(payment.credit_limit)}. "
                "Nothing is charged: make the order smaller, pay an open invoice"
                + (", or pay this order from credits now." if payment.may_pay_from_credits else "."))
    return (f"Not enough credits: {format_credits(quote.shortfall)} short. Nothing is charged: make the "
            "change smaller, or ask your vendor for credits.")


def refund_renderable(quote: Quote) -> RenderableType:
    """A deletion's quote (the portal's refund rule, line by line): what comes back of each
    license and how (credits now, or a credit note on the month's invoice), or why nothing does."""
    gone = " Deleted licenses cannot be restored; their keys stay."
    if not quote.lines:
        return Text("Nothing comes back: nothing was paid for them (a trial is free)." + gone)
    lines = Table(box=None, padding=(0, 1), expand=True, show_header=False)
    lines.add_column(ratio=1, overflow="fold")
    lines.add_column(justify="right", no_wrap=True)
    for line in quote.lines[:MOST_LINES]:
        lines.add_row(line.description, format_credits(-line.amount) if line.amount else Text("nothing", style="dim"))
    if len(quote.lines) > MOST_LINES:
        rest = sum((line.amount for line in quote.lines[MOST_LINES:]), start=quote.cost * 0)
        lines.add_row(f"and {len(quote.lines) - MOST_LINES:,} more", format_credits(-rest))
    refund = -quote.cost
    if not refund:
        return Group(lines, Text(""), Text("Nothing comes back: each line says why." + gone, style="bold"))
    credits_back = quote.balance_after - quote.balance
    credit_note = refund - credits_back
    totals = _totals()
    totals.add_row("Balance now", format_credits(quote.balance))
    totals.add_row("Credits back now", format_credits(credits_back))
    if credit_note:
        totals.add_row("As a credit note on the invoice", format_credits(credit_note))
    totals.add_row(Text("Balance after", style="bold"), Text(format_credits(quote.balance_after), style="bold"))
    if credit_note and credits_back:
        how = (f"{format_credits(credits_back)} comes back to your credits now and {format_credits(credit_note)} "
               "as a credit note on this month's invoice.")
    elif credit_note:
        how = f"{format_credits(credit_note)} comes back as a credit note on this month's invoice, not as credits."
    else:
        how = f"{format_credits(credits_back)} comes back to your credits now, with the deletion."
    return Group(lines, Text(""), totals, Text(how + gone, style="dim"))


class QuoteView(Vertical):
    """Empty until a quote arrives; `waiting()` says the portal is being asked."""

    DEFAULT_CSS = """
    QuoteView { height: auto; }
    QuoteView > .quote-shortfall { color: $text-error; text-style: bold; margin-top: 1; }
    QuoteView > .quote-waiting { color: $text-muted; }
    QuoteView > .quote-choice { text-style: bold; margin-top: 1; }
    QuoteView > .quote-terms { color: $text-muted; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="quote-figures")
        yield Static("", classes="quote-shortfall")
        yield Static("", classes="quote-choice")  # the key that pays the other way, before the small print
        yield Static("", classes="quote-terms")

    def on_mount(self) -> None:
        self.clear()

    def show_quote(self, quote: Quote, refunds: Refunds, *, choice: str = "") -> None:
        figures = self.query_one(".quote-figures", Static)
        figures.remove_class("quote-waiting")
        figures.update(quote_renderable(quote, refunds, shortfall=False, terms=False))
        shortfall = self.query_one(".quote-shortfall", Static)
        shortfall.update(shortfall_words(quote))
        shortfall.display = not quote.affordable
        terms = self.query_one(".quote-terms", Static)
        terms.update(terms_text(quote, refunds))
        terms.display = True
        other_way = payment_choice(quote, choice) if choice else ""
        chosen = self.query_one(".quote-choice", Static)
        chosen.update(other_way)
        chosen.display = bool(other_way)

    def waiting(self) -> None:
        figures = self.query_one(".quote-figures", Static)
        figures.add_class("quote-waiting")
        figures.update("Asking the portal for the price …")
        for part in (".quote-shortfall", ".quote-choice", ".quote-terms"):
            self.query_one(part, Static).display = False

    def clear(self) -> None:
        self.query_one(".quote-figures", Static).update("")
        for part in (".quote-shortfall", ".quote-choice", ".quote-terms"):
            self.query_one(part, Static).display = False

