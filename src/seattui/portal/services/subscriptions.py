"""Subscriptions sized by channels (concurrent sessions), paid monthly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, update

from seattui.domain.roles import Permission
from seattui.domain.catalog import Product
from seattui.domain.billing import OrderKind
from seattui.domain.credits import LedgerReason
from seattui.domain.dates import add_months
from seattui.domain.licensing import Subscription, SubscriptionChange, SubscriptionOrder
from seattui.domain.money import format_credits, to_hundredths
from seattui.domain.pricing import PriceLine, Quote, channel_change_lines, subscription_lines
from seattui.portal.context import Tx
from seattui.portal.queries.customers import customer_for
from seattui.portal.queries.keys import find as find_key
from seattui.portal.queries.subscriptions import get
from seattui.portal.services import audit, billing, credits
from seattui.portal.services.billing import Charge
from seattui.portal.store.tables import subscriptions


async def _priced(tx: Tx, order: SubscriptionOrder) -> tuple[Product, Any, list[PriceLine]]:
    product = tx.catalog.product(order.product_id)
    lines = subscription_lines(product, order.channels)
    key_row = await find_key(tx, order.key)
    return product, key_row, lines


async def quote(tx: Tx, order: SubscriptionOrder) -> Quote:
    _, _, lines = await _priced(tx, order)
    return await billing.quote(tx, lines, order)


async def create(tx: Tx, order: SubscriptionOrder) -> Subscription:
    """Start a subscription and pay its first month in one transaction."""
    tx.actor.require(Permission.PURCHASE)
    balance = await credits.lock_balance(tx)
    product, key_row, lines = await _priced(tx, order)
    settlement = await billing.settle(tx, balance, lines, order)
    cost = settlement.cost
    subscription_id = (
        await tx.conn.execute(
            insert(subscriptions)
            .values(
                org_id=tx.org_id,
                key_id=key_row.id,
                product_id=product.id,
                channels=order.channels,
                started_on=tx.today,
                period_ends_on=add_months(tx.today, 1),
                customer_email=order.customer_email,
                customer_id=await customer_for(tx, order.customer_email),
                comment=order.comment,
                paid=to_hundredths(cost),
                created_at=tx.now,
            )
            .returning(subscriptions.c.id)
        )
    ).scalar_one()
    what = f"{product.name} subscription, {order.channels} {product.unit.label(order.channels)}"
    await billing.place(
        tx, settlement, OrderKind.SUBSCRIPTION,
        [Charge(line, "subscription", subscription_id, tx.today, add_months(tx.today, 1)) for line in lines],
        [(-cost, LedgerReason.SUBSCRIPTION, "subscription", subscription_id, f"{what} on {key_row.key}")], order,
    )
    await audit.record(
        tx, "subscription.create", "subscription", subscription_id,
        f"{what} on {key_row.key} for {format_credits(cost)} credits",
        {"key": key_row.key, "product_id": product.id, "channels": order.channels, "cost": f"{cost:.2f}"},
    )
    return await get(tx, subscription_id)


async def _change_priced(
    tx: Tx, subscription_id: int, wanted: SubscriptionChange, *, lock: bool = False
) -> tuple[Product, Subscription, list[PriceLine]]:
    current = await get(tx, subscription_id, lock=lock)
    product = tx.catalog.product(current.product_id)
    days_left = (current.period_ends_on - tx.today).days
    return product, current, channel_change_lines(product, current.channels, wanted.channels, days_left)


async def quote_change(tx: Tx, subscription_id: int, wanted: SubscriptionChange) -> Quote:
    """What resizing costs now (see pricing.channel_change_lines); changes nothing."""
    _, _, lines = await _change_priced(tx, subscription_id, wanted)
    return await billing.quote(tx, lines, wanted)


async def change(tx: Tx, subscription_id: int, wanted: SubscriptionChange) -> Subscription:
    """Resize a subscription and pay for added channels in one transaction."""
    tx.actor.require(Permission.PURCHASE)
    balance = await credits.lock_balance(tx)
    product, current, lines = await _change_priced(tx, subscription_id, wanted, lock=True)
    settlement = await billing.settle(tx, balance, lines, wanted)
    cost = settlement.cost
    await tx.conn.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(channels=wanted.channels, paid=subscriptions.c.paid + to_hundredths(cost))
    )
    what = (f"{product.name} subscription on {current.key}, {current.channels} to {wanted.channels} "
            f"{product.unit.label(wanted.channels)}")
    await billing.place(
        tx, settlement, OrderKind.CHANNELS,
        [Charge(line, "subscription", subscription_id, tx.today, current.period_ends_on) for line in lines],
        [(-cost, LedgerReason.SUBSCRIPTION, "subscription", subscription_id, lines[0].description + f" on {current.key}")],
        wanted,
    )
    await audit.record(
        tx, "subscription.change", "subscription", subscription_id,
        what + (f" for {format_credits(cost)} credits" if cost else ""),
        {"key": current.key, "before": current.channels, "after": wanted.channels, "cost": f"{cost:.2f}"},
    )
    return await get(tx, subscription_id)
