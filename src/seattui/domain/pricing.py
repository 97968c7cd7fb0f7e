"""Prices: what an order, an upgrade, a support extension or a subscription costs.

Every amount is exact. Prices that depend on days (a flexible seat plan) are rounded to the
hundredth once, on the line, half up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


from seattui.domain.billing import Payment
from seattui.domain.catalog import Product, ProductKind, SeatPlan
from seattui.domain.errors import ValidationFailed
from seattui.domain.licensing import Term
from seattui.domain.money import format_credits, round_credits
from seattui.domain.base import Credits, DomainModel

TRIAL_MAX_SEATS = 10  # seats of a seat product's trial

ZERO = Decimal("0.00")
DAYS_IN_BILLING_MONTH = 30
SUPPORT_MONTHS_INCLUDED = 12


class PriceLine(DomainModel):
    description: str
    quantity: int
    unit_price: Credits
    amount: Credits
    # The product it prices: what a reseller discount or a coupon for that product applies to.
    product_id: str | None = None


def multiplies_out(line: PriceLine) -> bool:
    """Whether quantity × unit price is the line's amount. A line prorated by days is rounded
    once over the whole line (2 × 80.00 × 215/365 = 94.25, where 2 × 47.13 would be 94.26): its
    unit price is only near, and its description carries the arithmetic instead."""
    return round_credits(line.unit_price * line.quantity) == line.amount


def total(lines: Iterable[PriceLine]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


class Quote(DomainModel):
    """What a purchase costs against the current balance; quoting changes nothing."""

    lines: list[PriceLine]
    cost: Credits
    balance: Credits
    balance_after: Credits
    affordable: bool
    shortfall: Credits
    # How the order would be paid (credits now, or the month's invoice), in the review's words.
    payment: Payment | None = None
    # Why the purchase's coupon does not apply, in plain words (the order would be refused).
    coupon_refusal: str | None = None

    @classmethod
    def build(cls, lines: list[PriceLine], balance: Decimal) -> Quote:
        cost = total(lines)
        after = balance - cost
        return cls(
            lines=lines,
            cost=cost,
            balance=balance,
            balance_after=after,
            affordable=after >= 0,
            shortfall=max(-after, ZERO),
        )


@dataclass(frozen=True)
class Configuration:
    """What a license covers: the part of it that has a price."""

    term: Term
    edition_id: str | None
    addons: tuple[str, ...]
    quantity: int


def _line(description: str, quantity: int, unit_price: Decimal, product_id: str | None = None) -> PriceLine:
    return PriceLine(
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        amount=round_credits(unit_price * quantity),
        product_id=product_id,
    )


def check_configuration(product: Product, config: Configuration) -> None:
    """Refuse a configuration the product does not sell, naming the field to fix."""
    if product.kind is ProductKind.SUBSCRIPTION:
        raise ValidationFailed(
            f"{product.name} is sold by channels as a subscription, not as a license.",
            {"product_id": "a subscription product: order it by channels"},
        )
    if config.term is Term.TRIAL and not product.trial:
        raise ValidationFailed(f"{product.name} has no trial.", {"term": "no trial for this product"})
    if product.kind is ProductKind.PERPETUAL:
        if config.term not in (Term.TRIAL, Term.PERMANENT):
            raise ValidationFailed(
                f"{product.name} is a trial or a permanent license.",
                {"term": "choose trial or permanent"},
            )
        if config.edition_id is None:
            raise ValidationFailed(f"Choose an edition of {product.name}.", {"edition_id": "required"})
        product.edition(config.edition_id)
    if product.kind is ProductKind.SEAT:
        if config.term not in (Term.TRIAL, Term.FLEXIBLE, Term.ANNUAL):
            raise ValidationFailed(
                f"{product.name} is sold on a flexible or an annual seat plan.",
                {"term": "choose flexible or annual"},
            )
        if config.edition_id is not None:
            raise ValidationFailed(f"{product.name} has no editions.", {"edition_id": "leave empty"})
        if config.term is Term.TRIAL and config.quantity > TRIAL_MAX_SEATS:
            raise ValidationFailed(
                f"A seat trial of {product.name} has at most {TRIAL_MAX_SEATS} seats.",
                {"quantity": f"at most {TRIAL_MAX_SEATS} on a trial"},
            )
        if config.term is not Term.TRIAL:
            offer = product.seat_plan(SeatPlan(config.term.value))
            if config.quantity > offer.max_seats:
                raise ValidationFailed(
                    f"The {offer.plan.value} plan of {product.name} has at most "
                    f"{offer.max_seats} seats.",
                    {"quantity": f"at most {offer.max_seats}"},
                )
    if len(set(config.addons)) != len(config.addons):
        raise ValidationFailed("An add-on is listed twice.", {"addons": "list each add-on once"})
    for addon_id in config.addons:
        product.addon(addon_id)


def configuration_lines(product: Product, config: Configuration) -> list[PriceLine]:
    """The price of a configuration bought today, before any credit for what was paid."""
    check_configuration(product, config)
    unit = product.unit.label(config.quantity)
    if config.term is Term.TRIAL:
        return []
    if config.term is Term.PERMANENT:
        assert config.edition_id is not None
        edition = product.edition(config.edition_id)
        lines = [
            _line(
                f"{product.name} {edition.name}, {config.quantity} {unit}, "
                f"with {SUPPORT_MONTHS_INCLUDED} months of support",
                config.quantity,
                edition.unit_price,
                product.id,
            )
        ]
        for addon_id in config.addons:
            addon = product.addon(addon_id)
            lines.append(_line(f"Add-on {addon.name}", config.quantity, addon.unit_price, product.id))
        return lines
    offer = product.seat_plan(SeatPlan(config.term.value))
    if offer.plan is SeatPlan.FLEXIBLE:
        # Billed in arrears by the billing run, for the days each seat is assigned.
        return [PriceLine(
            description=f"{product.name}, flexible plan, cap {config.quantity} {unit}: nothing now; "
            f"{format_credits(offer.price_per_seat)} a seat a month for the days each seat is assigned, on next month's bill",
            quantity=config.quantity, unit_price=ZERO, amount=ZERO,
        )]
    period = "12 months"
    return [
        _line(
            f"{product.name}, {offer.plan.value} plan, {config.quantity} {unit}, {period}",
            config.quantity,
            offer.price_per_seat,
            product.id,
        )
    ]


def upgrade_lines(product: Product, current: Configuration, target: Configuration) -> list[PriceLine]:
    """An upgrade costs the new configuration less the current one at today's prices.

    Quantity and edition never go down, add-ons are never removed; a trial becomes permanent
    at the full price of what it becomes.
    """
    problems: dict[str, str] = {}
    if target.quantity < current.quantity:
        problems["quantity"] = f"cannot go down from {current.quantity}"
    if (
        current.edition_id is not None
        and target.edition_id is not None
        and product.edition_rank(target.edition_id) < product.edition_rank(current.edition_id)
    ):
        problems["edition_id"] = f"cannot go down from {product.edition(current.edition_id).name}"
    if not set(current.addons) <= set(target.addons):
        problems["addons"] = "add-ons are never removed"
    if current.term is not Term.TRIAL and target.term is Term.TRIAL:
        problems["term"] = "a paid license never goes back to a trial"
    if problems:
        raise ValidationFailed("Licenses are only upgraded, never downgraded.", problems)
    if target == current:
        raise ValidationFailed(
            "The upgrade changes nothing; raise the edition, the quantity or add an add-on.",
            {"quantity": "change something"},
        )
    new_lines = configuration_lines(product, target)
    if current.term is Term.TRIAL:
        return new_lines
    paid_for = total(configuration_lines(product, current))
    return [
        *new_lines,
        PriceLine(
            description="Less the current configuration",
            quantity=1,
            unit_price=-paid_for,
            amount=-paid_for,
            product_id=product.id,
        ),
    ]


def support_lines(product: Product, config: Configuration, years: int) -> list[PriceLine]:
    """Support (maintenance) costs its yearly price per unit, per year added."""
    if config.term is not Term.PERMANENT or config.edition_id is None:
        raise ValidationFailed(
            "Support is extended on permanent licenses only.", {"term": "not a permanent license"}
        )
    edition = product.edition(config.edition_id)
    unit = product.unit.label(config.quantity)
    plural = "year" if years == 1 else "years"
    lines = [
        _line(
            f"{product.name} {edition.name} support, {config.quantity} {unit}, {years} {plural}",
            config.quantity * years,
            edition.support_price_per_year,
            product.id,
        )
    ]
    for addon_id in config.addons:
        addon = product.addon(addon_id)
        if addon.support_price_per_year:
            lines.append(
                _line(f"Add-on {addon.name} support", config.quantity * years, addon.support_price_per_year, product.id)
            )
    return lines


def support_batch_lines(items: Sequence[tuple[Product, Configuration]], years: int) -> list[PriceLine]:
    """One quote for extending many licenses: a line per product edition and per add-on, with
    the units of every license summed. Each license's own price is support_lines(); the lines
    here add up to the sum of those, to the hundredth."""
    groups: dict[tuple[str, str], list[Any]] = {}  # (product, part) -> [description, unit, price, licenses, units]
    for product, config in items:
        for line, part in zip(support_lines(product, config, years), _support_parts(product, config), strict=True):
            group = groups.setdefault((product.id, part), [part, product.unit, line.unit_price, 0, 0, product.id])
            group[3] += 1
            group[4] += config.quantity
    plural = "year" if years == 1 else "years"
    return [
        _line(
            f"{part} support, {licenses:,} license{'s' if licenses != 1 else ''}, "
            f"{units:,} {unit.label(units)}, {years} {plural}",
            units * years,
            unit_price,
            product_id,
        )
        for part, unit, unit_price, licenses, units, product_id in groups.values()
    ]


def _support_parts(product: Product, config: Configuration) -> list[str]:
    """The names of what support_lines() prices, in its order."""
    assert config.edition_id is not None
    parts = [f"{product.name} {product.edition(config.edition_id).name}"]
    for addon_id in config.addons:
        addon = product.addon(addon_id)
        if addon.support_price_per_year:
            parts.append(f"{product.name} add-on {addon.name}")
    return parts


def subscription_lines(product: Product, channels: int) -> list[PriceLine]:
    """A subscription costs the channel price times the channels, for its first month."""
    if product.kind is not ProductKind.SUBSCRIPTION or product.channel_price_per_month is None:
        raise ValidationFailed(
            f"{product.name} is not sold by channels.", {"product_id": "not a subscription product"}
        )
    unit = product.unit.label(channels)
    return [
        _line(f"{product.name}, {channels} {unit}, first month", channels, product.channel_price_per_month, product.id)
    ]


def prorated_channel_lines(product: Product, added: int, days_left: int) -> list[PriceLine]:
    """Channels added mid-period cost their share of the month that remains."""
    if product.channel_price_per_month is None:
        raise ValidationFailed(f"{product.name} is not sold by channels.", {})
    unit_price = round_credits(
        product.channel_price_per_month * days_left / DAYS_IN_BILLING_MONTH
    )
    return [
        _line(
            f"{product.name}, {added} more {product.unit.label(added)} for {days_left} days",
            added,
            unit_price,
            product.id,
        )
    ]


def channel_change_lines(product: Product, current: int, target: int, days_left: int) -> list[PriceLine]:
    """Resizing a subscription within its paid month.

    More channels cost their prorated share of the days that remain (at most a billing
    month). Fewer channels take effect at once and refund nothing: the month was paid for
    the channels it started with, and the next month is priced at the new size.
    """
    if target == current:
        raise ValidationFailed(
            f"The subscription already has {current} {product.unit.label(current)}; type another number.",
            {"channels": f"already {current}"},
        )
    if target > current:
        return prorated_channel_lines(product, target - current, min(max(days_left, 0), DAYS_IN_BILLING_MONTH))
    fewer = current - target
    return [
        PriceLine(
            description=f"{product.name}, {fewer} {product.unit.label(fewer)} fewer from today "
            "(the month already paid is not refunded)",
            quantity=fewer,
            unit_price=ZERO,
            amount=ZERO,
        )
    ]
