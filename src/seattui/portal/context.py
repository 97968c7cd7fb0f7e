"""Who is asking and inside which transaction: what every service function receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.accounts import Me, Organization, User
from seattui.domain.roles import OrgKind, Permission, Role, permissions_for
from seattui.domain.catalog import Catalog
from seattui.domain.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    user_id: int | None  # None for the portal's own administration commands
    login: str
    display_name: str
    role: Role
    org_id: int
    org_name: str
    org_kind: OrgKind
    # The API token acting for the member (automation), named in every audit entry it makes.
    token_name: str | None = None
    token_id: int | None = None
    # A customer's own login (role customer): the customer whose licenses alone it sees.
    customer_id: int | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.role, self.org_kind)

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(
                f"Your role ({self.role.value}) may not do this; ask an owner or an admin.",
                {"needs": permission.value},
            )

    def me(self) -> Me:
        return Me(
            user=User(
                id=self.user_id or 0, login=self.login, display_name=self.display_name, role=self.role
            ),
            organization=Organization(id=self.org_id, name=self.org_name, kind=self.org_kind),
            permissions=self.permissions,
        )


@dataclass
class Tx:
    """One transaction of one actor, with the catalog and the time it runs at."""

    conn: AsyncConnection
    actor: Actor
    catalog: Catalog
    now: datetime
    batch_id: str | None = field(default=None)
    # The same transaction as the organization that pays (a child account's parent), once
    # queries/organizations.payer() has looked it up.
    payer: Tx | None = field(default=None, repr=False)
    # What the request read with its actor, in the same statement: (the auth.WithActor, its row).
    with_actor: tuple[object, Any] | None = field(default=None, repr=False)

    @property
    def org_id(self) -> int:
        return self.actor.org_id

    @property
    def today(self) -> date:
        return self.now.date()
