"""Mail through the outbox, delivered to a real SMTP server (aiosmtpd) that tests read back."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from seattui.domain.errors import ValidationFailed
from seattui.domain.mail import MailAttachment, MailStatus
from seattui.portal.mailer import MailDelivery, delivery_for
from seattui.portal.options import options_from_environment, settings_from_options
from seattui.portal.runtime import Portal
from seattui.portal.services import outbox
from seattui.portal.smtp import SmtpUrlError, smtp_server

from cli_helpers import seattui, serving
import harness as portal_harness
from harness import PortalHarness, running_portal
from mail_server import Inbox, MailServer, free_port, password_checker

SENDER = "billing@portal.example"


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def delivery(portal: Portal, url: str, **options: Any) -> MailDelivery:
    return MailDelivery(portal, smtp_server(url, timeout=5), SENDER, **options)


async def enqueue(harness: PortalHarness, to: str = "ann@acme.example", subject: str = "Your invoice",
                  text: str = "Hello Ann,\nyour invoice is attached.", **options: Any) -> str:
    async with harness.as_org("Acme") as tx:
        return await outbox.enqueue(tx.conn, tx.actor.org_id, to, subject, text, now=tx.now,
                                    cause=options.pop("cause", "invoice INV-2026-000001"), **options)


async def status_of(harness: PortalHarness, message_id: str) -> Any:
    async with harness.portal.store.read() as conn:
        return await outbox.by_message_id(conn, message_id)


async def test_a_mail_written_with_its_cause_is_delivered_with_its_attachment(
        harness: PortalHarness, mail_server: MailServer) -> None:
    pdf = b"%PDF-1.4 not really, but bytes all the same\x00\xff"
    message_id = await enqueue(harness, attachments=[MailAttachment("INV-2026-000001.pdf", "application/pdf", pdf)])
    assert (await status_of(harness, message_id)).status is MailStatus.WAITING

    assert await delivery(harness.portal, mail_server.url).deliver_due() == 1

    [received] = mail_server.inbox.received
    assert received["Message-ID"] == message_id
    assert received["To"] == "ann@acme.example" and received["From"] == SENDER
    assert received["Subject"] == "Your invoice"
    assert mail_server.inbox.envelopes == [(SENDER, ["ann@acme.example"])]
    body = received.get_body(preferencelist=("plain",))
    assert body is not None and "your invoice is attached." in body.get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "INV-2026-000001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    mail = await status_of(harness, message_id)
    assert mail.status is MailStatus.SENT and mail.sent_at == harness.clock.now and mail.attempts == 1
    async with harness.portal.store.read() as conn:
        assert await outbox.undelivered(conn) == []
    # Nothing is sent twice once marked.
    assert await delivery(harness.portal, mail_server.url).deliver_due() == 0
    assert len(mail_server.inbox.received) == 1


async def test_a_mail_whose_cause_is_rolled_back_is_never_sent(harness: PortalHarness, mail_server: MailServer) -> None:
    with pytest.raises(RuntimeError):
        async with harness.as_org("Acme") as tx:
            await outbox.enqueue(tx.conn, tx.actor.org_id, "ann@acme.example", "Invoice", "text",
                                 cause="invoice INV-2026-000002", now=tx.now)
            raise RuntimeError("the invoice could not be finalized")
    assert await delivery(harness.portal, mail_server.url).deliver_due() == 0
    assert mail_server.inbox.received == []


async def test_text_from_the_store_cannot_add_headers_and_bad_addresses_are_refused(harness: PortalHarness) -> None:
    with pytest.raises(ValidationFailed, match="one line") as caught:
        await enqueue(harness, subject="Invoice\r\nBcc: everyone@elsewhere.example")
    assert caught.value.fields == {"subject": "one line only"}
    with pytest.raises(ValidationFailed, match="not an email address"):
        await enqueue(harness, to="ann at acme")
    with pytest.raises(ValidationFailed, match="content type"):
        await enqueue(harness, attachments=[MailAttachment("x.pdf", "pdf", b"x")])
    async with harness.portal.store.read() as conn:
        assert await outbox.undelivered(conn) == []


async def test_a_dead_mail_server_delays_mail_and_loses_none(harness: PortalHarness) -> None:
    server = MailServer()  # not started: nothing listens on its port
    first = await enqueue(harness, subject="First")
    second = await enqueue(harness, to="bob@acme.example", subject="Second")
    worker = delivery(harness.portal, server.url)

    assert await worker.deliver_due() == 0
    waiting = await status_of(harness, first)
    assert waiting.status is MailStatus.WAITING and waiting.attempts == 1
    assert "refused" in (waiting.last_error or "").lower()
    assert waiting.next_attempt_at == harness.clock.now + outbox.FIRST_RETRY

    listed = seattui("outbox", "--json", "--db", harness.portal.settings.database_url)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(row["message_id"], row["status"], row["attempts"]) for row in rows] == [
        (first, "waiting", 1), (second, "waiting", 1)]
    assert rows[0]["to"] == "ann@acme.example" and rows[0]["cause"] == "invoice INV-2026-000001"
    assert "refused" in rows[0]["last_error"].lower()

    server.start()
    try:
        # Not before its backoff ...
        assert await worker.deliver_due() == 0
        assert server.inbox.received == []
        # ... and then all of it, each once.
        harness.clock.advance(seconds=outbox.FIRST_RETRY.total_seconds())
        assert await worker.deliver_due() == 2
        assert sorted(server.inbox.message_ids()) == sorted([first, second])
    finally:
        server.stop()
    assert (await status_of(harness, second)).attempts == 2
    assert "The outbox is empty" in seattui("outbox", "--db", harness.portal.settings.database_url).stdout


async def test_retries_back_off_and_end_as_failed_with_the_last_error(harness: PortalHarness) -> None:
    assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert outbox.retry_delay(20) == outbox.retry_delay(outbox.MAX_ATTEMPTS) == outbox.LONGEST_RETRY
    message_id = await enqueue(harness)
    worker = delivery(harness.portal, f"smtp://127.0.0.1:{free_port()}")
    for _ in range(outbox.MAX_ATTEMPTS):
        await worker.deliver_due()
        harness.clock.advance(hours=2)
    mail = await status_of(harness, message_id)
    assert mail.status is MailStatus.FAILED and mail.attempts == outbox.MAX_ATTEMPTS
    assert await worker.deliver_due() == 0
    shown = seattui("outbox", "--db", harness.portal.settings.database_url)
    assert f"failed after {outbox.MAX_ATTEMPTS} tries" in shown.stdout and "last error:" in shown.stdout

    # Once the operator has fixed the cause, the failed mail goes out again.
    retried = seattui("outbox", "--retry-failed", "--db", harness.portal.settings.database_url)
    assert retried.returncode == 0 and "1 failed mail(s) will be tried again" in retried.stdout
    harness.clock.now = datetime.now(UTC) + timedelta(minutes=1)  # the command ran on the real clock
    server = MailServer().start()
    try:
        assert await delivery(harness.portal, server.url).deliver_due() == 1
        assert server.inbox.message_ids() == [message_id]
    finally:
        server.stop()
    assert (await status_of(harness, message_id)).status is MailStatus.SENT


async def test_a_recipient_the_server_refuses_for_good_is_failed_at_once(harness: PortalHarness) -> None:
    server = MailServer(Inbox(refuse_recipients={"gone@acme.example": "550 5.1.1 No such mailbox"})).start()
    try:
        refused = await enqueue(harness, to="gone@acme.example")
        fine = await enqueue(harness, to="ann@acme.example")
        assert await delivery(harness.portal, server.url).deliver_due() == 1
        assert server.inbox.message_ids() == [fine]
    finally:
        server.stop()
    mail = await status_of(harness, refused)
    assert mail.status is MailStatus.FAILED and mail.attempts == 1
    assert "550" in (mail.last_error or "") and "No such mailbox" in (mail.last_error or "")


async def test_a_portal_killed_between_sending_and_marking_sends_again_with_the_same_message_id(
        harness: PortalHarness, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch) -> None:
    message_id = await enqueue(harness)
    real_mark = outbox.mark_sent

    async def dies_before_marking(*args: Any, **kwargs: Any) -> None:
        raise ConnectionResetError("the portal died before it could mark the mail sent")

    monkeypatch.setattr(outbox, "mark_sent", dies_before_marking)
    with pytest.raises(ConnectionResetError):
        await delivery(harness.portal, mail_server.url).deliver_due()
    assert mail_server.inbox.message_ids() == [message_id]
    assert (await status_of(harness, message_id)).status is MailStatus.WAITING

    monkeypatch.setattr(outbox, "mark_sent", real_mark)
    worker = delivery(harness.portal, mail_server.url)
    # The claim holds for its lease: no other task takes the mail while it may still be sending.
    assert await worker.deliver_due() == 0
    harness.clock.advance(seconds=outbox.CLAIM_LEASE.total_seconds())
    assert await worker.deliver_due() == 1
    assert mail_server.inbox.message_ids() == [message_id, message_id]
    first, again = mail_server.inbox.received
    assert first["Date"] == again["Date"] and first.get_content() == again.get_content()
    assert (await status_of(harness, message_id)).status is MailStatus.SENT
    harness.clock.advance(hours=1)
    assert await worker.deliver_due() == 0
    assert len(mail_server.inbox.received) == 2


async def test_two_portal_instances_never_both_send_a_mail(harness: PortalHarness, mail_server: MailServer) -> None:
    sent = []
    for number in range(30):
        sent.append(await enqueue(harness, to=f"user{number}@acme.example", subject=f"Mail {number}"))
    other = Portal(portal_harness.test_settings(harness.portal.settings.database_url, harness.clock))
    await other.start()
    try:
        workers = [delivery(harness.portal, mail_server.url, batch=3), delivery(other, mail_server.url, batch=3)]

        async def drain(worker: MailDelivery) -> int:
            total = 0
            while count := await worker.deliver_due():
                total += count
            return total

        counts = await asyncio.gather(*(drain(worker) for worker in workers))
    finally:
        await other.close()
    received = mail_server.inbox.message_ids()
    assert sorted(received) == sorted(sent), "every mail once, none twice"
    assert sum(counts) == 30


async def test_the_portal_delivers_in_the_background(database_url: str, mail_server: MailServer) -> None:
    async with running_portal(database_url, smtp_url=mail_server.url, mail_from=SENDER,
                              mail_poll_seconds=0.02) as harness:
        task: MailDelivery = harness.app.state.mail_delivery
        assert task is not None
        message_id = await enqueue(harness)
        # A pass that began after the commit has certainly seen the mail.
        await asyncio.wait_for(task.until_passes(task.passes + 2), timeout=30)
        assert mail_server.inbox.message_ids() == [message_id]
        assert (await status_of(harness, message_id)).status is MailStatus.SENT


class SilentServer:
    """Accepts connections and never says a word: an SMTP server that hangs."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.connected = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            while True:
                connection, _ = self.listener.accept()
                self.accepted.append(connection)
                self.connected.set()
        except OSError:
            return

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


