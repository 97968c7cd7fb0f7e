"""Customers as stored: the link from an email on a license or subscription to its customer
row, made on first use. Services of licenses and subscriptions call it; it calls no service."""

from __future__ import annotations

from sqlalchemy import select

from seattui.domain.customers import customer_email
from seattui.domain.errors import NotFound
from seattui.portal.context import Tx
from seattui.portal.store.sets import insert_or_ignore
from seattui.portal.store.tables import customers


async def customer_for(tx: Tx, email: str | None) -> int | None:
    """The id of the organization's customer with this email, made now if it is new (in the
    caller's transaction: a purchase rolled back leaves no customer behind)."""
    if email is None or not email.strip():
        return None
    stored = customer_email(email)
    found = await tx.conn.scalar(select(customers.c.id).where(customers.c.org_id == tx.org_id,
                                                              customers.c.email == stored))
    if found is not None:
        return int(found)
    await tx.conn.execute(insert_or_ignore(tx.conn, customers).values(
        org_id=tx.org_id, email=stored, created_at=tx.now, updated_at=tx.now))
    return int(await tx.conn.scalar(select(customers.c.id).where(customers.c.org_id == tx.org_id,
                                                                 customers.c.email == stored)))


async def email_of(tx: Tx, customer_id: int) -> str:
    """The email of the organization's customer; another organization's is "not found"."""
    email = await tx.conn.scalar(select(customers.c.email).where(customers.c.id == customer_id,
                                                                  customers.c.org_id == tx.org_id))
    if email is None:
        raise NotFound(f"There is no customer {customer_id} in your organization.", {"customer_id": customer_id})
    return str(email)
