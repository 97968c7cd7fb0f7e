"""The members of an organization, the invitations that bring new ones in, and the API
tokens that scripts use instead of a person's password session."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from seattui.domain.accounts import LOGIN_PATTERN
from seattui.domain.base import Count, DomainModel, PlainText
from seattui.domain.roles import Role

INVITATION_LIFETIME = timedelta(days=7)
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3650
TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

# Higher is more: a token or an invitation never outranks the member who makes it.
# A customer's login is no member's: it ranks below every member's role.
_RANK = {Role.CUSTOMER: -1, Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


def outranks(role: Role, other: Role) -> bool:
    return _RANK[role] > _RANK[other]


def lower_of(role: Role, other: Role) -> Role:
    return other if outranks(role, other) else role


def member_role(role: Role) -> Role:
    """A role a member, an invitation or an API token may have: every one but a customer's,
    whose login comes from a license assigned to them."""
    if role is Role.CUSTOMER:
        raise ValueError("customer is the role of a customer's own login, made when a license is assigned to "
                         "them; choose owner, admin, operator or viewer")
    return role


MemberRole = Annotated[Role, AfterValidator(member_role)]


class MemberStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


class Member(DomainModel):
    id: int
    login: str
    display_name: str
    role: Role
    status: MemberStatus
    created_at: datetime
    last_login_at: datetime | None = None


class RoleChange(DomainModel):
    role: MemberRole


class InvitationStatus(StrEnum):
    PENDING = "pending"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


class NewInvitation(DomainModel):
    email: PlainText = Field(min_length=3, max_length=320)
    role: MemberRole

    @field_validator("email")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()


class Invitation(DomainModel):
    id: int
    email: str
    role: Role
    status: InvitationStatus
    invited_by: str
    created_at: datetime
    expires_at: datetime
    # Only in the answer that made the token (creating or resending): it is stored hashed.
    token: str | None = None


class InvitationAcceptance(DomainModel):
    """Accepting an invitation: its token, and the login and password of the new member."""

    token: str = Field(min_length=1, max_length=200)
    login: str = Field(pattern=LOGIN_PATTERN)
    password: str = Field(min_length=10, max_length=256)
    display_name: PlainText = Field(default="", max_length=120)


class TokenStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"


class NewApiToken(DomainModel):
    name: str = Field(pattern=TOKEN_NAME_PATTERN)
    # None: the creator's own role (never more than it).
    role: MemberRole | None = None
    # Days until it stops working; null for a token that never expires (owners only).
    expires_in_days: Count | None = Field(default=DEFAULT_TOKEN_DAYS, ge=1, le=MAX_TOKEN_DAYS)


class ApiToken(DomainModel):
    id: int
    name: str
    role: Role
    member: str  # the login of the member it acts for
    member_id: int
    status: TokenStatus
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    # The secret itself: only in the answer to its creation, never again.
    token: str | None = None