async def test_a_hanging_mail_server_never_holds_a_request(sqlite_url: str) -> None:
    silent = SilentServer()
    try:
        async with running_portal(sqlite_url, smtp_url=f"smtp://127.0.0.1:{silent.port}", mail_from=SENDER,
                                  mail_poll_seconds=0.02, smtp_timeout=30) as harness:
            await enqueue(harness)
            assert await asyncio.to_thread(silent.connected.wait, 30), "the delivery task never connected"
            client = await harness.login("acme-owner")  # answered while delivery waits on the server
            assert (await client.balance()).organization == "Acme"
            silent.close()  # the waiting delivery gets its answer: the connection closed
    finally:
        silent.close()


async def test_the_smtp_login_comes_from_the_url_or_seattui_smtp_password(harness: PortalHarness) -> None:
    inbox = Inbox()
    server = MailServer(inbox, authenticator=password_checker({"portal": "s3cret pass"}, inbox),
                        auth_require_tls=False).start()
    try:
        options = options_from_environment({"SEATTUI_SMTP": f"smtp://portal@127.0.0.1:{server.port}",
                                            "SEATTUI_MAIL_FROM": SENDER, "SEATTUI_SMTP_PASSWORD": "s3cret pass"})
        settings = settings_from_options({**options, "db": harness.portal.settings.database_url})
        assert "s3cret" not in repr(settings)
        portal = Portal(settings.model_copy(update={"clock": harness.clock}))
        worker = delivery_for(portal)
        assert worker is not None and worker.server.username == "portal"
        message_id = await enqueue(harness)
        assert await worker.deliver_due() == 1
        await portal.close()
        assert inbox.logins == ["portal"] and inbox.message_ids() == [message_id]

        wrong = MailDelivery(harness.portal, smtp_server(f"smtp://portal:wrong@127.0.0.1:{server.port}"), SENDER)
        refused = await enqueue(harness)
        assert await wrong.deliver_due() == 0
        mail = await status_of(harness, refused)
        assert mail.status is MailStatus.WAITING and "535" in (mail.last_error or "")
    finally:
        server.stop()


