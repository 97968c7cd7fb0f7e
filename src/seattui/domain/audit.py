"""The audit trail: who changed what, when, and in which batch."""

from __future__ import annotations

from datetime import datetime
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
