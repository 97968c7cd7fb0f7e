"""Who a token acts as: the statements that read a session's or an API token's member and
organization with the token, once per request (services/auth.py decides what they allow).
Calls no service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.sql.elements import ColumnElement

from seattui.portal.context import Tx
from seattui.portal.store.point import PointQuery
from seattui.portal.store.tables import api_tokens, automation_tokens, organizations, users

# Who a token acts as, read with the token in one query, for a session or an API token alike.
_ACTOR_COLUMNS = (users.c.id, users.c.login, users.c.display_name, users.c.role, users.c.removed_at, users.c.org_id,
                  users.c.customer_id, users.c.disabled_at,
                  organizations.c.name.label("org_name"), organizations.c.kind.label("org_kind"))
# Built once: every request runs one of these, and building the statement cost more than
# running it (SQLAlchemy's compiled cache then finds it by its cache key at once).
AUTOMATION_ACTOR = PointQuery(
    select(
        automation_tokens.c.id.label("token_id"),
        automation_tokens.c.name.label("token_name"),
        automation_tokens.c.role.label("token_role"),
        automation_tokens.c.expires_at,
        automation_tokens.c.revoked_at,
        automation_tokens.c.last_used_at,
        *_ACTOR_COLUMNS,
    )
    .join(users, users.c.id == automation_tokens.c.user_id)
    .join(organizations, organizations.c.id == users.c.org_id)
    .where(automation_tokens.c.token_hash == bindparam("token_hash"))
)
SESSION_ACTOR = PointQuery(
    select(api_tokens.c.expires_at, api_tokens.c.revoked_at, *_ACTOR_COLUMNS)
    .join(users, users.c.id == api_tokens.c.user_id)
    .join(organizations, organizations.c.id == users.c.org_id)
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
)


class WithActor:
    """Columns read in the statement that reads a token's actor, correlated on the actor's
    `organizations` row: a request whose whole answer is such a fact of the caller's
    organization (its balance) makes one trip to the store instead of two. On PostgreSQL the
    trip was most of a point request's time (the portal_api benchmark)."""

    __slots__ = ("session", "automation")

    def __init__(self, *columns: ColumnElement[Any]) -> None:
        self.session = PointQuery(SESSION_ACTOR.statement.add_columns(*columns))
        self.automation = PointQuery(AUTOMATION_ACTOR.statement.add_columns(*columns))

    def row_of(self, tx: Tx) -> Any | None:
        """The columns as read with the transaction's actor, when its request read them."""
        read = tx.with_actor
        return read[1] if read is not None and read[0] is self else None
