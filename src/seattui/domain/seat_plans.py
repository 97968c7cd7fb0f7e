"""Seat plans and the subscriptions list: flexible caps billed by the seat-day, annual
contracts that grow during the term and renew, and monthly channel subscriptions. Pure: no I/O.

Seat-days are counted by nights: a seat assigned on day A and taken back on day B counts
B - A days, so the day a seat is assigned is not billed and the day it is taken back is
(a seat assigned and taken back the same day costs nothing). Within a month that is every
day D of the month with A < D <= B: ten seats assigned on the 20th of a 30-day month and
kept are billed 10 days each.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict, Field, StrictBool

from seattui.domain.base import Count, Credits, DomainModel
from seattui.domain.billing import Purchase, month_end, month_name, month_start
from seattui.domain.catalog import Product, SeatPlan
from seattui.domain.errors import ValidationFailed
from seattui.domain.licensing import Renewal
from seattui.domain.money import format_credits, round_credits

MAX_SEATS = 100_000


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    ENDING = "ending"  # cancelled at the end of the paid month
    SUSPENDED = "suspended"  # the renewal could not be paid within the grace period
    ENDED = "ended"


class SubscriptionKind(StrEnum):
    SEATS = "seats"  # a seat plan (a license of a seat product): cap, seats, renewal
    CHANNELS = "channels"  # a channel subscription: channels, cancel


class CapChange(Purchase):
    """A flexible plan's new purchase cap."""

    cap: Count = Field(ge=1, le=MAX_SEATS)


class SeatAddition(Purchase):
    """Seats added to an annual contract for the rest of its term."""

    seats: Count = Field(ge=1, le=MAX_SEATS)


class RenewalChange(DomainModel):
    renewal: Renewal


class Cancellation(DomainModel):
    """Cancel a channel subscription at the end of its paid month, or at once (no refund)."""

    at_once: StrictBool = False


class PlanConversion(Purchase):
    """A seat trial becomes a flexible plan (with a cap) or an annual contract (with seats)."""

    plan: SeatPlan
    seats: Count = Field(ge=1, le=MAX_SEATS)


class SubscriptionSummary(DomainModel):
    """One row of the subscriptions list: a seat plan or a channel subscription."""

    model_config = ConfigDict(frozen=True)

    kind: SubscriptionKind
    id: int
    key: str
    product_id: str
    product_name: str
    plan: str  # flexible, annual, trial, monthly
    assigned: int | None = None  # seats assigned (seat plans)
    size: int  # the cap (flexible), the contract's seats (annual), the trial's seats, the channels
    contract_max: int | None = None  # annual: the most seats the contract may grow to
    next_renewal: date | None = None
    renewal: Renewal | None = None
    status: str
    monthly_cost: Credits
    grace_ends_on: date | None = None  # a suspended or unpaid subscription: when it is (was) suspended


# -- seat-days ----------------------------------------------------------------------------------

def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def seat_days(intervals: Iterable[tuple[date, date | None]], month: date) -> int:
    """The seat-days in `month` of seats held from each start to each end (None: still held)."""
    before = month_start(month) - timedelta(days=1)
    last = month_end(month)
    counted = 0
    for start, end in intervals:
        stop = last if end is None or end > last else end
        begin = start if start > before else before
        if stop > begin:
            counted += (stop - begin).days
    return counted


def flexible_month_amount(price_per_seat: Decimal, days: int, month: date) -> Decimal:
    """Price per seat per month × seat-days ÷ days in that month, rounded once, half up."""
    return round_credits(price_per_seat * days / days_in_month(month))


def flexible_month_description(product: Product, days: int, month: date) -> str:
    offer = product.seat_plan(SeatPlan.FLEXIBLE)
    return (f"{product.name}, flexible plan, {month_name(month)}: {days:,} seat-days × "
            f"{format_credits(offer.price_per_seat)} a seat a month ÷ {days_in_month(month)} days")


def annual_addition_amount(price_per_year: Decimal, seats: int, days_left: int, term_days: int) -> Decimal:
    """Seats added mid-term: the year's price for the days left of the term, rounded once."""
    if term_days <= 0:
        return Decimal("0.00")
    return round_credits(price_per_year * seats * max(days_left, 0) / term_days)


def seats_to_add(seats: int, contract_max: int) -> int:
    """The most seats an annual contract of `seats` can still take: it grows up to its maximum."""
    return max(contract_max - seats, 0)


def check_addition(seats: int, contract_max: int, adding: int) -> None:
    """Seats added to an annual contract stay within its maximum (the portal's rule and the
    TUI's box say the same limit)."""
    room = seats_to_add(seats, contract_max)
    if adding > room:
        if room == 0:
            raise ValidationFailed(
                f"The contract has {seats:,} seats, its maximum: no seats can be added until its renewal.",
                {"seats": "none: the contract is at its maximum"})
        raise ValidationFailed(
            f"The contract has {seats:,} seats and a maximum of {contract_max:,}: add at most {room:,}.",
            {"seats": f"at most {room:,}"})


def check_cap(product: Product, cap: int, assigned: int) -> None:
    """A flexible cap is at least the seats assigned now and at most the catalog's maximum."""
    offer = product.seat_plan(SeatPlan.FLEXIBLE)
    if cap > offer.max_seats:
        raise ValidationFailed(f"The flexible plan of {product.name} has at most {offer.max_seats:,} seats.",
                               {"cap": f"at most {offer.max_seats}"})
    if cap < assigned:
        raise ValidationFailed(
            f"{assigned:,} seats are assigned now; the cap cannot go below that. Take seats back on the "
            "employees screen (S) first, or choose a cap of at least " f"{assigned:,}.",
            {"cap": f"at least {assigned} (the seats assigned now)"})
