"""Activation keys: unique in the portal, random from `secrets` or typed by the caller; listed
with what is attached to them, renamed, and deleted only while nothing is attached."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from seattui.domain.errors import KeyInUse, KeyTaken, PortalFault
from seattui.domain.keys import generate_key
from seattui.domain.licensing import (
    ActivationKey,
    KeyDetail,
    KeyHolds,
    KeyName,
    KeySort,
    NewActivationKey,
)
from seattui.domain.paging import Page
from seattui.domain.roles import Permission
from seattui.portal.context import Tx
from seattui.portal.paging import keyset_page
from seattui.portal.queries import licenses, subscriptions
from seattui.portal.queries.keys import from_row, get, key_query
from seattui.portal.services import audit
from seattui.portal.store.tables import activation_keys
from seattui.portal.store.tables import licenses as licenses_table
from seattui.portal.store.tables import subscriptions as subscriptions_table

_RANDOM_ATTEMPTS = 8
MAX_ATTACHED_SHOWN = 500  # a key's detail lists at most this many licenses (and subscriptions)

_SORTS = {
    KeySort.CREATED: activation_keys.c.created_at,
    KeySort.KEY: activation_keys.c.key,
    KeySort.NAME: activation_keys.c.name,
}


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


def _matching(text: str, dialect: str) -> Any:
    """A name containing the text, or a key containing it however it is typed (any case,
    with or without dashes)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # SQLite's LIKE already ignores ASCII case (and its lower() knows no other), so skip the
    # lower() on both sides that ilike() adds there: a third of a filter keystroke on 100k keys.
    name = activation_keys.c.name
    pattern = f"%{escaped}%"
    condition = name.like(pattern, escape="\\") if dialect == "sqlite" else name.ilike(pattern, escape="\\")
    compact = "".join(char for char in text.upper() if char.isascii() and char.isalnum())
    if compact:
        condition = or_(condition, func.replace(activation_keys.c.key, "-", "").contains(compact, autoescape=True))
    return condition


def _holding(holds: KeyHolds) -> Any:
    has_license = exists().where(licenses_table.c.key_id == activation_keys.c.id)
    has_subscription = exists().where(subscriptions_table.c.key_id == activation_keys.c.id)
    if holds is KeyHolds.LICENSES:
        return has_license
    if holds is KeyHolds.SUBSCRIPTIONS:
        return has_subscription
    return ~has_license & ~has_subscription


async def list_keys(
    tx: Tx,
    *,
    query: str = "",
    holds: KeyHolds | None = None,
    sort: KeySort = KeySort.CREATED,
    descending: bool = True,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[ActivationKey]:
    conditions = [activation_keys.c.org_id == tx.org_id]
    if query.strip():
        conditions.append(_matching(query.strip(), tx.conn.dialect.name))
    if holds is not None:
        conditions.append(_holding(holds))
    return await keyset_page(
        tx.conn,
        key_query().where(*conditions),
        sort=_SORTS[sort],
        id_column=activation_keys.c.id,
        descending=descending,
        cursor=cursor,
        limit=limit,
        convert=from_row,
        count=select(func.count()).select_from(activation_keys).where(*conditions),
    )


async def _newest_on(tx: Tx, query: Any, table: Any, key_id: int) -> list[Any]:
    where = query.where(table.c.key_id == key_id, table.c.org_id == tx.org_id)
    return list((await tx.conn.execute(where.order_by(table.c.id.desc()).limit(MAX_ATTACHED_SHOWN))).all())


async def detail(tx: Tx, key_id: int) -> KeyDetail:
    key = await get(tx, key_id)
    license_rows = await _newest_on(tx, licenses.license_query(), licenses_table, key_id)
    subscription_rows = await _newest_on(tx, subscriptions.subscription_query(), subscriptions_table, key_id)
    return KeyDetail(
        key=key,
        licenses=[licenses.from_row(row, tx.today) for row in license_rows],
        subscriptions=[subscriptions.from_row(row) for row in subscription_rows],
    )


async def rename(tx: Tx, key_id: int, new: KeyName) -> ActivationKey:
    tx.actor.require(Permission.MANAGE_KEYS)
    before = await get(tx, key_id, lock=True)
    await tx.conn.execute(update(activation_keys).where(activation_keys.c.id == key_id).values(name=new.name))
    await audit.record(
        tx, "key.rename", "activation_key", key_id, f"Renamed key {before.key} to {new.name!r}",
        {"key": before.key, "before": before.name, "after": new.name},
    )
    return before.model_copy(update={"name": new.name})


async def delete(tx: Tx, key_id: int) -> None:
    """Delete a key nothing is attached to. The key's row is locked first, so a license being
    created on it at the same moment either lands before (and the delete is refused) or waits."""
    tx.actor.require(Permission.MANAGE_KEYS)
    key = await get(tx, key_id, lock=True)
    if key.in_use:
        raise KeyInUse(
            f"The key {key.key} holds {key.license_count} license(s) and {key.subscription_count} "
            "subscription(s); a key is deleted only while no license or subscription is attached to it.",
            {"key": key.key, "licenses": key.license_count, "subscriptions": key.subscription_count},
        )
    await tx.conn.execute(sql_delete(activation_keys).where(activation_keys.c.id == key_id))
    await audit.record(tx, "key.delete", "activation_key", key_id, f"Deleted key {key.key}",
                       {"key": key.key, "name": key.name})
