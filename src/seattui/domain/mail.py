"""Mail the portal sends: what a caller hands to the outbox, and what the outbox holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict

from seattui.domain.base import DomainModel

MAX_SUBJECT = 200
MAX_BODY = 1_000_000
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class MailStatus(StrEnum):
    WAITING = "waiting"  # not yet accepted by the SMTP server; retried with backoff
    SENT = "sent"
    FAILED = "failed"  # refused for good (a 5xx answer) or out of attempts; kept for the operator


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str  # "application/pdf"
    content: bytes


class OutboxMail(DomainModel):
    """One mail in the outbox, as `seattui outbox` shows it."""

    model_config = ConfigDict(frozen=True)

    id: int
    org_id: int | None
    message_id: str
    to: str
    subject: str
    cause: str
    status: MailStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    attachments: list[str]  # file names
