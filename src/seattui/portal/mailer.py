"""Mail delivery: the portal's background task that hands the outbox to an SMTP server.

It runs inside `seattui serve` (each worker) and the embedded portal, never in a request.
Each pass claims due mail in a short transaction (services/outbox.py), sends it with the
standard library's smtplib on a thread, so a slow or dead mail server never holds the
portal's loop nor a database lock, and marks each mail once the server has accepted it.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime

from seattui.domain.mail import MailStatus
from seattui.portal.runtime import Portal
from seattui.portal.services import outbox
from seattui.portal.services.outbox import ClaimedMail
from seattui.portal.smtp import SmtpServer, smtp_server

log = logging.getLogger("seattui.mail")


def build_message(mail: ClaimedMail, sender: str) -> EmailMessage:
    """The mail as the SMTP server receives it; the same Message-ID on every try."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message.set_content(mail.body)  # text/plain: what the store holds goes in as text
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


def _connect(server: SmtpServer) -> smtplib.SMTP:
    context = ssl.create_default_context()  # honours SSL_CERT_FILE for a private CA
    smtp: smtplib.SMTP
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    try:
        if server.security == "starttls":
            smtp.starttls(context=context)
        if server.username:
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("auth"):
                hint = ("it offers STARTTLS: add --smtp-starttls" if smtp.has_extn("starttls") and server.security == "none"
                        else "leave the user out of --smtp")
                raise smtplib.SMTPNotSupportedError(f"the SMTP server offers no login here; {hint}")
            smtp.login(server.username, server.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _reason(error: BaseException) -> tuple[str, bool]:
    """What went wrong, in one line, and whether trying this mail again cannot help: a 5xx
    answer to its recipient or its content. A refused connection, login or sender is the
    portal's setup, retried until the operator fixes it."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(error.recipients.values()))
        return f"recipient refused: {code} {answer.decode(errors='replace')}", code >= 500
    if isinstance(error, smtplib.SMTPResponseException):
        answer = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
        permanent = error.smtp_code >= 500 and isinstance(error, smtplib.SMTPDataError)
        what = "sender refused: " if isinstance(error, smtplib.SMTPSenderRefused) else ""
        return f"{what}{error.smtp_code} {answer}".strip(), permanent
    words = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {words}" if isinstance(error, OSError) else words, False


class MailDelivery:
    """Delivers the outbox while the portal runs: `start()` in the lifespan, `stop()` at its end."""

    def __init__(self, portal: Portal, server: SmtpServer, sender: str, *, poll_seconds: float = 5.0,
                 batch: int = 20, observe: Callable[[str], None] | None = None) -> None:
        self.portal = portal
        self._observe = observe or (lambda outcome: None)  # the metrics' counter, when they are on
        self.server = server
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.passes = 0
        self._pass_done = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def deliver_due(self) -> int:
        """One pass: claim the due mail, send it, mark it. Returns how many the server accepted."""
        store = self.portal.store
        async with store.write() as conn:
            mails = await outbox.claim_due(conn, self.portal.now(), self.batch)
        if not mails:
            return 0
        try:
            smtp = await asyncio.to_thread(_connect, self.server)
        except (OSError, smtplib.SMTPException) as error:
            await self._not_sent(mails, error)
            return 0
        sent = 0
        try:
            for index, mail in enumerate(mails):
                try:
                    message = build_message(mail, self.sender)
                except (ValueError, TypeError) as error:  # enqueue checks what it can; never retry this
                    await self._not_sent([mail], error, permanent=True)
                    continue
                try:
                    await asyncio.to_thread(smtp.send_message, message)
                except smtplib.SMTPServerDisconnected as error:
                    await self._not_sent(mails[index:], error)  # the connection is gone: all the rest wait
                    return sent
                except smtplib.SMTPException as error:  # this mail refused (an OSError too: first)
                    await self._not_sent([mail], error)
                    continue
                except OSError as error:
                    await self._not_sent(mails[index:], error)
                    return sent
                # Killed before this commits, the mail is sent again after its claim's lease,
                # with the same Message-ID: delivery is at least once.
                async with store.write() as conn:
                    await outbox.mark_sent(conn, mail.id, self.portal.now())
                self._observe("sent")
                sent += 1
        finally:
            await asyncio.to_thread(_quit, smtp)
        return sent

    async def _not_sent(self, mails: list[ClaimedMail], error: BaseException, *, permanent: bool = False) -> None:
        reason, refused_for_good = _reason(error)
        permanent = permanent or refused_for_good
        async with self.portal.store.write() as conn:
            for mail in mails:
                status = await outbox.mark_not_sent(conn, mail, self.portal.now(), reason, permanent=permanent)
                self._observe("failed" if status is MailStatus.FAILED else "retry")
                log.warning("mail %s to %s not sent (try %d, now %s): %s", mail.message_id, mail.to,
                            mail.attempts, status.value, reason)

    def start(self) -> None:
        log.info("delivering mail through %s as %s", self.server.shown, self.sender)
        self._task = asyncio.create_task(self._run(), name="seattui-mail-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: the claimed mail is taken up after its lease
                log.exception("mail delivery pass failed")
                sent = 0
            async with self._pass_done:
                self.passes += 1
                self._pass_done.notify_all()
            if not sent:
                await asyncio.sleep(self.poll_seconds)

    async def until_passes(self, count: int) -> None:
        """Wait until the task has made `count` passes in all (for tests and health checks)."""
        async with self._pass_done:
            await self._pass_done.wait_for(lambda: self.passes >= count)


def delivery_for(portal: Portal, observe: Callable[[str], None] | None = None) -> MailDelivery | None:
    """The delivery task the portal's settings ask for, or None (no SMTP server: mail waits)."""
    settings = portal.settings
    if not settings.smtp_url or not settings.mail_from:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    server = smtp_server(settings.smtp_url, starttls=settings.smtp_starttls, password=password,
                         timeout=settings.smtp_timeout)
    return MailDelivery(portal, server, settings.mail_from, poll_seconds=settings.mail_poll_seconds, observe=observe)
