"""Sessions: login with a password, bearer tokens that expire and are revoked on logout,
and failed logins that slow down and then lock."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.accounts import Credentials, Session
from seattui.domain.roles import OrgKind, Role
from seattui.domain.errors import (
    AccountLocked,
    InvalidCredentials,
    LoginDisabled,
    LoginThrottled,
    SeattuiError,
    SessionExpired,
    Unauthenticated,
)
from seattui.portal.bearer import AUTOMATION_PREFIX, SESSION_PREFIX, new_token, token_hash
from seattui.portal.context import Actor, Tx
from seattui.portal.runtime import Portal
from seattui.portal.services import audit
from seattui.portal.settings import PortalSettings
from seattui.domain.team import lower_of
from seattui.portal.queries.actors import AUTOMATION_ACTOR, SESSION_ACTOR, WithActor
from seattui.portal.store.tables import api_tokens, automation_tokens, login_failures, organizations, users

# An API token's last use is written at most this often, so a busy script costs no write per request.
LAST_USED_PRECISION = timedelta(minutes=1)
NO_TOKEN = "Log in first: this needs a session token (seattui login)."


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _blocked(failures: int, until: datetime, now: datetime, settings: PortalSettings) -> SeattuiError:
    wait = _retry_after(until, now)
    if failures >= settings.login_lock_after:
        minutes = math.ceil(wait / 60)
        return AccountLocked(
            f"Too many failed logins: this login is locked for {minutes} more minute"
            f"{'s' if minutes != 1 else ''}. Wait, or ask an owner to check the account.",
            {"retry_after": wait},
        )
    return LoginThrottled(
        f"Too many failed logins in a row: wait {wait} second{'s' if wait != 1 else ''} and try again.",
        {"retry_after": wait},
    )


async def login(portal: Portal, credentials: Credentials) -> Session:
    settings = portal.settings
    now = portal.now()
    # Lower-casing can lengthen a name ("İ"); no login is longer than the column anyway.
    login_name = credentials.login.strip().lower()[:64]
    # A try is counted as a failure before its password is checked, in a transaction that
    # serializes tries of the same login (row lock; SQLite's write lock), so however many
    # arrive at once, at most login_lock_after of them reach the slow check in a window.
    async with portal.store.write() as conn:
        failed = await _claim_try(conn, login_name, now, settings)
        user = (
            await conn.execute(
                select(users, organizations.c.name.label("org_name"), organizations.c.kind.label("org_kind"))
                .join(organizations, organizations.c.id == users.c.org_id)
                # A removed member's password no longer opens anything.
                .where(users.c.login == login_name, users.c.removed_at.is_(None))
            )
        ).first()

    # The password check runs outside any transaction: it is slow on purpose.
    valid = await portal.hasher.verify(user.password_hash if user else None, credentials.password)
    if not valid:
        raise failed

    async with portal.store.write() as conn:
        # Success forgets the failures, but never a lock that other tries set meanwhile.
        await conn.execute(
            delete(login_failures).where(
                login_failures.c.login == login_name, login_failures.c.failures < settings.login_lock_after
            )
        )
        if user.disabled_at is not None:
            # Said only to whoever knows the password: to others a disabled login is as any other.
            # Its right password is no failed try: enabled again, the login is not locked.
            refused = LoginDisabled.by(user.org_name)
        else:
            return await _open_session(portal, conn, user, now)
    raise refused


async def _open_session(portal: Portal, conn: AsyncConnection, user: Any, now: datetime) -> Session:
    """A new session token for the user who logged in, in the login's transaction."""
    actor = _actor(user)
    await conn.execute(update(users).where(users.c.id == user.id).values(last_login_at=now))
    token = new_token(SESSION_PREFIX)
    expires_at = now + portal.settings.token_ttl
    await conn.execute(
        insert(api_tokens).values(
            user_id=user.id, token_hash=token_hash(token), created_at=now, expires_at=expires_at
        )
    )
    tx = Tx(conn=conn, actor=actor, catalog=portal.catalog, now=now)
    await audit.record(tx, "session.login", "user", user.id, f"{user.login} logged in")
    return Session(token=token, expires_at=expires_at, me=actor.me())


