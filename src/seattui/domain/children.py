"""Child accounts: a reseller's own customer organizations, one level under it. A child
manages its own members, employees and seats; its parent creates it, invites its first
members, moves licenses into it, sees its usage and pays for its orders."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from seattui.domain.base import Credits, DomainModel, PlainText, RecordId

MIN_CHILD_NAME = 2
MAX_CHILD_NAME = 120


class NewChild(DomainModel):
    name: PlainText = Field(min_length=MIN_CHILD_NAME, max_length=MAX_CHILD_NAME,
                            description="the organization's name, unique in the portal")

    @field_validator("name", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class ChildUsage(DomainModel):
    """What a child holds and spends, as its parent sees it."""

    licenses: int
    seats_assigned: int  # seats of its seat plans held by its employees
    seats_purchased: int  # the seats its seat plans bought (a flexible plan's cap, an annual plan's seats)
    devices_activated: int  # its licenses activated on a device now
    members: int
    spend_this_month: Credits  # what its parent paid for its orders this calendar month (UTC)


class Child(DomainModel):
    id: int
    name: str
    created_at: datetime
    usage: ChildUsage


class LicenseMove(DomainModel):
    """Move one of the parent's licenses (or seat plans) into a child."""

    license_id: RecordId


class LicenseMoved(DomainModel):
    license_id: int
    child_id: int
    child: str
    key: str  # the activation key, which moved with it
