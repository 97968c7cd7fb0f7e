"""Child accounts: a reseller's own customer organizations, one level under it.

A parent (a reseller's owner or admin) creates a child, invites its first members, moves
licenses and seat plans into it and sees its usage; it pays for the child's orders
(queries/organizations.payer: the child's paid changes are the parent's orders). It acts
inside a child through these functions only: to every other route the child is another
organization, whose objects are "not found". A child's users see only the child.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from seattui.domain.catalog import ProductKind
from seattui.domain.children import Child, ChildUsage, LicenseMove, LicenseMoved, NewChild
from seattui.domain.errors import Conflict, NotFound, PermissionDenied
from seattui.domain.licensing import Term
from seattui.domain.money import from_hundredths
from seattui.domain.roles import OrgKind, Permission, Role
from seattui.domain.team import Invitation
from seattui.domain.billing import month_start
from seattui.portal.context import Actor, Tx
from seattui.portal.queries.customers import customer_for
from seattui.portal.queries.licenses import count_licenses
from seattui.portal.services import audit, credits
from seattui.portal.store.tables import (
    activation_keys,
    license_counts,
    license_search,
    licenses,
    orders,
    organizations,
    seat_intervals,
    seats,
    subscriptions,
    users,
)


def may_manage(actor: Actor) -> None:
    """Only a reseller's owners and admins manage child accounts; a child has none (one level)."""
    if actor.org_kind is OrgKind.CHILD:
        raise PermissionDenied("A child account has no child accounts of its own: only its parent manages "
                               "child accounts.", {"needs": Permission.MANAGE_CHILDREN.value})
    if actor.org_kind is not OrgKind.RESELLER:
        raise PermissionDenied("Only a reseller organization has child accounts.",
                               {"needs": Permission.MANAGE_CHILDREN.value})
    actor.require(Permission.MANAGE_CHILDREN)


async def _child_row(tx: Tx, child_id: int, *, lock: bool = False) -> Any:
    query = select(organizations.c.id, organizations.c.name, organizations.c.created_at).where(
        organizations.c.id == child_id, organizations.c.parent_id == tx.org_id,
        organizations.c.kind == OrgKind.CHILD.value)
    row = (await tx.conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"There is no child account {child_id} here (seattui children lists them).",
                       {"child": child_id})
    return row


def _inside(tx: Tx, row: Any) -> Tx:
    """The parent's member acting in the child, as its owner would (through these routes only)."""
    actor = replace(tx.actor, org_id=row.id, org_name=row.name, org_kind=OrgKind.CHILD, role=Role.OWNER)
    return Tx(conn=tx.conn, actor=actor, catalog=tx.catalog, now=tx.now, batch_id=tx.batch_id)


async def inside(tx: Tx, child_id: int) -> Tx:
    """The transaction as the child `child_id` of the caller's organization (for an invitation)."""
    may_manage(tx.actor)
    return _inside(tx, await _child_row(tx, child_id))


# -- reading ---------------------------------------------------------------------------------


async def children(tx: Tx) -> list[Child]:
    """The organization's child accounts by name, each with its usage (none for a child or the vendor)."""
    rows = (await tx.conn.execute(
        select(organizations.c.id, organizations.c.name, organizations.c.created_at)
        .where(organizations.c.parent_id == tx.org_id, organizations.c.kind == OrgKind.CHILD.value)
        .order_by(organizations.c.name)
    )).all()
    usage = await _usage(tx, [row.id for row in rows])
    return [Child(id=row.id, name=row.name, created_at=row.created_at, usage=usage[row.id]) for row in rows]


async def child(tx: Tx, child_id: int) -> Child:
    row = await _child_row(tx, child_id)
    return Child(id=row.id, name=row.name, created_at=row.created_at, usage=(await _usage(tx, [row.id]))[row.id])


async def _usage(tx: Tx, child_ids: list[int]) -> dict[int, ChildUsage]:
    """Each child's usage, a few grouped counts for all of them at once."""
    if not child_ids:
        return {}

    async def grouped(query: Any) -> dict[int, int]:
        return {int(org_id): int(value or 0) for org_id, value in (await tx.conn.execute(query)).all()}

    held = await grouped(select(license_counts.c.org_id, license_counts.c.licenses)
                         .where(license_counts.c.org_id.in_(child_ids)))
    devices = await grouped(select(licenses.c.org_id, func.count())
                            .where(licenses.c.org_id.in_(child_ids), licenses.c.device_fingerprint.is_not(None))
                            .group_by(licenses.c.org_id))
    assigned = await grouped(select(seats.c.org_id, func.count()).where(seats.c.org_id.in_(child_ids))
                             .group_by(seats.c.org_id))
    seat_products = [product.id for product in tx.catalog.products if product.kind is ProductKind.SEAT]
    purchased = await grouped(select(licenses.c.org_id, func.sum(licenses.c.quantity)).where(
        licenses.c.org_id.in_(child_ids), licenses.c.product_id.in_(seat_products),
        licenses.c.term.in_((Term.FLEXIBLE.value, Term.ANNUAL.value))).group_by(licenses.c.org_id))
    members = await grouped(select(users.c.org_id, func.count())
                            .where(users.c.org_id.in_(child_ids), users.c.removed_at.is_(None))
                            .group_by(users.c.org_id))
    since = datetime.combine(month_start(tx.today), time(), UTC)
    spend = await grouped(select(orders.c.for_org_id, func.sum(orders.c.total)).where(
        orders.c.org_id == tx.org_id, orders.c.for_org_id.in_(child_ids), orders.c.placed_at >= since)
        .group_by(orders.c.for_org_id))
    return {child_id: ChildUsage(
        licenses=held.get(child_id, 0), seats_assigned=assigned.get(child_id, 0),
        seats_purchased=purchased.get(child_id, 0), devices_activated=devices.get(child_id, 0),
        members=members.get(child_id, 0), spend_this_month=from_hundredths(spend.get(child_id, 0)),
    ) for child_id in child_ids}


