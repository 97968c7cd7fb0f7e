"""The audit trail: who changed what, when, and in which batch."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict
from seattui.domain.base import DomainModel


class AuditEntry(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: int | None = None
    summary: str = ""
    details: dict[str, Any] = {}
    batch_id: str | None = None
    token: str | None = None  # the API token the change was made with, if any


class AuditFilter(DomainModel):
    """Which entries of the audit log: by whom, what kind of change, which object, which days."""

    model_config = ConfigDict(frozen=True)

    user: str | None = None  # a login (or a token's name), as entries name who acted
    kind: str | None = None  # an action ("license.create"), or its area ("license")
    object_type: str | None = None
    object_id: int | None = None
    since: date | None = None  # from this day (UTC), inclusive
    until: date | None = None  # to this day (UTC), inclusive
    batch_id: str | None = None
