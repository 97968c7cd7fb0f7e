"""Invitations as stored: a single-use token, kept hashed, that makes a login when accepted.
The team invites members with it (services/team.py) and a customer's first key mail carries
one into the customer's own account (services/customer_mail.py); one mechanism for both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from seattui.domain.roles import Role
from seattui.domain.team import INVITATION_LIFETIME
from seattui.portal.bearer import INVITATION_PREFIX, new_token, token_hash
from seattui.portal.context import Tx
from seattui.portal.store.tables import invitations, users


async def new_invitation(tx: Tx, email: str, role: Role, customer_id: int | None = None) -> tuple[int, str, datetime]:
    """Store an invitation; returns its id, the token (never stored in clear) and its expiry."""
    token = new_token(INVITATION_PREFIX)
    expires_at = tx.now + INVITATION_LIFETIME
    invitation_id = (
        await tx.conn.execute(
            insert(invitations)
            .values(org_id=tx.org_id, email=email, role=role.value, token_hash=token_hash(token),
                    invited_by=tx.actor.user_id, created_at=tx.now, expires_at=expires_at, customer_id=customer_id)
            .returning(invitations.c.id)
        )
    ).scalar_one()
    return int(invitation_id), token, expires_at


async def waiting_invitation(tx: Tx, email: str, *, customer_id: int | None = None) -> int | None:
    """The id of an invitation of this email (into this customer's account, or else as a
    member) that can still be accepted, if there is one."""
    found = await tx.conn.scalar(
        select(invitations.c.id).where(
            invitations.c.org_id == tx.org_id,
            func.lower(invitations.c.email) == email.lower(),
            invitations.c.customer_id.is_(None) if customer_id is None else invitations.c.customer_id == customer_id,
            invitations.c.accepted_at.is_(None),
            invitations.c.revoked_at.is_(None),
            invitations.c.expires_at > tx.now,
        )
    )
    return None if found is None else int(found)


async def customer_login(tx: Tx, customer_id: int) -> str | None:
    """The login of the customer's own account, once they have made it."""
    return await tx.conn.scalar(select(users.c.login).where(users.c.org_id == tx.org_id,
                                                            users.c.customer_id == customer_id))


async def customer_user(tx: Tx, customer_id: int, *, lock: bool = False) -> Any:
    """The user row (id, login, disabled_at) of the customer's own login, or None before they made it."""
    query = select(users.c.id, users.c.login, users.c.disabled_at).where(
        users.c.org_id == tx.org_id, users.c.customer_id == customer_id)
    return (await tx.conn.execute(query.with_for_update() if lock else query)).first()


async def revoke_customer_invitations(tx: Tx, customer_id: int) -> None:
    """Every code mailed to the customer and not used stops working."""
    await tx.conn.execute(update(invitations).where(
        invitations.c.org_id == tx.org_id, invitations.c.customer_id == customer_id,
        invitations.c.accepted_at.is_(None), invitations.c.revoked_at.is_(None)).values(revoked_at=tx.now))


async def customer_invited_until(tx: Tx, customer_id: int) -> datetime | None:
    """When the invitation that waits for the customer (into their own account) expires."""
    return await tx.conn.scalar(select(func.max(invitations.c.expires_at)).where(
        invitations.c.org_id == tx.org_id, invitations.c.customer_id == customer_id,
        invitations.c.accepted_at.is_(None), invitations.c.revoked_at.is_(None), invitations.c.expires_at > tx.now))
