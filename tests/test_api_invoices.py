"""Invoices as documents through the client: the PDF, the mail with the PDF attached (through
the outbox to a real SMTP server), the billing address, and the list's filter and sort."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from seattui.domain.billing import InvoiceSort, InvoiceStatus
from seattui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from seattui.portal.mailer import MailDelivery
from seattui.portal.smtp import smtp_server
from seattui.portal.store.tables import outbox_mails

from harness import PortalHarness
from mail_server import MailServer
from test_api_billing import a_key, bill, monthly, permanent, set_terms

SENDER = "billing@portal.example"


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


async def a_summary_invoice(harness: PortalHarness) -> str:
    """Acme on monthly terms, two orders in March, billed on April 1st: INV-2026-000001."""
    await set_terms(harness, "Acme", monthly("5000.00", due_days=14))
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness), reference_name="Front desk", po_number="PO-9"))
    await owner.create_license(permanent(await a_key(harness), quantity=2))
    [number] = await bill(harness, date(2026, 4, 1))
    return number


async def mails_in_outbox(harness: PortalHarness) -> int:
    async with harness.portal.store.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(outbox_mails)) or 0)


# -- the PDF -----------------------------------------------------------------------------

async def test_the_pdf_of_an_invoice_shows_its_number_lines_and_total(harness: PortalHarness) -> None:
    number = await a_summary_invoice(harness)
    owner = await harness.login("acme-owner")
    text = pdf_text(await owner.invoice_pdf(number))
    assert number in text
    assert "Front desk: RemoteDesk Standard" in text and "PO-9" in text
    assert "490.00" in text and "98.00" in text
    assert "588.00" in text  # the total
    assert "Summary invoice" in text


async def test_the_pdf_answers_as_application_pdf_named_after_the_invoice(harness: PortalHarness) -> None:
    number = await a_summary_invoice(harness)
    owner = await harness.login("acme-owner")
    response = await owner.request("GET", f"/api/v1/invoices/{number}/pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{number}.pdf"' in response.headers["content-disposition"]


async def test_a_draft_has_no_pdf_and_another_organization_invoice_is_not_found(harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", monthly("5000.00"))
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness)))
    [draft] = (await owner.invoices()).items
    with pytest.raises(Conflict, match="draft"):
        await owner.invoice_pdf(str(draft.id))
    [number] = await bill(harness, date(2026, 4, 1))
    globex = await harness.login("globex-owner")
    with pytest.raises(NotFound):
        await globex.invoice_pdf(number)
    with pytest.raises(NotFound):
        await globex.email_invoice(number, "eve@globex.example")
    assert await mails_in_outbox(harness) == 0


# -- by mail ------------------------------------------------------------------------------

async def test_an_invoice_emailed_to_the_billing_address_arrives_with_its_pdf(
        harness: PortalHarness, mail_server: MailServer) -> None:
    number = await a_summary_invoice(harness)
    owner = await harness.login("acme-owner")
    assert (await owner.billing_contact()).billing_email is None
    assert (await owner.set_billing_contact("Accounts@Acme.example")).billing_email == "Accounts@acme.example"
    mailed = await owner.email_invoice(number)
    assert (mailed.invoice, mailed.to) == (number, "Accounts@acme.example")

    assert await MailDelivery(harness.portal, smtp_server(mail_server.url, timeout=5), SENDER).deliver_due() == 1
    [received] = mail_server.inbox.received
    assert received["To"] == "Accounts@acme.example" and received["Subject"] == f"Invoice {number}"
    assert received["Message-ID"] == mailed.message_id
    body = received.get_body(preferencelist=("plain",))
    assert body is not None and "588.00 credits are due by 2026-04-15" in body.get_content()
    [attachment] = list(received.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) == (f"{number}.pdf", "application/pdf")
    text = pdf_text(attachment.get_content())
    assert number in text and "588.00" in text and "Front desk: RemoteDesk Standard" in text


async def test_an_address_typed_wins_and_a_retry_with_the_same_key_writes_one_mail(
        harness: PortalHarness, mail_server: MailServer) -> None:
    number = await a_summary_invoice(harness)
    owner = await harness.login("acme-owner")
    await owner.set_billing_contact("accounts@acme.example")
    retry = str(uuid.uuid4())
    first = await owner.email_invoice(number, "ann@acme.example", idempotency_key=retry)
    again = await owner.email_invoice(number, "ann@acme.example", idempotency_key=retry)
    assert first == again and first.to == "ann@acme.example"
    assert await mails_in_outbox(harness) == 1
    await owner.email_invoice(number, "ann@acme.example")  # a new key: a mail of its own
    assert await mails_in_outbox(harness) == 2
    assert await MailDelivery(harness.portal, smtp_server(mail_server.url, timeout=5), SENDER).deliver_due() == 2
    assert [envelope[1] for envelope in mail_server.inbox.envelopes] == [["ann@acme.example"]] * 2


async def test_without_a_billing_address_emailing_says_how_to_set_one_and_writes_nothing(
        harness: PortalHarness) -> None:
    number = await a_summary_invoice(harness)
    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed, match="seattui billing-email ADDRESS") as refused:
        await owner.email_invoice(number)
    assert "--to" in refused.value.message
    with pytest.raises(ValidationFailed, match="not an email address"):
        await owner.email_invoice(number, "not an address")
    with pytest.raises(ValidationFailed, match="not an email address"):
        await owner.set_billing_contact("accounts at acme")
    assert (await owner.billing_contact()).billing_email is None
    assert await mails_in_outbox(harness) == 0


async def test_only_owners_and_admins_set_the_billing_address_or_email_invoices(harness: PortalHarness) -> None:
    number = await a_summary_invoice(harness)
    admin = await harness.login("acme-admin")
    await admin.set_billing_contact("accounts@acme.example")
    for login in ("acme-op", "acme-viewer"):
        client = await harness.login(login)
        assert (await client.billing_contact()).billing_email == "accounts@acme.example"
        with pytest.raises(PermissionDenied):
            await client.set_billing_contact("eve@evil.example")
        with pytest.raises(PermissionDenied):
            await client.email_invoice(number)
    assert (await admin.set_billing_contact(None)).billing_email is None
    assert await mails_in_outbox(harness) == 0


# -- the list: filter and sort ---------------------------------------------------------------

async def test_the_list_filters_by_number_and_sorts_the_paid_ones_after_the_unpaid(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    for quantity in (3, 1, 2):  # prepaid: each its own paid invoice, INV-2026-000001..3
        await owner.create_license(permanent(await a_key(harness), quantity=quantity))
    await set_terms(harness, "Acme", monthly("5000.00"))
    await owner.create_license(permanent(await a_key(harness), quantity=5))  # March's draft
    listed = (await owner.invoices()).items
    assert [(invoice.status, invoice.number) for invoice in listed] == [
        (InvoiceStatus.DRAFT, None), (InvoiceStatus.PAID, "INV-2026-000003"), (InvoiceStatus.PAID, "INV-2026-000002"),
        (InvoiceStatus.PAID, "INV-2026-000001")]
    by_total = (await owner.invoices(sort=InvoiceSort.TOTAL, descending=True)).items
    assert [invoice.total for invoice in by_total] == [Decimal("245.00"), Decimal("147.00"), Decimal("98.00"),
                                                       Decimal("49.00")]
    page = await owner.invoices(sort=InvoiceSort.NUMBER, limit=2)
    assert [invoice.number for invoice in page.items] == [None, "INV-2026-000001", "INV-2026-000002"]
    rest = await owner.invoices(sort=InvoiceSort.NUMBER, limit=2, cursor=page.next_cursor)
    assert [invoice.number for invoice in rest.items] == ["INV-2026-000003"] and rest.next_cursor is None
    assert [invoice.number for invoice in (await owner.invoices(text="0002")).items] == ["INV-2026-000002"]
    assert (await owner.invoices(text="100%_")).items == []


async def test_a_filter_with_control_characters_or_a_forged_sorted_cursor_is_refused(harness: PortalHarness) -> None:
    import base64
    import json

    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed):
        await owner.invoices(text="INV\u0000")
    for sort, values in ((InvoiceSort.NUMBER, ["a\u0000b", 1]), (InvoiceSort.TOTAL, [2**70, 1]),
                         (InvoiceSort.TOTAL, ["many", 1])):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        with pytest.raises(ValidationFailed, match="cursor"):
            await owner.invoices(sort=sort, cursor=cursor)
