"""The organization's team: its members and their roles, invitations that bring new members
in, and the API tokens that scripts act with.

Role rules, checked here whatever the route let through: only owners make owners or touch an
owner; the organization always keeps at least one owner (changes of owners are serialized on
the organization's row, so two owners demoting each other at once cannot both succeed); a token
or an invitation never carries a role above its maker's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from seattui.domain.errors import Conflict, NotFound, PermissionDenied
from seattui.domain.roles import Permission, Role
from seattui.domain.team import (
    INVITATION_LIFETIME,
    ApiToken,
    Invitation,
    InvitationStatus,
    Member,
    MemberStatus,
    NewApiToken,
    NewInvitation,
    TokenStatus,
    outranks,
)
from seattui.portal.context import Actor, Tx
from seattui.portal.bearer import AUTOMATION_PREFIX, INVITATION_PREFIX, new_token, token_hash
from seattui.portal.queries.invitations import new_invitation, waiting_invitation
from seattui.portal.services import audit, outbox
from seattui.portal.store.tables import api_tokens, automation_tokens, invitations, organizations, users


# -- members ---------------------------------------------------------------------------------


async def members(tx: Tx) -> list[Member]:
    rows = (
        # Customers' own logins are no members of the team.
        await tx.conn.execute(select(users).where(users.c.org_id == tx.org_id, users.c.customer_id.is_(None))
                              .order_by(users.c.login))
    ).all()
    return [_member(row) for row in rows]


async def change_role(tx: Tx, member_id: int, role: Role) -> Member:
    await _lock_organization(tx)
    member = await _member_row(tx, member_id)
    current = Role(member.role)
    if current is role:
        return _member(member)
    _may_touch(tx.actor, current, role)
    if current is Role.OWNER:
        await _keep_an_owner(tx, member, "demote")
    await tx.conn.execute(update(users).where(users.c.id == member_id).values(role=role.value))
    await audit.record(tx, "member.role", "user", member_id, f"{member.login}: {current.value} to {role.value}",
                       {"from": current.value, "to": role.value})
    return _member(await _member_row(tx, member_id))


async def remove(tx: Tx, member_id: int) -> Member:
    """Remove a member: their sessions and API tokens stop working at once."""
    await _lock_organization(tx)
    member = await _member_row(tx, member_id)
    current = Role(member.role)
    _may_touch(tx.actor, current, current)
    if current is Role.OWNER:
        await _keep_an_owner(tx, member, "remove")
    await tx.conn.execute(update(users).where(users.c.id == member_id).values(removed_at=tx.now))
    await tx.conn.execute(
        update(api_tokens).where(api_tokens.c.user_id == member_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=tx.now)
    )
    await tx.conn.execute(
        update(automation_tokens)
        .where(automation_tokens.c.user_id == member_id, automation_tokens.c.revoked_at.is_(None))
        .values(revoked_at=tx.now)
    )
    await audit.record(tx, "member.remove", "user", member_id, f"Removed {member.login} ({current.value})")
    return _member(await _member_row(tx, member_id, live=False))


def _may_touch(actor: Actor, current: Role, wanted: Role) -> None:
    """Only owners make owners, or change or remove one."""
    if actor.role is Role.OWNER:
        return
    if Role.OWNER in (current, wanted):
        raise PermissionDenied(
            "Only an owner can make an owner or change or remove one; ask an owner.", {"needs": "owner"}
        )
    if outranks(wanted, actor.role):
        raise PermissionDenied(f"You cannot give a role above your own ({actor.role.value}).", {"needs": wanted.value})


async def _keep_an_owner(tx: Tx, member: Any, what: str) -> None:
    owners = await tx.conn.scalar(
        select(func.count()).select_from(users).where(
            users.c.org_id == tx.org_id, users.c.role == Role.OWNER.value, users.c.removed_at.is_(None)
        )
    )
    if (owners or 0) <= 1:
        raise Conflict(
            f"{member.login} is the organization's last owner and cannot be {what}d: make another member an "
            "owner first.",
            {"last_owner": member.login},
        )


async def _lock_organization(tx: Tx) -> None:
    # Serializes the team changes of one organization on PostgreSQL (SQLite's write lock does it there).
    await tx.conn.execute(select(organizations.c.id).where(organizations.c.id == tx.org_id).with_for_update())


async def _member_row(tx: Tx, member_id: int, *, live: bool = True) -> Any:
    row = (
        await tx.conn.execute(select(users).where(users.c.id == member_id, users.c.org_id == tx.org_id,
                                                  users.c.customer_id.is_(None)))
    ).first()
    if row is None:
        raise NotFound(f"There is no member {member_id} in this organization.", {"member": member_id})
    if live and row.removed_at is not None:
        raise Conflict(f"{row.login} was removed already.", {"member": row.login})
    return row


def _member(row: Any) -> Member:
    return Member(
        id=row.id,
        login=row.login,
        display_name=row.display_name,
        role=Role(row.role),
        status=MemberStatus.REMOVED if row.removed_at is not None else MemberStatus.ACTIVE,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


# -- invitations -----------------------------------------------------------------------------


async def pending_invitations(tx: Tx) -> list[Invitation]:
    """Invitations not yet accepted nor revoked, expired ones too (they can be resent)."""
    rows = (
        await tx.conn.execute(
            _invitation_query().where(
                invitations.c.org_id == tx.org_id,
                invitations.c.customer_id.is_(None),  # customers' own are on their customer
                invitations.c.accepted_at.is_(None),
                invitations.c.revoked_at.is_(None),
            ).order_by(invitations.c.id)
        )
    ).all()
    return [_invitation(row, tx.now) for row in rows]


async def invite(tx: Tx, new: NewInvitation, portal_address: str | None) -> Invitation:
    email = outbox.mail_address(new.email)
    _may_touch(tx.actor, new.role, new.role)
    waiting = await waiting_invitation(tx, email)
    if waiting is not None:
        raise Conflict(f"{email} has an invitation waiting already: resend it instead.", {"invitation": waiting})
    invitation_id, token, expires_at = await new_invitation(tx, email, new.role)
    await _mail_invitation(tx, email, new.role, token, expires_at, portal_address)
    await audit.record(tx, "invitation.create", "invitation", invitation_id, f"Invited {email} as {new.role.value}",
                       {"email": email, "role": new.role.value})
    return await _invitation_by_id(tx, invitation_id, token)


async def resend(tx: Tx, invitation_id: int, portal_address: str | None) -> Invitation:
    """A new token and seven more days; the token mailed before stops working."""
    row = await _open_invitation(tx, invitation_id)
    _may_touch(tx.actor, Role(row.role), Role(row.role))
    token = new_token(INVITATION_PREFIX)
    expires_at = tx.now + INVITATION_LIFETIME
    await tx.conn.execute(
        update(invitations).where(invitations.c.id == invitation_id)
        .values(token_hash=token_hash(token), expires_at=expires_at)
    )
    await _mail_invitation(tx, row.email, Role(row.role), token, expires_at, portal_address)
    await audit.record(tx, "invitation.resend", "invitation", invitation_id, f"Sent the invitation of {row.email} again")
    return await _invitation_by_id(tx, invitation_id, token)


async def revoke_invitation(tx: Tx, invitation_id: int) -> Invitation:
    row = await _open_invitation(tx, invitation_id)
    _may_touch(tx.actor, Role(row.role), Role(row.role))
    await tx.conn.execute(update(invitations).where(invitations.c.id == invitation_id).values(revoked_at=tx.now))
    await audit.record(tx, "invitation.revoke", "invitation", invitation_id, f"Revoked the invitation of {row.email}")
    return await _invitation_by_id(tx, invitation_id)


async def _mail_invitation(tx: Tx, email: str, role: Role, token: str, expires_at: datetime,
                           portal_address: str | None) -> None:
    inviter = tx.actor.display_name or tx.actor.login
    where = f" --portal {portal_address}" if portal_address else ""
    text = (
        f"Hello,\n\n{inviter} invited you to join {tx.actor.org_name} on seattui as {role.value}.\n\n"
        f"To accept, run this in a terminal (it asks for the login name and password you want):\n\n"
        f"    seattui login --invite {token}{where}\n\n"
        f"or choose \"I have an invitation\" on the seattui login screen and paste this token:\n\n"
        f"    {token}\n\n"
        f"The invitation works once and expires on {expires_at:%Y-%m-%d %H:%M} UTC.\n"
    )
    await outbox.enqueue(tx.conn, tx.org_id, email, f"You are invited to {tx.actor.org_name} on seattui", text,
                         cause=f"invitation for {email}", now=tx.now)


async def _open_invitation(tx: Tx, invitation_id: int) -> Any:
    row = (
        await tx.conn.execute(
            select(invitations).where(invitations.c.id == invitation_id, invitations.c.org_id == tx.org_id,
                                      invitations.c.customer_id.is_(None))
        )
    ).first()
    if row is None:
        raise NotFound(f"There is no invitation {invitation_id} in this organization.", {"invitation": invitation_id})
    if row.accepted_at is not None:
        raise Conflict(f"The invitation of {row.email} was accepted already.", {"invitation": invitation_id})
    if row.revoked_at is not None:
        raise Conflict(f"The invitation of {row.email} was revoked already.", {"invitation": invitation_id})
    return row


def _invitation_query() -> Any:
    return select(invitations, users.c.login.label("inviter")).outerjoin(users, users.c.id == invitations.c.invited_by)


async def _invitation_by_id(tx: Tx, invitation_id: int, token: str | None = None) -> Invitation:
    row = (await tx.conn.execute(_invitation_query().where(invitations.c.id == invitation_id))).one()
    return _invitation(row, tx.now, token)


def _invitation(row: Any, now: datetime, token: str | None = None) -> Invitation:
    if row.accepted_at is not None:
        status = InvitationStatus.ACCEPTED
    elif row.revoked_at is not None:
        status = InvitationStatus.REVOKED
    elif row.expires_at <= now:
        status = InvitationStatus.EXPIRED
    else:
        status = InvitationStatus.PENDING
    return Invitation(id=row.id, email=row.email, role=Role(row.role), status=status,
                      invited_by=row.inviter or "system", created_at=row.created_at, expires_at=row.expires_at,
                      token=token)


# -- API tokens ------------------------------------------------------------------------------


async def tokens(tx: Tx, member_id: int | None = None) -> list[ApiToken]:
    """Live tokens: all the organization's for those who manage members, else the caller's own."""
    query = (
        select(automation_tokens, users.c.login)
        .join(users, users.c.id == automation_tokens.c.user_id)
        .where(automation_tokens.c.org_id == tx.org_id, automation_tokens.c.revoked_at.is_(None))
        .order_by(automation_tokens.c.name)
    )
    if Permission.MANAGE_MEMBERS not in tx.actor.permissions:
        query = query.where(automation_tokens.c.user_id == tx.actor.user_id)
    if member_id is not None:
        query = query.where(automation_tokens.c.user_id == member_id)
    return [_token(row, tx.now) for row in (await tx.conn.execute(query)).all()]


async def create_token(tx: Tx, new: NewApiToken) -> ApiToken:
    actor = tx.actor
    if actor.user_id is None:
        raise PermissionDenied("An API token acts for a member: log in as one to create it.", {"needs": "member"})
    role = new.role or actor.role
    if outranks(role, actor.role):
        raise PermissionDenied(
            f"A token's role is at most your own ({actor.role.value}); choose {actor.role.value} or lower.",
            {"role": role.value},
        )
    if new.expires_in_days is None and actor.role is not Role.OWNER:
        raise PermissionDenied("Only owners may make a token that never expires; give --expires DAYS.",
                               {"expires_in_days": "required"})
    token = new_token(AUTOMATION_PREFIX)
    expires_at = None if new.expires_in_days is None else tx.now + timedelta(days=new.expires_in_days)
    try:
        async with tx.conn.begin_nested():
            token_id = (
                await tx.conn.execute(
                    insert(automation_tokens)
                    .values(org_id=tx.org_id, user_id=actor.user_id, name=new.name, role=role.value,
                            token_hash=token_hash(token), created_at=tx.now, expires_at=expires_at)
                    .returning(automation_tokens.c.id)
                )
            ).scalar_one()
    except IntegrityError:
        raise Conflict(f"A token named {new.name!r} exists already: choose another name, or revoke that one first.",
                       {"name": new.name}) from None
    await audit.record(tx, "token.create", "api_token", token_id, f"Created the API token {new.name} ({role.value})",
                       {"name": new.name, "role": role.value,
                        "expires_at": expires_at.isoformat() if expires_at else None})
    created = await _token_by_id(tx, token_id)
    return created.model_copy(update={"token": token})


async def revoke_token(tx: Tx, token_id: int) -> None:
    row = (
        await tx.conn.execute(
            select(automation_tokens).where(
                automation_tokens.c.id == token_id, automation_tokens.c.org_id == tx.org_id,
                automation_tokens.c.revoked_at.is_(None),
            )
        )
    ).first()
    # Someone else's token is "not found" to one who may not manage members.
    if row is None or (row.user_id != tx.actor.user_id and Permission.MANAGE_MEMBERS not in tx.actor.permissions):
        raise NotFound(f"There is no live API token {token_id} here.", {"token": token_id})
    await tx.conn.execute(update(automation_tokens).where(automation_tokens.c.id == token_id).values(revoked_at=tx.now))
    await audit.record(tx, "token.revoke", "api_token", token_id, f"Revoked the API token {row.name}", {"name": row.name})


async def _token_by_id(tx: Tx, token_id: int) -> ApiToken:
    row = (
        await tx.conn.execute(
            select(automation_tokens, users.c.login).join(users, users.c.id == automation_tokens.c.user_id)
            .where(automation_tokens.c.id == token_id)
        )
    ).one()
    return _token(row, tx.now)


def _token(row: Any, now: datetime) -> ApiToken:
    expired = row.expires_at is not None and row.expires_at <= now
    return ApiToken(id=row.id, name=row.name, role=Role(row.role), member=row.login, member_id=row.user_id,
                    status=TokenStatus.EXPIRED if expired else TokenStatus.ACTIVE, created_at=row.created_at,
                    expires_at=row.expires_at, last_used_at=row.last_used_at)