# -- changing --------------------------------------------------------------------------------


async def create(tx: Tx, new: NewChild) -> Child:
    may_manage(tx.actor)
    name = new.name
    try:
        async with tx.conn.begin_nested():
            child_id = (await tx.conn.execute(
                insert(organizations)
                .values(name=name, kind=OrgKind.CHILD.value, parent_id=tx.org_id, created_at=tx.now)
                .returning(organizations.c.id)
            )).scalar_one()
    except IntegrityError:
        raise Conflict(f"An organization named {name!r} exists already: choose another name.",
                       {"name": name}) from None
    await audit.record(tx, "child.create", "organization", child_id, f"Created the child account {name}",
                       {"name": name})
    await audit.record(_inside(tx, await _child_row(tx, child_id)), "child.created", "organization", child_id,
                       f"Created by {tx.actor.org_name}", {"parent": tx.actor.org_name})
    return await child(tx, child_id)


async def record_invitation(tx: Tx, into: Tx, invitation: Invitation) -> None:
    """The parent's side of an invitation into a child (the child's audit has its own entry)."""
    await audit.record(tx, "child.invite", "organization", into.org_id,
                       f"Invited {invitation.email} as {invitation.role.value} to {into.actor.org_name}",
                       {"child": into.actor.org_name, "email": invitation.email, "role": invitation.role.value,
                        "invitation": invitation.id})


async def move_license(tx: Tx, child_id: int, move: LicenseMove) -> LicenseMoved:
    """Move one of the parent's licenses or seat plans into a child, with its activation key,
    atomically and audited on both sides. Refused while it is activated on a device, while a
    seat plan's seats are held by the parent's employees, and while its key holds anything else."""
    may_manage(tx.actor)
    # The parent's lock (its credits, seats and licenses), then the child's: id order.
    await credits.lock_balance(tx)
    row = await _child_row(tx, child_id, lock=True)
    into = _inside(tx, row)
    license_id = move.license_id
    found = (await tx.conn.execute(
        select(licenses).where(licenses.c.id == license_id, licenses.c.org_id == tx.org_id).with_for_update()
    )).first()
    if found is None:
        raise NotFound(f"There is no license {license_id} in your organization.", {"license_id": license_id})
    if found.device_fingerprint is not None:
        raise Conflict(
            f"License {license_id} is activated on {found.device_hostname or 'a device'}: deactivate it (or release "
            "the device) first, then move it. A license on a device is not moved.", {"license_id": "activated"})
    held = await tx.conn.scalar(select(func.count()).select_from(seats).where(seats.c.license_id == license_id))
    if held:
        raise Conflict(
            f"Seat plan {license_id} has {held} seat{'s' if held != 1 else ''} assigned to your employees: unassign "
            "them first (the child's employees are its own), then move it.", {"license_id": "seats assigned"})
    others = (await tx.conn.execute(
        select(licenses.c.id).where(licenses.c.key_id == found.key_id, licenses.c.id != license_id)
        .union_all(select(subscriptions.c.id).where(subscriptions.c.key_id == found.key_id))
    )).scalars().all()
    if others:
        some = "s" if len(others) != 1 else ""
        raise Conflict(
            f"Activation key {found.key} holds {len(others)} other license{some} or subscription{some}: a key "
            f"moves with its license only when it holds nothing else, so license {license_id} cannot move alone.",
            {"license_id": "key shared"})
    await tx.conn.execute(update(activation_keys).where(activation_keys.c.id == found.key_id)
                          .values(org_id=row.id))
    customer_id = await customer_for(into, found.customer_email)
    await tx.conn.execute(update(licenses).where(licenses.c.id == license_id)
                          .values(org_id=row.id, customer_id=customer_id, updated_at=tx.now))
    await tx.conn.execute(update(license_search).where(license_search.c.org_id == tx.org_id,
                                                       license_search.c.license_id == license_id)
                          .values(org_id=row.id))
    await tx.conn.execute(update(seat_intervals).where(seat_intervals.c.license_id == license_id)
                          .values(org_id=row.id))
    await count_licenses(tx.conn, tx.org_id, -1)
    await count_licenses(tx.conn, row.id, 1)
    what = f"license {license_id} ({found.product_id}, key {found.key})"
    details = {"license_id": license_id, "key": found.key, "product_id": found.product_id,
               "from": tx.actor.org_name, "to": row.name}
    await audit.record(tx, "child.license_out", "license", license_id, f"Moved {what} to {row.name}", details)
    await audit.record(into, "child.license_in", "license", license_id,
                       f"{tx.actor.org_name} moved {what} here", details)
    return LicenseMoved(license_id=license_id, child_id=row.id, child=row.name, key=found.key)
