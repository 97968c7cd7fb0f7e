"""Activation keys: unique in the portal, random from `secrets` or typed by the caller."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from seattui.domain.roles import Permission
from seattui.domain.errors import KeyTaken, NotFound, PortalFault
from seattui.domain.keys import generate_key, parse_key
from seattui.domain.licensing import ActivationKey, NewActivationKey
from seattui.portal.context import Tx
from seattui.portal.services import audit
from seattui.portal.store.tables import activation_keys

_RANDOM_ATTEMPTS = 8


async def _key_exists(tx: Tx, key: str) -> bool:
    return (await tx.conn.execute(select(activation_keys.c.id).where(activation_keys.c.key == key))).first() is not None


async def create(tx: Tx, new: NewActivationKey) -> ActivationKey:
    tx.actor.require(Permission.MANAGE_KEYS)
    if new.key is not None:
        if await _key_exists(tx, new.key):
            raise KeyTaken(
                f"The key {new.key} is taken; type another one, or leave it empty for a random key.",
                {"key": new.key},
            )
        key = new.key
    else:
        for _ in range(_RANDOM_ATTEMPTS):
            key = generate_key()
            if not await _key_exists(tx, key):
                break
        else:  # 32^16 keys: this happens only if `secrets` is broken
            raise PortalFault("Could not draw an unused random key; try again.")
    try:
        async with tx.conn.begin_nested():
            key_id = (
                await tx.conn.execute(
                    insert(activation_keys)
                    .values(org_id=tx.org_id, key=key, name=new.name, created_at=tx.now)
                    .returning(activation_keys.c.id)
                )
            ).scalar_one()
    except IntegrityError:
        # Another portal instance took the same key between our check and our insert.
        raise KeyTaken(f"The key {key} is taken; try again.", {"key": key}) from None
    await audit.record(tx, "key.create", "activation_key", key_id, f"Created key {key}", {"name": new.name})
    return ActivationKey(id=key_id, key=key, name=new.name, created_at=tx.now)


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
