"""Organizations and their users: first-run setup, the administration commands, lookups."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from dataclasses import replace

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.accounts import LOGIN_PATTERN, NewOrganization
from seattui.domain.roles import OrgKind, Role
from seattui.domain.credits import LedgerReason
from seattui.domain.errors import Conflict, InvitationClosed, LoginDisabled, NotFound, ValidationFailed
from seattui.domain.team import InvitationAcceptance
from seattui.portal.bearer import token_hash
from seattui.domain.money import format_credits
from seattui.portal.context import Actor, Tx
from seattui.portal.passwords import PasswordHasher
from seattui.portal.runtime import Portal
from seattui.portal.services import audit, credits
from seattui.portal.store.tables import api_tokens, invitations, login_failures, organizations, users

VENDOR_NAME = "Portal vendor"


def system_actor(org_id: int, org_name: str, org_kind: OrgKind) -> Actor:
    """The portal's own administration (seattui init, grant, useradd) acting on an organization."""
    return Actor(
        user_id=None,
        login="system",
        display_name="Portal administration",
        role=Role.OWNER,
        org_id=org_id,
        org_name=org_name,
        org_kind=org_kind,
    )


async def needs_setup(conn: AsyncConnection) -> bool:
    count = await conn.scalar(
        select(func.count()).select_from(organizations).where(organizations.c.kind == OrgKind.RESELLER.value)
    )
    return not count


async def vendor(conn: AsyncConnection, now: Any) -> tuple[int, str]:
    """The vendor organization that runs this portal, created on first need."""
    row = (
        await conn.execute(
            select(organizations.c.id, organizations.c.name).where(organizations.c.kind == OrgKind.VENDOR.value)
        )
    ).first()
    if row:
        return row.id, row.name
    vendor_id = (
        await conn.execute(
            insert(organizations)
            .values(name=VENDOR_NAME, kind=OrgKind.VENDOR.value, created_at=now)
            .returning(organizations.c.id)
        )
    ).scalar_one()
    return vendor_id, VENDOR_NAME


async def organization_by_name(conn: AsyncConnection, name: str) -> Actor:
    row = (await conn.execute(select(organizations).where(organizations.c.name == name))).first()
    if row is None:
        raise NotFound(f"There is no organization named {name!r}.", {"organization": name})
    return system_actor(row.id, row.name, OrgKind(row.kind))


async def create_reseller(conn: AsyncConnection, now: Any, name: str) -> Actor:
    name = name.strip()
    if not 2 <= len(name) <= 120:
        raise ValidationFailed("An organization name has 2 to 120 characters.", {"organization_name": "2 to 120 characters"})
    if (await conn.execute(select(organizations.c.id).where(organizations.c.name == name))).first():
        raise Conflict(f"An organization named {name!r} exists already.", {"organization_name": name})
    vendor_id, _ = await vendor(conn, now)
    org_id = (
        await conn.execute(
            insert(organizations)
            .values(name=name, kind=OrgKind.RESELLER.value, parent_id=vendor_id, created_at=now)
            .returning(organizations.c.id)
        )
    ).scalar_one()
    return system_actor(org_id, name, OrgKind.RESELLER)


async def add_user(
    tx: Tx,
    hasher: PasswordHasher,
    *,
    login: str,
    password: str,
    role: Role,
    display_name: str = "",
    customer_id: int | None = None,
) -> int:
    login = login.strip().lower()
    if not re.fullmatch(LOGIN_PATTERN, login):
        raise ValidationFailed(
            "A login has 2 to 64 letters, digits or . _ @ + -.", {"login": "2 to 64 of A-Z a-z 0-9 . _ @ + -"}
        )
    if len(password) < 10:
        raise ValidationFailed("A password has at least 10 characters.", {"password": "at least 10 characters"})
    if (await tx.conn.execute(select(users.c.id).where(users.c.login == login))).first():
        raise Conflict(f"The login {login!r} is taken.", {"login": login})
    user_id = (
        await tx.conn.execute(
            insert(users)
            .values(
                org_id=tx.org_id,
                login=login,
                display_name=display_name.strip() or login,
                role=role.value,
                password_hash=await hasher.hash(password),
                created_at=tx.now,
                customer_id=customer_id,
            )
            .returning(users.c.id)
        )
    ).scalar_one()
    await audit.record(tx, "user.create", "user", user_id, f"Added {login} as {role.value}", {"role": role.value})
    return user_id


async def opening_grant(tx: Tx, amount: Decimal, memo: str) -> None:
    """Credits the portal's operator gives an organization (seattui init, seattui grant)."""
    if amount <= 0:
        return
    await credits.lock_balance(tx)
    await credits.post(tx, amount, LedgerReason.GRANT, object_type="organization", object_id=tx.org_id, memo=memo)
    await audit.record(
        tx, "credits.grant", "organization", tx.org_id, f"Granted {format_credits(amount)} credits", {"memo": memo}
    )


