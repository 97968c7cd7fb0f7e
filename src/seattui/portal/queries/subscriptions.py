"""Subscriptions as stored: the query every subscription read starts from and its row mapper."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from seattui.domain.errors import NotFound
from seattui.domain.licensing import Subscription
from seattui.domain.money import from_hundredths
from seattui.domain.pricing import ZERO
from seattui.domain.roles import Role
from seattui.portal.context import Tx
from seattui.portal.store.tables import activation_keys, subscriptions


def subscription_query() -> Any:
    return select(subscriptions, activation_keys.c.key).join(
        activation_keys, activation_keys.c.id == subscriptions.c.key_id
    )


def from_row(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        key=row.key,
        product_id=row.product_id,
        channels=row.channels,
        started_on=row.started_on,
        period_ends_on=row.period_ends_on,
        customer_email=row.customer_email,
        comment=row.comment,
        paid=from_hundredths(row.paid),
        created_at=row.created_at,
        status=row.status,
        unpaid_since=row.unpaid_since,
        ended_on=row.ended_on,
    )


def visible(tx: Tx) -> list[ColumnElement[bool]]:
    """The subscriptions the caller may see: the organization's; for a customer's own login,
    only those assigned to that customer (another customer's is not found)."""
    held = [subscriptions.c.org_id == tx.org_id]
    if tx.actor.role is Role.CUSTOMER:
        held.append(subscriptions.c.customer_id == (tx.actor.customer_id or -1))
    return held


async def get(tx: Tx, subscription_id: int, *, lock: bool = False) -> Subscription:
    query = subscription_query().where(subscriptions.c.id == subscription_id, *visible(tx))
    row = (await tx.conn.execute(query.with_for_update(of=subscriptions) if lock else query)).first()
    if row is None:
        raise NotFound(f"There is no subscription {subscription_id} in your organization.", {"id": subscription_id})
    found = from_row(row)
    if tx.actor.role is Role.CUSTOMER:
        # A customer's own login reads it without what the organization paid or noted.
        return found.model_copy(update={"paid": ZERO, "comment": ""})
    return found
