"""Reseller discounts and coupons: the lines they add to a quote, an order and its invoice.

They apply in one order, always: first the organization's reseller discount, per product (a
discount for the product, else the overall one), on each product's net amount; then the coupon,
on what the products it is for cost after the reseller discount. Each discount is its own line
with a negative amount, rounded to the hundredth once (half up), and never larger than what it
discounts: no amount goes below zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from seattui.domain.base import Credits, DomainModel
from seattui.domain.money import round_credits
from seattui.domain.pricing import ZERO, PriceLine

HUNDRED = Decimal(100)
MAX_COUPON_CODE = 40
# The description of a reseller discount line; the order lines name it so an invoice shows it.
RESELLER_LINE = "Reseller discount"


class ResellerDiscount(DomainModel):
    """A percentage off the organization's orders: of one product, or of all (product_id None)."""

    org: str = ""
    product_id: str | None = None
    percent: Decimal = Field(gt=0, le=100, decimal_places=2)


MAX_COUPON_MONTHS = 36


class OncePer(StrEnum):
    """Who may use a coupon once: the organization, or each customer an order is for."""

    ORGANIZATION = "organization"
    CUSTOMER = "customer"


class Coupon(DomainModel):
    """A code that takes a percentage or a fixed amount off an order (Stripe's model)."""

    code: str
    percent: Decimal | None = Field(default=None, gt=0, le=100, decimal_places=2)
    amount: Credits | None = None
    product_ids: list[str] = []  # empty: every product
    valid_from: date | None = None
    valid_until: date | None = None  # the last day it may be used
    max_redemptions: int | None = None
    redeemed: int = 0
    # Also off the renewals of the subscription it is redeemed on, for this many months from
    # the redemption (Stripe's `duration: repeating`); None: once, at the order.
    months: int | None = Field(default=None, ge=1, le=MAX_COUPON_MONTHS)
    once_per: OncePer = OncePer.ORGANIZATION

    def words(self) -> str:
        off = f"{self.percent.normalize():f}% off" if self.percent is not None else f"{self.amount} credits off"
        return (off + (f" {', '.join(self.product_ids)}" if self.product_ids else "")
                + (f", for {self.months} month{'s' if self.months != 1 else ''}" if self.months else ""))


def normalize_code(code: str) -> str:
    return code.strip().upper()


def coupon_refusal(coupon: Coupon | None, code: str, today: date, used_by_org: bool,
                   product_ids: Sequence[str]) -> str | None:
    """Why the coupon does not apply to this order, in plain words; None when it does."""
    shown = normalize_code(code)[:MAX_COUPON_CODE]
    if coupon is None:
        return f"There is no coupon {shown}; check the code."
    if coupon.valid_from is not None and today < coupon.valid_from:
        return f"Coupon {shown} is not valid yet: it can be used from {coupon.valid_from:%Y-%m-%d}."
    if coupon.valid_until is not None and today > coupon.valid_until:
        return f"Coupon {shown} has expired: it could be used until {coupon.valid_until:%Y-%m-%d}."
    if coupon.max_redemptions is not None and coupon.redeemed >= coupon.max_redemptions:
        return f"Coupon {shown} is used up: all {coupon.max_redemptions} of its uses are taken."
    if used_by_org and coupon.once_per is OncePer.CUSTOMER:
        return f"This customer has used coupon {shown} already; it can be used once per customer."
    if used_by_org:
        return f"Your organization has used coupon {shown} already; it can be used once."
    if coupon.product_ids and not set(coupon.product_ids) & set(product_ids):
        return f"Coupon {shown} is not for this product; it is for {', '.join(coupon.product_ids)}."
    return None


def _by_product(lines: Sequence[PriceLine]) -> dict[str | None, Decimal]:
    net: dict[str | None, Decimal] = {}
    for line in lines:
        net[line.product_id] = net.get(line.product_id, ZERO) + line.amount
    return net


def _line(description: str, amount: Decimal, product_id: str | None) -> PriceLine:
    return PriceLine(description=description, quantity=1, unit_price=-amount, amount=-amount,
                     product_id=product_id)


def discount_lines(lines: Sequence[PriceLine], reseller: Mapping[str | None, Decimal],
                   coupon: Coupon | None = None) -> list[PriceLine]:
    """The discount lines for an order's catalog-priced `lines`.

    `reseller` maps a product id to its percentage, and None to the overall one."""
    lines_out: list[PriceLine] = []
    after: dict[str | None, Decimal] = {}
    for product_id, net in _by_product(lines).items():
        scoped = product_id is not None and product_id in reseller
        percent = reseller[product_id] if scoped else reseller.get(None)
        off = ZERO
        if product_id is not None and percent and net > 0:
            off = min(round_credits(net * percent / HUNDRED), net)
            if off > 0:
                lines_out.append(_line(f"{RESELLER_LINE} {percent.normalize():f}%"
                                       + (f" on {product_id}" if scoped else ""), off, product_id))
        after[product_id] = net - off
    if coupon is not None:
        eligible = sum((amount for product_id, amount in after.items()
                        if amount > 0 and (not coupon.product_ids or product_id in coupon.product_ids)), ZERO)
        if eligible > 0:
            if coupon.percent is not None:
                off = round_credits(eligible * coupon.percent / HUNDRED)
            else:
                off = coupon.amount or ZERO
            off = min(off, eligible)
            if off > 0:
                lines_out.append(_line(f"Coupon {coupon.code}: {coupon.words()}", off, None))
    return lines_out
