"""Resize a subscription: type the channels, see what it costs now (added channels pay their
share of the month already paid; fewer channels refund nothing) and how it is paid (credits
now, or the month's invoice, or on monthly terms with credits left the user's choice), confirm.
An optional purchase-order number goes on the invoice."""

from __future__ import annotations

from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from seattui.domain import errors
from seattui.domain.billing import MAX_PO_NUMBER
from seattui.domain.licensing import MAX_CHANNELS, Subscription
from seattui.domain.validation import whole_number
from seattui.tui.changes import PURCHASE
from seattui.tui import commands
from seattui.tui.idempotency import RequestKeys
from seattui.tui.formatting import plural
from seattui.tui.screens.coupon_review import CouponReview
from seattui.tui.styles import style
from seattui.tui.widgets.coupon_field import CouponField
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.quote_view import SUBSCRIPTION, QuoteView


class ChannelsScreen(CouponReview[Subscription | None]):
    SCOPE = "channels"
    CSS_PATH = style("channels.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, subscription: Subscription, product_name: str) -> None:
        super().__init__()
        self.subscription = subscription
        self.product_name = product_name
        self.quoted_channels: int | None = None
        self.quoted_purchase: dict[str, object] = {}
        self.request_keys = RequestKeys()  # a retry or a double press never charges twice

    def compose(self) -> ComposeResult:
        current = self.subscription
        with VerticalScroll(id="channels-dialog"):  # scrolls where a long quote does not fit
            yield Static(f"Change the channels of {self.product_name} on {current.key}", id="channels-title")
            yield Static(f"Now {plural(current.channels, 'channel')}, paid to {current.period_ends_on:%Y-%m-%d}. "
                         "More channels cost their share of the days left; fewer refund nothing.",
                         id="channels-now")
            with Horizontal(id="channels-fields"):
                with Vertical(id="channels-size"):
                    yield Label("Channels")
                    yield Input(str(current.channels), type="integer", id="channels-input")
                with Vertical(id="channels-po"):
                    yield Label("PO number, on the invoice (optional)")
                    yield Input(placeholder="PO-2026-0042", max_length=MAX_PO_NUMBER, id="po-number")
            yield CouponField()
            yield Checkbox("Pay from credits now, not on the monthly invoice", False, id="pay-from-credits")
            yield QuoteView(id="channels-quote")
            yield Problem(id="channels-problem")
            with Horizontal(id="channels-buttons"):
                yield Button("Confirm (ctrl+s)", id="confirm", variant="warning", disabled=True)
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#pay-from-credits").display = False  # offered once a quote says it may be
        self.query_one("#channels-input", Input).focus()  # selects the number: typing replaces it

    def purchase(self) -> dict[str, object]:
        """What the request carries for its invoice and its payment (domain.billing.Purchase)."""
        return {"po_number": self.query_one("#po-number", Input).value.strip() or None,
                "pay_from_credits": self.query_one("#pay-from-credits", Checkbox).value,
                "coupon": self.query_one(CouponField).code or None}

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _typed(self) -> None:
        self.quote, self.quoted_channels = None, None
        self.query_one("#confirm", Button).disabled = True
        self.query_one(CouponField).show(None)  # said again with the quote, if there is one
        try:
            channels = whole_number(self.query_one("#channels-input", Input).value, 1, MAX_CHANNELS, "channels")
        except errors.ValidationFailed as invalid:
            self.query_one(QuoteView).clear()
            self.query_one(Problem).say(invalid.message)
            return
        if channels == self.subscription.channels:
            self.query_one(QuoteView).clear()
            self.query_one(Problem).say(f"The subscription has {plural(channels, 'channel')} already.")
            return
        self.query_one(QuoteView).waiting()
        self._quote(channels, self.purchase())

    @work(exclusive=True, group="quote")  # the newest size typed supersedes the last
    async def _quote(self, channels: int, purchase: dict[str, object]) -> None:
        quote = await self.call_portal(lambda client: client.quote_channels(self.subscription.id, channels,
                                                                            **purchase))
        if quote is None:
            self.query_one(QuoteView).clear()
            return
        self.quote, self.quoted_channels, self.quoted_purchase = quote, channels, purchase
        choice = self.query_one("#pay-from-credits", Checkbox)
        # Offered on monthly terms with credits left; kept while ticked, so it can be unticked.
        choice.display = choice.value or bool(quote.payment and quote.payment.may_pay_from_credits and quote.cost)
        self.query_one(QuoteView).show_quote(quote, SUBSCRIPTION)
        self.query_one(CouponField).show(quote)
        self.query_one("#confirm", Button).disabled = not self.confirmable()

    def requote(self) -> None:
        self._typed()

    @on(Input.Submitted, "#channels-input")
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def action_confirm(self) -> None:
        if self.coupon_refused() or not self.confirmable():
            return
        assert self.quoted_channels is not None
        self.query_one("#confirm", Button).disabled = True
        self.changing = True
        channels, purchase = self.quoted_channels, self.quoted_purchase
        body = (self.subscription.id, channels, purchase)
        self.start_write("confirm", partial(self._change, channels, purchase, self.request_keys.key_for(*body)))

    async def _change(self, channels: int, purchase: dict[str, object], idempotency_key: str) -> None:
        try:
            await self._send_change(channels, purchase, idempotency_key)
        finally:
            self.changing = False

    async def _send_change(self, channels: int, purchase: dict[str, object], idempotency_key: str) -> None:
        self.query_one(Problem).say("Changing …")
        try:
            changed = await self.call_portal(
                lambda client: client.change_channels(self.subscription.id, channels,
                                                      idempotency_key=idempotency_key, **purchase),
                retry_key="ctrl+s", raising=(errors.InsufficientCredits,),
            )
        except errors.InsufficientCredits as short:  # a credit limit reached too
            self.query_one(Problem).say(short.message)  # the balance or the unpaid total moved since the quote
            self._quote(channels, purchase)
            return
        if changed is None:
            self.query_one("#confirm", Button).disabled = False  # ctrl+s retries with the same key
            return
        self.request_keys.succeeded(self.subscription.id, channels, purchase)
        self.seattui.announce_change(PURCHASE)
        self.dismiss(changed)