async def create_organization(
    portal: Portal, conn: AsyncConnection, new: NewOrganization, opening_credits: Decimal = Decimal(0)
) -> Actor:
    """A reseller organization with its owner, and the credits it starts with."""
    now = portal.now()
    org = await create_reseller(conn, now, new.organization_name)
    tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=now)
    await add_user(
        tx, portal.hasher, login=new.owner_login, password=new.password, role=Role.OWNER,
        display_name=new.owner_name,
    )
    await opening_grant(tx, opening_credits, "Opening credits")
    return org


async def accept_invitation(conn: AsyncConnection, portal: Portal, acceptance: InvitationAcceptance) -> str:
    """Create the invited member; returns their login (the caller logs them in)."""
    now = portal.now()
    row = (
        await conn.execute(
            select(invitations, organizations.c.name.label("org_name"), organizations.c.kind.label("org_kind"))
            .join(organizations, organizations.c.id == invitations.c.org_id)
            .where(invitations.c.token_hash == token_hash(acceptance.token.strip()))
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("This invitation token is not known here: check that it was copied whole, or ask for a "
                       "new invitation.", {"token": "unknown"})
    if row.accepted_at is not None:
        raise InvitationClosed("This invitation was used already: log in with the login made with it "
                             "(seattui login), or ask for a new invitation.", {"token": "used"})
    if row.revoked_at is not None:
        raise InvitationClosed("This invitation was revoked: ask whoever invited you for a new one.", {"token": "revoked"})
    if row.expires_at <= now:
        raise InvitationClosed(f"This invitation expired on {row.expires_at:%Y-%m-%d}: ask for it to be sent again.",
                             {"token": "expired"})
    login = acceptance.login.strip().lower()
    if row.customer_id is not None:
        existing = (await conn.execute(select(users.c.id, users.c.login, users.c.disabled_at)
                                       .where(users.c.customer_id == row.customer_id).with_for_update())).first()
        if existing is not None:
            await _set_password(conn, portal, row, existing, login, acceptance.password, now)
            return str(existing.login)
    invited = Actor(user_id=None, login=login, display_name=acceptance.display_name or login, role=Role(row.role),
                    org_id=row.org_id, org_name=row.org_name, org_kind=OrgKind(row.org_kind))
    tx = Tx(conn=conn, actor=invited, catalog=portal.catalog, now=now)
    user_id = await add_user(tx, portal.hasher, login=login, password=acceptance.password,
                                      role=Role(row.role), display_name=acceptance.display_name,
                                      customer_id=row.customer_id)
    await conn.execute(update(invitations).where(invitations.c.id == row.id).values(accepted_at=now, user_id=user_id))
    tx.actor = replace(invited, user_id=user_id)
    await audit.record(tx, "invitation.accept", "invitation", row.id, f"{login} accepted the invitation of {row.email}")
    return login


async def _set_password(conn: AsyncConnection, portal: Portal, invitation: Any, user: Any, login: str, password: str,
                        now: datetime) -> None:
    """A code mailed to a customer who has their login sets its new password: the old one worked
    until now, and every session opened with it ends."""
    if user.disabled_at is not None:
        raise LoginDisabled.by(invitation.org_name)
    if login != user.login:
        raise ValidationFailed(f"This code sets a new password for the login {user.login}: give that login with it.",
                               {"login": user.login})
    if len(password) < 10:
        raise ValidationFailed("A password has at least 10 characters.", {"password": "at least 10 characters"})
    await conn.execute(update(users).where(users.c.id == user.id).values(password_hash=await portal.hasher.hash(password)))
    await conn.execute(update(api_tokens).where(api_tokens.c.user_id == user.id, api_tokens.c.revoked_at.is_(None))
                       .values(revoked_at=now))
    # Failed tries of the lost password lock the login no longer: whoever has the code set it.
    await conn.execute(delete(login_failures).where(login_failures.c.login == user.login))
    await conn.execute(update(invitations).where(invitations.c.id == invitation.id)
                       .values(accepted_at=now, user_id=user.id))
    customer = Actor(user_id=user.id, login=user.login, display_name=user.login, role=Role.CUSTOMER,
                     org_id=invitation.org_id, org_name=invitation.org_name, org_kind=OrgKind(invitation.org_kind),
                     customer_id=invitation.customer_id)
    await audit.record(Tx(conn=conn, actor=customer, catalog=portal.catalog, now=now), "customer.password_set",
                       "customer", invitation.customer_id, f"{user.login} set a new password with a mailed code",
                       {"invitation_id": invitation.id})
