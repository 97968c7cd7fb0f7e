"""Activation keys as stored: a key with its license and subscription counts, and a key found
by its text or its id in the caller's organization."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from seattui.domain.errors import NotFound
from seattui.domain.keys import parse_key
from seattui.domain.licensing import ActivationKey
from seattui.portal.context import Tx
from seattui.portal.store.tables import activation_keys, licenses, subscriptions


def _attached(table: Any, label: str) -> Any:
    """How many rows of `table` hang on each key (answered by the key_id index)."""
    return select(func.count()).where(table.c.key_id == activation_keys.c.id).scalar_subquery().label(label)


def key_query() -> Any:
    return select(
        activation_keys,
        _attached(licenses, "license_count"),
        _attached(subscriptions, "subscription_count"),
    )


def from_row(row: Any) -> ActivationKey:
    return ActivationKey(
        id=row.id,
        key=row.key,
        name=row.name,
        created_at=row.created_at,
        license_count=row.license_count or 0,
        subscription_count=row.subscription_count or 0,
    )


async def find(tx: Tx, key_text: str) -> Any:
    """The key's row in the caller's organization; another organization's key is not found."""
    key = parse_key(key_text)
    row = (
        await tx.conn.execute(
            select(activation_keys).where(activation_keys.c.key == key, activation_keys.c.org_id == tx.org_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"There is no activation key {key} in your organization.", {"key": key})
    return row


async def get(tx: Tx, key_id: int, *, lock: bool = False) -> ActivationKey:
    query = key_query().where(activation_keys.c.id == key_id, activation_keys.c.org_id == tx.org_id)
    row = (await tx.conn.execute(query.with_for_update(of=activation_keys) if lock else query)).first()
    if row is None:
        raise NotFound(f"There is no activation key {key_id} in your organization.", {"key_id": key_id})
    return from_row(row)
