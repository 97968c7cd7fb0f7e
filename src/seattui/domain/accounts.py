"""Organizations, users, roles and what each role may do."""

from __future__ import annotations

from datetime import datetime
from pydantic import ConfigDict, Field, field_validator
from seattui.domain.base import DomainModel, PlainText
from seattui.domain.roles import OrgKind, Permission, Role

LOGIN_PATTERN = r"^[A-Za-z0-9._@+-]{2,64}$"


class Organization(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    kind: OrgKind


class User(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    login: str
    display_name: str
    role: Role


class Me(DomainModel):
    """Who the caller is: the user, their organization, and what they may do."""

    user: User
    organization: Organization
    permissions: frozenset[Permission]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


class Credentials(DomainModel):
    login: PlainText = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Session(DomainModel):
    """A bearer token and when it stops working."""

    token: str
    expires_at: datetime
    me: Me


class NewOrganization(DomainModel):
    """First run: an organization and its owner."""

    organization_name: PlainText = Field(min_length=2, max_length=120)
    owner_login: str = Field(pattern=LOGIN_PATTERN)
    owner_name: PlainText = Field(default="", max_length=120)
    password: str = Field(min_length=10, max_length=256)

    @field_validator("organization_name", "owner_name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()


class SetupStatus(DomainModel):
    """Whether the portal still waits for its first organization."""

    needs_setup: bool
