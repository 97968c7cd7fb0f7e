"""Organizations as billing sees them: who pays for an organization's orders. A child
account has no credits or invoices of its own; its parent pays. Calls no service."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import aliased

from seattui.domain.roles import OrgKind
from seattui.portal.context import Tx
from seattui.portal.store.tables import organizations


async def payer(tx: Tx) -> Tx:
    """`tx` as the organization whose credits, terms and invoices pay for its orders: itself,
    or a child account's parent (looked up once per transaction)."""
    if tx.actor.org_kind is not OrgKind.CHILD:
        return tx
    if tx.payer is None:
        parent = aliased(organizations)
        row = (await tx.conn.execute(
            select(parent.c.id, parent.c.name, parent.c.kind)
            .select_from(organizations.join(parent, parent.c.id == organizations.c.parent_id))
            .where(organizations.c.id == tx.org_id)
        )).one()
        tx.payer = replace(tx, actor=replace(tx.actor, org_id=row.id, org_name=row.name,
                                             org_kind=OrgKind(row.kind)), payer=None)
    return tx.payer


def paid_for(tx: Tx) -> int | None:
    """The child account an order of `tx` pays for, when its parent pays."""
    return tx.org_id if tx.actor.org_kind is OrgKind.CHILD else None
