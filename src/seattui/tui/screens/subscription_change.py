"""A change of one seat plan or channel subscription, from the subscriptions screen: a flexible
plan's purchase cap, seats added to an annual contract, an annual contract's renewal setting, a
trial's conversion, or a subscription's cancellation. Each shows the portal's quote as it is
typed (what it costs now, how it is paid, what is not refundable) and changes nothing until
ctrl+s confirms it."""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from seattui.domain import errors
from seattui.domain.catalog import SeatPlan
from seattui.domain.licensing import Renewal
from seattui.domain.seat_plans import (
    MAX_SEATS,
    CapChange,
    PlanConversion,
    RenewalChange,
    SeatAddition,
    SubscriptionSummary,
    check_addition,
    seats_to_add,
)
from seattui.domain.validation import whole_number
from seattui.tui import commands
from seattui.tui.changes import PURCHASE
from seattui.tui.formatting import plural
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.coupon_review import CouponReview
from seattui.tui.styles import style
from seattui.tui.widgets.coupon_field import CouponField
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.quote_view import QuoteView, Refunds


class Change(StrEnum):
    CAP = "cap"
    SEATS = "seats"
    RENEWAL = "renewal"
    CONVERT = "convert"
    CANCEL = "cancel"


# What of each change can come back (seat plans refund nothing; the portal's rules are in
# services/seat_plans.py and subscriptions.py), said beside every quote.
NOT_REFUNDABLE = {
    Change.CAP: Refunds("Not refundable: seat-days used are billed at the end of the month, whatever the cap."),
    Change.SEATS: Refunds("Not refundable: the seats stay on the contract until its renewal and are never refunded."),
    Change.RENEWAL: Refunds("Not refundable: a renewed term is billed in full and never refunded."),
    Change.CONVERT: Refunds("Not refundable: a flexible month is billed by the seat-day; an annual contract is "
                            "billed in full and never refunded."),
    Change.CANCEL: Refunds("No refund: the month paid stays paid, also when cancelled at once."),
}
# The changes charged at once, so a coupon can take something off them (a cap's seat-days are
# billed in arrears; a renewal setting and a cancellation cost nothing now).
PAID_NOW = frozenset({Change.SEATS, Change.CONVERT})
TITLES = {
    Change.CAP: "Change the purchase cap",
    Change.SEATS: "Add seats to the annual contract",
    Change.RENEWAL: "Set what the contract does at renewal",
    Change.CONVERT: "Convert the trial",
    Change.CANCEL: "Cancel the subscription",
}


def _now_words(item: SubscriptionSummary, change: Change) -> str:
    if item.plan == "flexible":
        return (f"Now {item.assigned or 0} of {plural(item.size, 'seat')} assigned. Nothing is charged now: "
                "seats are billed by the day they are held; the cap never goes below the seats assigned.")
    if item.plan == "annual":
        renews = f", renews {item.next_renewal}" if item.next_renewal else ""
        if change is Change.RENEWAL:  # short: the three choices and the quote must fit 80x24
            return f"Now {plural(item.size, 'seat')}, {item.assigned or 0} assigned{renews}."
        return (f"Now {plural(item.size, 'seat')} (at most {item.contract_max or MAX_SEATS:,}){renews}. Seats added "
                "are charged now for the days left of the term and cannot be removed until renewal.")
    if item.plan == "trial":
        return f"A trial of {plural(item.size, 'seat')}, {item.assigned or 0} assigned; they are kept."
    return f"{plural(item.size, 'channel')}, paid to {item.next_renewal}."