def test_smtp_urls() -> None:
    plain = smtp_server("smtp://mail.example:2525")
    assert (plain.host, plain.port, plain.security, plain.username) == ("mail.example", 2525, "none", None)
    assert smtp_server("smtp://mail.example").port == 25
    tls = smtp_server("smtps://ann%40corp:p%3Ass@mail.example")
    assert (tls.port, tls.security, tls.username, tls.password) == (465, "tls", "ann@corp", "p:ss")
    assert "p:ss" not in tls.shown
    assert smtp_server("smtp://ann@mail.example:587", starttls=True, password="pw").security == "starttls"
    assert smtp_server("smtp://ann@mail.example:587", password="pw").password == "pw"
    for bad in ("http://mail.example", "mail.example:25", "smtp://mail.example:99999", "smtp://mail.example/x"):
        with pytest.raises(SmtpUrlError):
            smtp_server(bad)


def test_serve_explains_a_missing_sender_and_a_bad_smtp_url(tmp_path: Any) -> None:
    database = str(tmp_path / "portal.db")
    done = seattui("serve", "--db", database, "--smtp", "smtp://127.0.0.1:2525")
    assert done.returncode == 2 and "--mail-from" in done.stderr and "Traceback" not in done.stderr
    done = seattui("serve", "--db", database, "--smtp", "mail.example", "--mail-from", SENDER)
    assert done.returncode == 2 and "smtp://HOST:PORT" in done.stderr


