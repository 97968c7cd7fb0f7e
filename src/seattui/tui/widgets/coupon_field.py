"""The coupon code of every paid review (the wizard's, upgrade, support, channels, seats).

The code is checked by the portal's quote once typing pauses, never on each key: the field
posts `Editing` at once (the review's quote is stale from then on, so nothing can be confirmed)
and `Settled` with the code after the pause, or at once on enter. The review then asks for a
quote with the settled code in its `domain.billing.Purchase` (the same body it sends with the
change, so the idempotency key follows the code) and gives the quote to `show`, which says
whether the code applies or why not, in the portal's plain words (`Quote.coupon_refusal`).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, Static

from seattui.domain.discounts import MAX_COUPON_CODE
from seattui.domain.money import format_credits
from seattui.domain.pricing import Quote
from seattui.domain.text import printable

COUPON_LINE = "Coupon "  # how the portal's coupon line starts (domain.discounts.discount_lines)


def coupon_off(quote: Quote) -> str:
    """What the quote's coupon takes off, in words; '' when none applies."""
    taken = [line for line in quote.lines if line.product_id is None and line.amount < 0
             and line.description.startswith(COUPON_LINE)]
    return f"Applies: {format_credits(-taken[0].amount)} credits off." if taken else ""


class CouponField(Vertical):
    """A coupon code box and the portal's verdict on it."""

    DEFAULT_CSS = """
    CouponField { height: auto; }
    CouponField > .coupon-row { height: auto; }
    CouponField > .coupon-row > Label { width: auto; padding: 0 1 0 0; }
    CouponField > .coupon-row > Input { width: 16; }
    CouponField .coupon-feedback { height: auto; }
    CouponField > .coupon-row > .coupon-feedback { width: 1fr; padding: 0 0 0 1; }
    """
    # Long enough for a code typed at speed to be asked once, short enough to feel at once.
    PAUSE = 0.3

    class Editing(Message):
        """The code is being typed: the quote on screen no longer answers it."""

    class Settled(Message):
        """Typing paused (or enter): quote the order with this code ('' for none)."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def __init__(self, *, label: str = "Coupon code", placeholder: str = "", input_id: str = "coupon",
                 row_classes: str = "", beside: bool = True, id: str | None = "coupon-field") -> None:
        super().__init__(id=id)
        # Beside the box, the verdict takes no line of its own: a dialog still fits 80x24.
        self._beside = beside
        self._label, self._placeholder, self._input_id = label, placeholder, input_id
        self._row_classes = f"coupon-row {row_classes}".strip()
        self.code = ""  # the settled code: the one the review quotes and sends
        self._wait: Timer | None = None

    def compose(self) -> ComposeResult:
        feedback = Static("", classes="coupon-feedback", id="coupon-feedback")
        with Horizontal(classes=self._row_classes, id="coupon-row"):
            yield Label(self._label)
            yield Input(placeholder=self._placeholder, id=self._input_id, max_length=MAX_COUPON_CODE)
            if self._beside:
                yield feedback
        if not self._beside:
            yield feedback

    def on_mount(self) -> None:
        self.query_one(".coupon-feedback", Static).display = False

    @property
    def box(self) -> Input:
        return self.query_one(f"#{self._input_id}", Input)

    @property
    def pending(self) -> bool:
        """Typed but not yet quoted."""
        return self._wait is not None

    def set_code(self, code: str) -> None:
        """Put `code` in the box as settled (a review shown again keeps its order's code)."""
        self._stop()
        self.code = code.strip()
        if self.box.value.strip() != self.code:
            self.box.value = self.code

    def _stop(self) -> None:
        if self._wait is not None:
            self._wait.stop()
            self._wait = None

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()  # the review hears the settled code, not each key
        if event.value.strip() == self.code and self._wait is None:
            return  # set_code's own change, or spaces only
        self._stop()
        self.post_message(self.Editing())
        feedback = self.query_one(".coupon-feedback", Static)
        feedback.update(Text("Checking the code …", style="dim"))
        feedback.display = bool(event.value.strip())
        self._wait = self.set_timer(self.PAUSE, self._settle)

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        if self._wait is not None:  # enter checks the code at once; the next enter goes on
            event.stop()
            self._settle()

    def _settle(self) -> None:
        self._wait = None
        self.code = self.box.value.strip()
        self.post_message(self.Settled(self.code))

    def show(self, quote: Quote | None) -> None:
        """Whether the code applies to this quote: what it takes off, or why not."""
        feedback = self.query_one(".coupon-feedback", Static)
        feedback.display = quote is not None and bool(self.code)
        if quote is None or not self.code:
            feedback.update("")
        elif quote.coupon_refusal:
            # Beside the box there is room for the reason alone (the review says it cannot go on).
            after = "" if self._beside else " Clear it to order without a coupon."
            feedback.update(Text(printable(quote.coupon_refusal) + after, style="bold red"))
        else:
            feedback.update(Text(coupon_off(quote) or "Applies, but takes nothing off this order.", style="green"))