class SubscriptionChangeScreen(CouponReview[bool]):
    SCOPE = "subscription_change"
    CSS_PATH = style("subscription_change.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, item: SubscriptionSummary, change: Change) -> None:
        super().__init__()
        self.item, self.change = item, change
        self.quoted: Any = None  # the change the quote is for: the one sent
        self.request_keys = RequestKeys()  # a retry or a double press never charges twice

    def compose(self) -> ComposeResult:
        item = self.item
        with VerticalScroll(id="change-dialog"):
            yield Static(f"{TITLES[self.change]}: {item.product_name} on {item.key}", id="change-title")
            yield Static(_now_words(item, self.change), id="change-now")
            if self.change in (Change.CAP, Change.SEATS, Change.CONVERT):
                with Horizontal(id="change-fields"):
                    if self.change is Change.CONVERT:
                        with RadioSet(id="change-plan"):
                            yield RadioButton("Flexible (cap)", value=True, id="plan-flexible")
                            yield RadioButton("Annual (seats)", id="plan-annual")
                    with Vertical(id="change-size"):
                        label = {Change.CAP: "New cap, in seats", Change.SEATS: "Seats to add",
                                 Change.CONVERT: "Seats"}[self.change]
                        if self.change is Change.SEATS and item.contract_max is not None:
                            label += f" (at most {seats_to_add(item.size, item.contract_max):,})"
                        yield Label(label)
                        start = {Change.CAP: str(item.size), Change.SEATS: "",
                                 Change.CONVERT: str(max(item.size, item.assigned or 0))}[self.change]
                        yield Input(start, type="integer", id="change-input")
                if self.change in PAID_NOW:
                    yield CouponField()
            elif self.change is Change.RENEWAL:
                with RadioSet(id="change-renewal"):
                    current = item.renewal or Renewal.SAME
                    for choice, words in ((Renewal.SAME, "Renew with the same seats"),
                                          (Renewal.ASSIGNED, "Renew with the seats assigned that day"),
                                          (Renewal.END, "End at term end")):
                        yield RadioButton(words, value=choice is current, id=f"renewal-{choice.value}")
            else:
                with RadioSet(id="change-when"):
                    yield RadioButton(f"At the end of the paid month ({item.next_renewal})", value=True,
                                      id="when-month-end")
                    yield RadioButton("Now, at once (no refund)", id="when-now")
            yield QuoteView(id="change-quote")
            # The quote view says what is not refundable beside a cost; a change that costs nothing
            # now (a cap, a renewal, a cancellation) still says it, before the user agrees.
            yield Static(NOT_REFUNDABLE[self.change].refund, id="change-refund")
            yield Problem(id="change-problem")
            with Horizontal(id="change-buttons"):
                yield Button("Confirm (ctrl+s)", id="confirm", variant="warning", disabled=True)
                yield Button("Back (esc)", id="cancel")

    def on_mount(self) -> None:
        boxes = self.query("#change-input")
        if boxes:
            boxes.first(Input).focus()
        else:
            self.query_one(RadioSet).focus()
        self._typed()

    # -- what is asked ---------------------------------------------------------------------

    def _asked(self) -> Any:
        """The change as typed, or raise ValidationFailed saying what to type."""
        if self.change is Change.RENEWAL:
            pressed = self.query_one("#change-renewal", RadioSet).pressed_button
            return RenewalChange(renewal=Renewal((pressed.id or "renewal-same").removeprefix("renewal-")))
        if self.change is Change.CANCEL:
            pressed = self.query_one("#change-when", RadioSet).pressed_button
            return pressed is not None and pressed.id == "when-now"
        number = whole_number(self.query_one("#change-input", Input).value, 1, self._most_seats(), "seats")
        if self.change is Change.CAP:
            if number == self.item.size:
                raise errors.ValidationFailed(f"The cap is {plural(number, 'seat')} already: type another.")
            return CapChange(cap=number)
        coupon = self.query_one(CouponField).code or None
        if self.change is Change.SEATS:
            return SeatAddition(seats=number, coupon=coupon)
        pressed = self.query_one("#change-plan", RadioSet).pressed_button
        plan = SeatPlan.ANNUAL if pressed is not None and pressed.id == "plan-annual" else SeatPlan.FLEXIBLE
        return PlanConversion(plan=plan, seats=number, coupon=coupon)

    def _most_seats(self) -> int:
        """What the box takes: seats added stay within the contract's maximum, the portal's limit."""
        contract_max = self.item.contract_max
        if self.change is not Change.SEATS or contract_max is None:
            return MAX_SEATS
        check_addition(self.item.size, contract_max, 1)  # at its maximum already: says so
        return seats_to_add(self.item.size, contract_max)

    @on(Input.Changed)
    @on(RadioSet.Changed)
    def _typed(self) -> None:
        self.quote, self.quoted = None, None
        self.query_one("#confirm", Button).disabled = True
        for field in self.query(CouponField):
            field.show(None)  # said again with the quote, if there is one
        try:
            asked = self._asked()
        except errors.ValidationFailed as invalid:
            self.query_one(QuoteView).clear()
            self.query_one(Problem).say(invalid.message)
            return
        self.query_one(Problem).clear()
        self.query_one(QuoteView).waiting()
        self._quote(asked)

    def _quote_call(self, asked: Any) -> Any:
        if self.change is Change.CANCEL:
            return lambda client: client.quote_cancel(self.item.id, at_once=asked)
        return lambda client: client.quote_seat_plan(self.item.id, asked)

    @work(exclusive=True, group="quote")  # the newest number typed supersedes the last
    async def _quote(self, asked: Any) -> None:
        quote = await self.call_portal(self._quote_call(asked))
        if quote is None:
            self.query_one(QuoteView).clear()
            return
        self.quote, self.quoted = quote, asked
        self.query_one(QuoteView).show_quote(quote, NOT_REFUNDABLE[self.change])
        self.query_one("#change-refund").display = not quote.cost
        for field in self.query(CouponField):
            field.show(quote)
        self.query_one("#confirm", Button).disabled = not self.confirmable()

    def requote(self) -> None:
        self._typed()

    # -- confirming ------------------------------------------------------------------------

    @on(Input.Submitted, "#change-input")
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _back(self) -> None:
        self.dismiss(False)

    def action_confirm(self) -> None:
        if self.coupon_refused() or not self.confirmable():
            return
        self.query_one("#confirm", Button).disabled = True
        self.changing = True
        asked = self.quoted
        body = (self.change.value, self.item.id, repr(asked))
        self.start_write("confirm", partial(self._send, asked, body, self.request_keys.key_for(*body)))

    async def _send(self, asked: Any, body: tuple[object, ...], idempotency_key: str) -> None:
        try:
            self.query_one(Problem).say("Changing …")
            if self.change is Change.CANCEL:
                call: Any = lambda client: client.cancel_subscription(
                    self.item.id, at_once=asked, idempotency_key=idempotency_key)
            else:
                call = lambda client: client.change_seat_plan(
                    self.item.id, asked, idempotency_key=idempotency_key)
            try:
                changed = await self.call_portal(call, retry_key="ctrl+s", raising=(errors.InsufficientCredits,))
            except errors.InsufficientCredits as short:  # the balance or the unpaid total moved since the quote
                self.query_one(Problem).say(short.message)
                self._quote(asked)
                return
            if changed is None:
                self.query_one("#confirm", Button).disabled = False  # ctrl+s retries with the same key
                return
            self.request_keys.succeeded(*body)
            self.seattui.announce_change(PURCHASE)
            self.dismiss(True)
        finally:
            self.changing = False
