"""Subscriptions sized by channels (concurrent sessions), paid monthly."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from seattui.domain.roles import Permission
from seattui.domain.catalog import Product
from seattui.domain.billing import OrderKind
from seattui.domain.credits import LedgerReason
from seattui.domain.dates import add_months
from seattui.domain.licensing import Subscription, SubscriptionChange, SubscriptionOrder
from seattui.domain.errors import Conflict
from seattui.domain.money import format_credits, to_hundredths
from seattui.domain.pricing import ZERO, PriceLine, Quote, channel_change_lines, subscription_lines, total
from seattui.domain.seat_plans import Cancellation, SubscriptionStatus
from seattui.portal.context import Tx
from seattui.portal.queries.customers import customer_for
from seattui.portal.queries.keys import find as find_key
from seattui.portal.queries.subscriptions import get
from seattui.portal.queries.license_files import Signer
from seattui.portal.services import audit, billing, credits, customer_mail
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


async def create(tx: Tx, order: SubscriptionOrder, signing: Signer | None = None) -> Subscription:
    """Start a subscription and pay its first month in one transaction, the customer's mail
    (customer_mail.py) written in it too."""
    tx.actor.require(Permission.PURCHASE)
    balance = await credits.lock_balance(tx)
    product, key_row, lines = await _priced(tx, order)
    settlement = await billing.settle(tx, balance, lines, order)
    cost = settlement.cost
    customer_id = await customer_for(tx, order.customer_email)
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
                customer_id=customer_id,
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
    created = await get(tx, subscription_id)
    await customer_mail.mail_subscription(tx, created, customer_id, signing)
    return created


async def _change_priced(
    tx: Tx, subscription_id: int, wanted: SubscriptionChange, *, lock: bool = False
) -> tuple[Product, Subscription, list[PriceLine]]:
    current = await get(tx, subscription_id, lock=lock)
    if current.status in (SubscriptionStatus.ENDED.value, SubscriptionStatus.SUSPENDED.value):
        raise Conflict(f"Subscription {subscription_id} is {current.status}; "
                       + ("start a new one." if current.status == SubscriptionStatus.ENDED.value
                          else "it resumes once its renewal is paid (add credits; the billing run charges it)."),
                       {"id": subscription_id, "status": current.status})
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


# -- renewal by the billing run, suspension, cancellation ----------------------------------------
#
# A channel subscription renews monthly on the day its paid month ends: the billing run charges
# the next month (credits, or the month's invoice on monthly terms). A prepaid organization
# short of credits keeps the subscription running for its grace days (billing terms, default 7)
# from the day the renewal was due; after them it is suspended. Every run tries again, so it
# resumes, for a month from the day it is paid, once the credits are there.

async def cancel(tx: Tx, subscription_id: int, cancellation: Cancellation) -> Subscription:
    """Cancel at the end of the paid month (it runs until then), or at once; nothing is refunded."""
    tx.actor.require(Permission.PURCHASE)
    await credits.lock_balance(tx)
    current = await get(tx, subscription_id, lock=True)
    if current.status == SubscriptionStatus.ENDED.value:
        raise Conflict(f"Subscription {subscription_id} ended on {current.ended_on}.", {"id": subscription_id})
    if cancellation.at_once:
        values: dict[str, Any] = {"status": SubscriptionStatus.ENDED.value, "ended_on": tx.today}
        summary = f"Cancelled subscription {subscription_id} on {current.key} at once (the paid month is not refunded)"
    else:
        values = {"status": SubscriptionStatus.ENDING.value}
        summary = f"Cancelled subscription {subscription_id} on {current.key} at the end of its month, {current.period_ends_on}"
    await tx.conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id).values(**values))
    await audit.record(tx, "subscription.cancel", "subscription", subscription_id, summary,
                       {"at_once": cancellation.at_once, "period_ends_on": current.period_ends_on.isoformat()})
    return await get(tx, subscription_id)


def cancellation_lines(current: Subscription, product: Product, cancellation: Cancellation) -> list[PriceLine]:
    when = "today" if cancellation.at_once else f"at the end of the paid month, {current.period_ends_on.isoformat()}"
    return [PriceLine(description=(f"{product.name} subscription on {current.key}, {current.channels} "
                                   f"{product.unit.label(current.channels)}, ends {when}: the month paid is not refunded"),
                      quantity=current.channels, unit_price=ZERO, amount=ZERO)]


async def quote_cancel(tx: Tx, subscription_id: int, cancellation: Cancellation) -> Quote:
    current = await get(tx, subscription_id)
    return await billing.quote(tx, cancellation_lines(current, tx.catalog.product(current.product_id), cancellation))


async def renewals_due(conn: Any, as_of: date) -> list[tuple[int, int]]:
    rows = (await conn.execute(select(subscriptions.c.org_id, subscriptions.c.id).where(
        subscriptions.c.period_ends_on <= as_of,
        subscriptions.c.status.in_([SubscriptionStatus.ACTIVE.value, SubscriptionStatus.ENDING.value,
                                    SubscriptionStatus.SUSPENDED.value]),
    ).order_by(subscriptions.c.org_id, subscriptions.c.id))).all()
    return [(row.org_id, row.id) for row in rows]


async def renew(tx: Tx, subscription_id: int, as_of: date) -> str:
    """Renew what is due by `as_of`, each month once; what happened: renewed, unpaid, suspended,
    ended or nothing."""
    balance = await credits.lock_balance(tx)
    outcome = "nothing"
    while True:
        current = await get(tx, subscription_id, lock=True)
        if current.period_ends_on > as_of or current.status == SubscriptionStatus.ENDED.value:
            return outcome
        if current.status == SubscriptionStatus.ENDING.value:
            await tx.conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id).values(
                status=SubscriptionStatus.ENDED.value, ended_on=current.period_ends_on))
            await audit.record(tx, "subscription.end", "subscription", subscription_id,
                               f"Subscription {subscription_id} on {current.key} ended on {current.period_ends_on}", {})
            return "ended"
        product = tx.catalog.find(current.product_id)
        if product is None:
            return outcome
        lines = subscription_lines(product, current.channels)
        cost = total(lines)
        suspended = current.status == SubscriptionStatus.SUSPENDED.value
        if not await billing.can_pay_now(tx, balance, cost):
            return await _unpaid(tx, current, as_of) if outcome == "nothing" else outcome
        # A suspended subscription resumes for a month from the day it is paid; a running one
        # (paid in its grace days, or on time) from the end of the month it had.
        starts = as_of if suspended else current.period_ends_on
        if not await billing.claim(tx, "channels", subscription_id, starts.isoformat()):
            return outcome
        ends = add_months(starts, 1)
        line = lines[0].model_copy(update={"description": (
            f"{product.name}, {current.channels} {product.unit.label(current.channels)}, "
            f"{starts.isoformat()} to {ends.isoformat()}")})
        charge = Charge(line, "subscription", subscription_id, starts, ends)
        settlement = await billing.settle_arrears(tx, balance, [charge], starts)
        await billing.place(
            tx, settlement, OrderKind.RENEWAL, [charge],
            [(-cost, LedgerReason.SUBSCRIPTION, "subscription", subscription_id, line.description + f" on {current.key}")],
            None, month=starts)
        cost = settlement.cost  # after the reseller discount and a coupon's months
        if settlement.payment.method.value == "credits":
            balance -= cost
        await tx.conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id).values(
            period_ends_on=ends, status=SubscriptionStatus.ACTIVE.value, unpaid_since=None,
            paid=subscriptions.c.paid + to_hundredths(cost)))
        await audit.record(tx, "subscription.renew", "subscription", subscription_id,
                           ("Resumed" if suspended else "Renewed") + f" subscription {subscription_id} on {current.key} "
                           f"to {ends.isoformat()} for {format_credits(cost)} credits",
                           {"period_start": starts.isoformat(), "period_end": ends.isoformat(), "cost": f"{cost:.2f}"})
        outcome = "renewed"


async def _unpaid(tx: Tx, current: Subscription, as_of: date) -> str:
    """The renewal cannot be paid: the grace days run from the day it was due, then it is suspended."""
    since = current.unpaid_since or current.period_ends_on
    grace = (await billing.paying_terms(tx)).grace_days
    if current.status == SubscriptionStatus.SUSPENDED.value:
        return "suspended"
    if as_of >= since + timedelta(days=grace):
        await tx.conn.execute(update(subscriptions).where(subscriptions.c.id == current.id).values(
            status=SubscriptionStatus.SUSPENDED.value, unpaid_since=since))
        await audit.record(tx, "subscription.suspend", "subscription", current.id,
                           f"Suspended subscription {current.id} on {current.key}: its renewal of {since} is unpaid "
                           f"after {grace} days; it resumes when the credits are there", {"unpaid_since": since.isoformat()})
        return "suspended"
    if current.unpaid_since is None:
        await tx.conn.execute(update(subscriptions).where(subscriptions.c.id == current.id).values(unpaid_since=since))
    return "unpaid"