async def _claim_try(
    conn: AsyncConnection, login_name: str, now: datetime, settings: PortalSettings
) -> SeattuiError:
    """Count one try of the login as failed, or refuse it while the login waits or is locked.
    Returns the error the try answers if its password turns out wrong."""
    # The row exists before it is locked: concurrent first tries then wait on one row instead
    # of racing to insert it (PostgreSQL's unique violation).
    await conn.execute(
        _insert_ignoring_duplicate(conn).values(login=login_name, failures=0, last_failed_at=now, blocked_until=None)
    )
    row = (
        await conn.execute(select(login_failures).where(login_failures.c.login == login_name).with_for_update())
    ).one()
    if row.blocked_until is not None and row.blocked_until > now:
        raise _blocked(row.failures, row.blocked_until, now, settings)
    # A lock that has run out, or failures older than the window, start the count again.
    fresh_start = now - row.last_failed_at > settings.login_failure_window or row.failures >= settings.login_lock_after
    failures = 1 if fresh_start else row.failures + 1
    blocked_until: datetime | None = None
    if failures >= settings.login_lock_after:
        blocked_until = now + settings.login_lock
    elif failures >= settings.login_throttle_after:
        blocked_until = now + timedelta(seconds=min(2 ** (failures - settings.login_throttle_after), 60))
    await conn.execute(
        update(login_failures)
        .where(login_failures.c.login == login_name)
        .values(failures=failures, last_failed_at=now, blocked_until=blocked_until)
    )
    if failures >= settings.login_lock_after:
        assert blocked_until is not None
        return _blocked(failures, blocked_until, now, settings)
    left = settings.login_lock_after - failures
    return InvalidCredentials(
        "Wrong login or password." + (f" {left} more failed tries lock this login." if left <= 5 else ""),
        {"tries_left": left},
    )


def _insert_ignoring_duplicate(conn: AsyncConnection) -> Any:
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(login_failures).on_conflict_do_nothing(index_elements=[login_failures.c.login])


async def authenticate_request(portal: Portal, token: str | None) -> Actor:
    """The caller of a request. Read from the store every time, never cached, so a revoked
    token or a removed member is refused on the very next request by every instance."""
    now = portal.now()
    async with portal.store.point_read() as conn:
        actor, touch, _ = await actor_in(conn, token, now)
    if touch:
        await touch_token(portal, actor, now)
    return actor


async def actor_in(conn: AsyncConnection, token: str | None, now: datetime,
                   with_actor: WithActor | None = None) -> tuple[Actor, bool, Any]:
    """Who the token acts as, read in the caller's transaction (a read route's own, so the
    request takes one transaction), whether its last use is due to be written (touch_token,
    after that transaction), and the row of `with_actor`'s columns read with it (or None)."""
    if token and token.startswith(AUTOMATION_PREFIX):
        query = AUTOMATION_ACTOR if with_actor is None else with_actor.automation
        row = await query.first(conn, {"token_hash": token_hash(token)})
        actor = _automation_actor(row, now)
        return actor, row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION, row
    if not token:
        raise Unauthenticated(NO_TOKEN)
    query = SESSION_ACTOR if with_actor is None else with_actor.session
    row = await query.first(conn, {"token_hash": token_hash(token)})
    return _session_actor(row, now), False, row


async def touch_token(portal: Portal, actor: Actor, now: datetime) -> None:
    async with portal.store.write() as conn:
        await conn.execute(_TOUCH, {"token_id": actor.token_id, "now": now})


_TOUCH = (update(automation_tokens).where(automation_tokens.c.id == bindparam("token_id"))
          .values(last_used_at=bindparam("now")))


def _automation_actor(row: Any, now: datetime) -> Actor:
    if row is None:
        raise Unauthenticated("This API token is not known here: check SEATTUI_TOKEN, or create one (seattui token create).")
    if row.disabled_at is not None:
        raise LoginDisabled.by(row.org_name)
    if row.revoked_at is not None or row.removed_at is not None:
        raise SessionExpired(f"The API token {row.token_name!r} was revoked: create a new one (seattui token create).")
    if row.expires_at is not None and row.expires_at <= now:
        raise SessionExpired(
            f"The API token {row.token_name!r} expired on {row.expires_at:%Y-%m-%d}: create a new one (seattui token create)."
        )
    base = _actor(row)
    # A member demoted since the token was made takes the token down with them.
    role = lower_of(Role(row.token_role), base.role)
    actor = Actor(
        user_id=base.user_id, login=base.login, display_name=base.display_name, role=role,
        org_id=base.org_id, org_name=base.org_name, org_kind=base.org_kind,
        token_name=row.token_name, token_id=row.token_id, customer_id=base.customer_id,
    )
    return actor


def _session_actor(row: Any, now: datetime) -> Actor:
    if row is None:
        raise Unauthenticated("This session token is not known here: log in again.")
    if row.disabled_at is not None:
        raise LoginDisabled.by(row.org_name)
    if row.removed_at is not None:
        raise SessionExpired("You were removed from this organization: ask one of its owners or admins.")
    if row.revoked_at is not None:
        raise SessionExpired("You logged out of this session: log in again.")
    if row.expires_at <= now:
        raise SessionExpired("Your session has expired: log in again.")
    return _actor(row)


async def logout(tx: Tx, token: str) -> None:
    await tx.conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=tx.now)
    )
    await audit.record(tx, "session.logout", "user", tx.actor.user_id, f"{tx.actor.login} logged out")


def _actor(row: Any) -> Actor:
    """Who a row of users joined with organizations (org_name, org_kind) is."""
    return Actor(
        user_id=row.id,
        login=row.login,
        display_name=row.display_name,
        role=Role(row.role),
        org_id=row.org_id,
        org_name=row.org_name,
        org_kind=OrgKind(row.org_kind),
        customer_id=row.customer_id,
    )
