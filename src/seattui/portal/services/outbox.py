"""The mail outbox: mail is written in the transaction of what causes it, and delivered later.

A caller (an invoice emailed, an invitation) calls `enqueue` on its own transaction's
connection: the mail exists exactly when its cause was committed. The delivery task
(portal/mailer.py) claims due mail in short transactions of its own, sends it, and marks it.
Delivery is at least once: a portal killed between the SMTP server's acceptance and the mark
sends the mail again after the claim's lease, with the same Message-ID.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.errors import ValidationFailed
from seattui.domain.mail import MAX_ATTACHMENT_BYTES, MAX_BODY, MAX_SUBJECT, MailAttachment, MailStatus, OutboxMail
from seattui.portal.store.tables import outbox_attachments, outbox_mails

# Retries wait 30 s, 1, 2, 4 ... minutes, then an hour; after 80 attempts (three days of a dead
# mail server) the mail is marked failed, `seattui outbox` shows its last error, and
# `seattui outbox --retry-failed` sends it on its way again.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
MAX_ATTEMPTS = 80
# A claimed mail is not offered to another delivery task for this long: longer than one SMTP
# exchange can take (the client's timeout), so only a delivery that died is taken over.
CLAIM_LEASE = timedelta(minutes=5)
MESSAGE_ID_DOMAIN = "seattui.outbox"


@dataclass(frozen=True)
class ClaimedMail:
    """A mail a delivery task has claimed: everything needed to send it."""

    id: int
    message_id: str
    to: str
    subject: str
    body: str
    created_at: datetime
    attempts: int  # counting this one
    attachments: tuple[MailAttachment, ...]


def _one_line(value: str, what: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(f"The mail needs a {what}.", {field: "required"})
    if "\r" in value or "\n" in value:
        # A header with a line break would let text from the store add headers of its own.
        raise ValidationFailed(f"The mail's {what} must be one line.", {field: "one line only"})
    if len(value) > limit:
        raise ValidationFailed(f"The mail's {what} is longer than {limit} characters.", {field: f"at most {limit}"})
    return value


def mail_address(to: str) -> str:
    """The address normalized, or ValidationFailed saying what is wrong with it."""
    to = _one_line(to, "recipient address", "to", 320)
    try:
        return validate_email(to, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationFailed(f"{to!r} is not an email address: {error}", {"to": str(error)}) from None


async def enqueue(conn: AsyncConnection, organization_id: int | None, to: str, subject: str, text: str, *,
                  attachments: Sequence[MailAttachment] = (), cause: str, now: datetime | None = None) -> str:
    """Write a mail to the outbox inside the caller's transaction; returns its Message-ID.

    `cause` says what the mail is for ("invoice INV-2026-000123", "invitation for ann"), and is
    shown by `seattui outbox`. The text is plain text: nothing in it is read as markup.
    """
    address = mail_address(to)
    subject = _one_line(subject, "subject", "subject", MAX_SUBJECT)
    cause = _one_line(cause, "cause", "cause", 200)
    if len(text) > MAX_BODY:
        raise ValidationFailed(f"The mail's text is longer than {MAX_BODY} characters.", {"text": f"at most {MAX_BODY}"})
    for attachment in attachments:
        _one_line(attachment.filename, "attachment's file name", "attachments", 255)
        maintype, _, subtype = attachment.content_type.partition("/")
        if not maintype or not subtype:
            raise ValidationFailed(f"{attachment.content_type!r} is not a content type like application/pdf.",
                                   {"attachments": "content type"})
        if len(attachment.content) > MAX_ATTACHMENT_BYTES:
            raise ValidationFailed(f"{attachment.filename} is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB.",
                                   {"attachments": "too large"})
    when = now or datetime.now(UTC)  # callers pass their transaction's clock (tx.now)
    message_id = f"<{uuid.uuid4().hex}@{MESSAGE_ID_DOMAIN}>"
    mail_id = (await conn.execute(outbox_mails.insert().values(
        org_id=organization_id, message_id=message_id, to_address=address, subject=subject, body=text,
        cause=cause, status=MailStatus.WAITING.value, attempts=0, next_attempt_at=when, created_at=when,
    ).returning(outbox_mails.c.id))).scalar_one()
    if attachments:
        await conn.execute(outbox_attachments.insert(), [
            {"mail_id": mail_id, "position": position, "filename": attachment.filename,
             "content_type": attachment.content_type, "content": attachment.content}
            for position, attachment in enumerate(attachments)])
    return message_id


async def claim_due(conn: AsyncConnection, now: datetime, limit: int = 20) -> list[ClaimedMail]:
    """Take up to `limit` mails that are due, so no other delivery task sends them meanwhile.

    PostgreSQL skips rows another instance is claiming (FOR UPDATE SKIP LOCKED); SQLite has
    one writer at a time, so a second task sees the first one's claim. Commit right after.
    """
    due = (select(outbox_mails.c.id)
           .where(outbox_mails.c.status == MailStatus.WAITING.value, outbox_mails.c.next_attempt_at <= now)
           .order_by(outbox_mails.c.next_attempt_at, outbox_mails.c.id)
           .limit(limit)
           .with_for_update(skip_locked=True))
    ids = list((await conn.execute(due)).scalars())
    if not ids:
        return []
    await conn.execute(update(outbox_mails).where(outbox_mails.c.id.in_(ids)).values(
        attempts=outbox_mails.c.attempts + 1, next_attempt_at=now + CLAIM_LEASE))
    rows = (await conn.execute(select(outbox_mails).where(outbox_mails.c.id.in_(ids))
                               .order_by(outbox_mails.c.next_attempt_at, outbox_mails.c.id))).mappings().all()
    files: dict[int, list[MailAttachment]] = {}
    for file in (await conn.execute(select(outbox_attachments).where(outbox_attachments.c.mail_id.in_(ids))
                                    .order_by(outbox_attachments.c.mail_id, outbox_attachments.c.position))).mappings():
        files.setdefault(file["mail_id"], []).append(
            MailAttachment(file["filename"], file["content_type"], bytes(file["content"])))
    return [ClaimedMail(id=row["id"], message_id=row["message_id"], to=row["to_address"], subject=row["subject"],
                        body=row["body"], created_at=row["created_at"], attempts=row["attempts"],
                        attachments=tuple(files.get(row["id"], ()))) for row in sorted(rows, key=lambda r: r["id"])]


async def mark_sent(conn: AsyncConnection, mail_id: int, now: datetime) -> None:
    await conn.execute(update(outbox_mails).where(outbox_mails.c.id == mail_id).values(
        status=MailStatus.SENT.value, sent_at=now, last_error=None))


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed try a mail is tried again."""
    return min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 16)), LONGEST_RETRY)  # 2**16 x 30 s > an hour


