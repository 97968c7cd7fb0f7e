"""What the dialogs that quote a change as it is typed, with a coupon code, and confirm it with
ctrl+s share (channels, a seat plan's change): typing a code makes the quote on screen stale
(confirm waits for the quote of the code), the settled code is quoted again, and a code the
portal refuses is said instead of confirming."""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.reactive import reactive
from textual.widgets import Button

from seattui.domain.pricing import Quote
from seattui.tui.screens.base import PortalModal
from seattui.tui.widgets.coupon_field import CouponField
from seattui.tui.widgets.problem import Problem

R = TypeVar("R")


class CouponReview(PortalModal[R]):
    changing: reactive[bool] = reactive(False, bindings=True, init=False)  # ctrl+s is greyed out meanwhile

    def __init__(self) -> None:
        super().__init__()
        self.quote: Quote | None = None  # of what is typed now, the coupon's code included

    def requote(self) -> None:
        """Quote what is typed now again."""
        raise NotImplementedError

    def confirmable(self) -> bool:
        """A quote of what is typed now, affordable, with no coupon the order would refuse."""
        return (self.quote is not None and self.quote.affordable and not self.quote.coupon_refusal
                and not self.changing)

    def coupon_refused(self) -> bool:
        """Whether the quote's coupon is refused (then the problem line says why, and what to do)."""
        if self.quote is None or not self.quote.coupon_refusal:
            return False
        self.query_one(Problem).say(self.quote.coupon_refusal + " Clear the coupon code to go on without it.")
        return True

    @on(CouponField.Editing)
    def _coupon_typed(self) -> None:
        self.quote = None  # ctrl+s waits for the quote of the code typed now
        self.query_one("#confirm", Button).disabled = True

    @on(CouponField.Settled)
    def _coupon_settled(self) -> None:
        self.requote()