async def write_mails(database: str, count: int) -> list[str]:
    """Mail written into a portal's database as a cause's transaction would (no clock of a test)."""
    from seattui.portal.store import Store

    store = Store(database)
    try:
        async with store.write() as conn:
            return [await outbox.enqueue(conn, None, f"user{number}@acme.example", f"Mail {number}", "Hello",
                                         cause=f"test mail {number}") for number in range(count)]
    finally:
        await store.dispose()


@pytest.mark.parametrize("workers", [1, 2])
async def test_seattui_serve_delivers_the_outbox(tmp_path: Any, mail_server: MailServer, workers: int) -> None:
    database = str(tmp_path / "portal.db")
    done = seattui("init", "--db", database, "--org", "Initech", "--login", "peter", "--password-stdin",
                   stdin="owner password 123\n")
    assert done.returncode == 0, done.stderr
    sent = await write_mails(database, 12)
    # The flag, and the generic layer's SEATTUI_* variables for the rest.
    with serving(database, "--smtp", mail_server.url, "--workers", str(workers),
                 env={"SEATTUI_MAIL_FROM": SENDER, "SEATTUI_MAIL_POLL_SECONDS": "0.1"}):
        assert await asyncio.to_thread(mail_server.inbox.wait_for, 12), "serve delivered no mail"
        listed = seattui("outbox", "--json", "--db", database)
    assert sorted(mail_server.inbox.message_ids()) == sorted(sent)
    assert json.loads(listed.stdout) == []
    assert {sender for sender, _ in mail_server.inbox.envelopes} == {SENDER}


async def test_the_embedded_portal_delivers_with_the_smtp_settings_of_the_environment(
        tmp_path: Any, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from seattui.wiring import EmbeddedConnector

    database = str(tmp_path / "embedded.db")
    monkeypatch.setenv("SEATTUI_SMTP", mail_server.url)
    monkeypatch.setenv("SEATTUI_MAIL_FROM", SENDER)
    monkeypatch.setenv("SEATTUI_MAIL_POLL_SECONDS", "0.05")
    connector = EmbeddedConnector(database)
    try:
        app = await connector.start()
        assert app.state.mail_delivery is not None
        [message_id] = await write_mails(f"sqlite:///{database}", 1)
        assert await asyncio.to_thread(mail_server.inbox.wait_for, 1), "the embedded portal delivered nothing"
    finally:
        await connector.close()
    assert mail_server.inbox.message_ids() == [message_id]


def self_signed_certificate(folder: Any) -> tuple[str, str]:
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


async def test_starttls_and_login_against_a_server_that_requires_them(
        harness: PortalHarness, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl makes the test server's certificate")
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    server = MailServer(inbox, tls_context=context, require_starttls=True,
                        authenticator=password_checker({"portal": "pw"}, inbox), auth_required=True).start()
    url = f"smtp://portal:pw@127.0.0.1:{server.port}"
    try:
        without_tls = await enqueue(harness)
        assert await delivery(harness.portal, url).deliver_due() == 0
        assert "STARTTLS" in ((await status_of(harness, without_tls)).last_error or "").upper()
        harness.clock.advance(minutes=1)
        # The portal trusts the server's certificate the way the README says: SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", cert)
        secure = MailDelivery(harness.portal, smtp_server(url, starttls=True, timeout=5), SENDER)
        assert await secure.deliver_due() == 1
    finally:
        server.stop()
    assert inbox.message_ids() == [without_tls] and inbox.logins == ["portal"]


async def test_deliveries_are_counted_in_the_metrics(sqlite_url: str) -> None:
    import httpx

    server = MailServer()  # down at first
    async with running_portal(sqlite_url, smtp_url=server.url, mail_from=SENDER, mail_poll_seconds=0.02,
                              metrics=True) as harness:
        task: MailDelivery = harness.app.state.mail_delivery
        await enqueue(harness)
        await asyncio.wait_for(task.until_passes(task.passes + 2), timeout=30)
        server.start()
        try:
            harness.clock.advance(minutes=1)
            assert await asyncio.to_thread(server.inbox.wait_for, 1, 30)
            await asyncio.wait_for(task.until_passes(task.passes + 1), timeout=30)  # the mark is counted too
        finally:
            server.stop()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://p") as http:
            text = (await http.get("/metrics")).text
    assert 'seattui_mail_deliveries_total{outcome="retry"} 1.0' in text
    assert 'seattui_mail_deliveries_total{outcome="sent"} 1.0' in text