async def mark_not_sent(conn: AsyncConnection, mail: ClaimedMail, now: datetime, error: str, *,
                        permanent: bool = False) -> MailStatus:
    """Record a failed try: tried again after the backoff, or failed for good."""
    failed = permanent or mail.attempts >= MAX_ATTEMPTS
    status = MailStatus.FAILED if failed else MailStatus.WAITING
    await conn.execute(update(outbox_mails).where(outbox_mails.c.id == mail.id).values(
        status=status.value, last_error=error[:500], next_attempt_at=now + retry_delay(mail.attempts)))
    return status


async def retry_failed(conn: AsyncConnection, now: datetime) -> int:
    """Put every failed mail back in line, to be tried at once from its first attempt again."""
    result = await conn.execute(update(outbox_mails).where(outbox_mails.c.status == MailStatus.FAILED.value).values(
        status=MailStatus.WAITING.value, attempts=0, next_attempt_at=now))
    return int(result.rowcount or 0)


async def undelivered(conn: AsyncConnection, statuses: Iterable[MailStatus] = (MailStatus.WAITING, MailStatus.FAILED),
                      ) -> list[OutboxMail]:
    """Mail not delivered yet, or given up on: failed first, then by when it is tried next."""
    wanted = [status.value for status in statuses]
    rows = (await conn.execute(select(outbox_mails).where(outbox_mails.c.status.in_(wanted))
                               .order_by(outbox_mails.c.status, outbox_mails.c.next_attempt_at,
                                         outbox_mails.c.id))).mappings().all()
    names: dict[int, list[str]] = {}
    if rows:
        for file in (await conn.execute(
                select(outbox_attachments.c.mail_id, outbox_attachments.c.filename)
                .where(outbox_attachments.c.mail_id.in_([row["id"] for row in rows]))
                .order_by(outbox_attachments.c.mail_id, outbox_attachments.c.position))).mappings():
            names.setdefault(file["mail_id"], []).append(file["filename"])
    return [_mail(row, names.get(row["id"], [])) for row in rows]


async def by_message_id(conn: AsyncConnection, message_id: str) -> OutboxMail | None:
    row = (await conn.execute(select(outbox_mails).where(outbox_mails.c.message_id == message_id))).mappings().first()
    if row is None:
        return None
    files = (await conn.execute(select(outbox_attachments.c.filename).where(outbox_attachments.c.mail_id == row["id"])
                                .order_by(outbox_attachments.c.position))).scalars().all()
    return _mail(row, list(files))


async def waiting_count(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(outbox_mails)
                                   .where(outbox_mails.c.status == MailStatus.WAITING.value))).scalar_one())


async def status_counts(conn: AsyncConnection) -> dict[str, int]:
    """How many mails the outbox holds in each status (every status named, zeros too)."""
    found = dict((await conn.execute(select(outbox_mails.c.status, func.count())
                                     .group_by(outbox_mails.c.status))).all())
    return {status.value: int(found.get(status.value, 0)) for status in MailStatus}


def _mail(row: dict, attachments: list[str]) -> OutboxMail:  # type: ignore[type-arg]
    return OutboxMail(id=row["id"], org_id=row["org_id"], message_id=row["message_id"], to=row["to_address"],
                      subject=row["subject"], cause=row["cause"], status=MailStatus(row["status"]),
                      attempts=row["attempts"], next_attempt_at=row["next_attempt_at"],
                      last_error=row["last_error"], created_at=row["created_at"], sent_at=row["sent_at"],
                      attachments=attachments)
