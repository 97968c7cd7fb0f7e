"""Mail to customers when a license or subscription is assigned to them: delivered through the
outbox to a real SMTP server, with the signed license file where the organization chooses it,
and never twice for the same key and customer (a retried purchase, an unchanged edit, a move
back). The settings are the organization's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from seattui.domain.customers import CustomerMail, CustomerMailChange
from seattui.domain.errors import PermissionDenied, ValidationFailed
from seattui.domain.license_file import KIND_LICENSE, KIND_SUBSCRIPTION, parse_keyring, verify_license_file
from seattui.domain.licensing import LicenseEdit, LicenseOrder, SubscriptionOrder, Term
from seattui.portal.mailer import MailDelivery
from seattui.portal.smtp import smtp_server
from seattui.portal.store.tables import outbox_mails

from harness import PortalHarness
from mail_server import MailServer
from test_api_billing import a_key, permanent

SENDER = "licenses@portal.example"


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


async def deliver(harness: PortalHarness, server: MailServer) -> int:
    return await MailDelivery(harness.portal, smtp_server(server.url, timeout=5), SENDER).deliver_due()


async def mails_in_outbox(harness: PortalHarness) -> int:
    async with harness.portal.store.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(outbox_mails)) or 0)


def body_of(message: EmailMessage) -> str:
    """The plain text, its wrapped lines joined (words, each run of spaces one space)."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return " ".join(str(body.get_content()).split())


async def keyring(harness: PortalHarness) -> dict:  # type: ignore[type-arg]
    return parse_keyring((await harness.client().signing_keys()).text)


# -- what a purchase mails -------------------------------------------------------------------

async def test_a_purchase_for_a_customer_mails_them_the_key_and_how_to_activate_without_a_file(
        harness: PortalHarness, mail_server: MailServer) -> None:
    owner = await harness.login("acme-owner")
    assert await owner.customer_mail() == CustomerMail(mail=True, attach_file=False)  # the defaults
    key = await a_key(harness)
    license = await owner.create_license(permanent(key, customer_email="Ada@Example.org"))

    assert await deliver(harness, mail_server) == 1
    [received] = mail_server.inbox.received
    assert received["To"] == "Ada@example.org"  # as typed on the license
    assert received["Subject"] == "Your activation key for RemoteDesk"
    text = body_of(received)
    assert f"Activation key: {key}" in text
    assert "RemoteDesk Standard" in text and "permanent, 10 users" in text
    assert "Acme has licensed RemoteDesk to you" in text
    assert "enter the activation key in RemoteDesk" in text
    assert "license file" not in text
    assert list(received.iter_attachments()) == []
    assert received["Message-ID"].endswith("@seattui.outbox>") and license.customer_email == "Ada@example.org"


async def test_with_the_file_chosen_the_mail_carries_a_license_file_that_verifies_offline(
        harness: PortalHarness, mail_server: MailServer) -> None:
    owner = await harness.login("acme-owner")
    chosen = await owner.set_customer_mail(CustomerMailChange(attach_file=True))
    assert chosen == CustomerMail(mail=True, attach_file=True)
    key = await a_key(harness)
    license = await owner.create_license(permanent(key, customer_email="ada@example.org"))

    assert await deliver(harness, mail_server) == 1
    [received] = mail_server.inbox.received
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == f"{key}-remotedesk.license"
    file_text = attachment.get_content()
    facts = verify_license_file(file_text, await keyring(harness), now=harness.clock.now, product_id="remotedesk")
    assert (facts.kind, facts.object_id, facts.key, facts.quantity) == (KIND_LICENSE, license.id, key, 10)
    assert facts.customer == "ada@example.org"
    assert f"load the attached license file ({key}-remotedesk.license)" in body_of(received)


async def test_a_retried_purchase_and_an_unchanged_edit_mail_nothing_more(
        harness: PortalHarness, mail_server: MailServer) -> None:
    owner = await harness.login("acme-owner")
    order = permanent(await a_key(harness), customer_email="ada@example.org")
    retry = str(uuid.uuid4())
    first = await owner.create_license(order, idempotency_key=retry)
    again = await owner.create_license(order, idempotency_key=retry)
    assert first == again
    assert await mails_in_outbox(harness) == 1
    # The same customer in another case, the comment changed: still the one customer.
    await owner.edit_license(first.id, LicenseEdit(customer_email="ADA@example.org", comment="front desk"))
    assert await mails_in_outbox(harness) == 1
    assert await deliver(harness, mail_server) == 1
    assert [envelope[1] for envelope in mail_server.inbox.envelopes] == [["ada@example.org"]]


async def test_a_license_moved_to_another_customer_mails_the_new_one_once_and_a_move_back_nobody(
        harness: PortalHarness, mail_server: MailServer) -> None:
    owner = await harness.login("acme-owner")
    key = await a_key(harness)
    license = await owner.create_license(permanent(key))  # no customer: no mail
    assert await mails_in_outbox(harness) == 0
    await owner.edit_license(license.id, LicenseEdit(customer_email="ada@example.org"))
    await owner.edit_license(license.id, LicenseEdit(customer_email="bob@example.org"))
    await owner.edit_license(license.id, LicenseEdit(customer_email="ada@example.org"))
    await owner.edit_license(license.id, LicenseEdit(customer_email=None))
    assert await deliver(harness, mail_server) == 2
    assert [envelope[1] for envelope in mail_server.inbox.envelopes] == [["ada@example.org"], ["bob@example.org"]]
    assert all(key in body_of(message) for message in mail_server.inbox.received)


async def test_a_license_deleted_and_bought_again_for_the_same_customer_is_mailed_again(
        harness: PortalHarness, mail_server: MailServer) -> None:
    owner = await harness.login("acme-owner")
    key = await a_key(harness)
    first = await owner.create_license(permanent(key, customer_email="ada@example.org"))
    await owner.delete_licenses([first.id])  # refunded: never activated
    # SQLite gives the deleted last row's id to the next license: the new one is news all the same.
    await owner.create_license(permanent(key, customer_email="ada@example.org"))
    assert await deliver(harness, mail_server) == 2
    assert [envelope[1] for envelope in mail_server.inbox.envelopes] == [["ada@example.org"]] * 2


async def test_a_trial_assigned_to_a_customer_by_an_operator_mails_its_end(
        harness: PortalHarness, mail_server: MailServer) -> None:
    operator = await harness.login("acme-op")
    key = await a_key(harness)
    await operator.create_license(LicenseOrder(key=key, product_id="remotedesk", edition_id="standard",
                                               term=Term.TRIAL, trial_days=14, quantity=3,
                                               customer_email="ada@example.org"))
    assert await deliver(harness, mail_server) == 1
    text = body_of(mail_server.inbox.received[0])
    assert f"Activation key: {key}" in text and "trial until" in text


# -- turned off ------------------------------------------------------------------------------

async def test_turned_off_a_purchase_or_a_move_mails_nobody_and_the_license_is_made(
        harness: PortalHarness, mail_server: MailServer) -> None:
    admin = await harness.login("acme-admin")
    assert await admin.set_customer_mail(CustomerMailChange(mail=False, attach_file=True)) == CustomerMail(
        mail=False, attach_file=True)
    license = await admin.create_license(permanent(await a_key(harness), customer_email="ada@example.org"))
    await admin.edit_license(license.id, LicenseEdit(customer_email="bob@example.org"))
    assert license.customer_email == "ada@example.org"
    assert await mails_in_outbox(harness) == 0
    assert await deliver(harness, mail_server) == 0
    # Turned on again, the next assignment is mailed; a field left out keeps its value.
    assert await admin.set_customer_mail(CustomerMailChange(mail=True)) == CustomerMail(mail=True, attach_file=True)
    await admin.create_license(permanent(await a_key(harness), customer_email="cy@example.org"))
    assert await deliver(harness, mail_server) == 1
    assert mail_server.inbox.envelopes[0][1] == ["cy@example.org"]


async def test_a_purchase_refused_for_want_of_credits_mails_nobody(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    with pytest.raises(Exception, match="credits"):
        await owner.create_license(permanent(await a_key(harness), quantity=1000, customer_email="ada@example.org"))
    assert await mails_in_outbox(harness) == 0


# -- subscriptions -------------------------------------------------------------------------------

async def test_a_subscription_for_a_customer_mails_its_key_and_its_file_when_chosen(
        harness: PortalHarness, mail_server: MailServer) -> None:
    owner = await harness.login("acme-owner")
    await owner.set_customer_mail(CustomerMailChange(attach_file=True))
    key = await a_key(harness)
    order = SubscriptionOrder(key=key, product_id="connect", channels=2, customer_email="ada@example.org")
    retry = str(uuid.uuid4())
    subscription = await owner.create_subscription(order, idempotency_key=retry)
    await owner.create_subscription(order, idempotency_key=retry)
    assert await deliver(harness, mail_server) == 1
    [received] = mail_server.inbox.received
    text = body_of(received)
    assert received["To"] == "ada@example.org" and f"Activation key: {key}" in text
    assert "2 channels" in text and "paid until" in text
    [attachment] = list(received.iter_attachments())
    facts = verify_license_file(attachment.get_content(), await keyring(harness), now=harness.clock.now)
    assert (facts.kind, facts.object_id, facts.quantity) == (KIND_SUBSCRIPTION, subscription.id, 2)


# -- who may, and whose ----------------------------------------------------------------------------

async def test_only_owners_and_admins_change_the_settings_and_everyone_reads_them(harness: PortalHarness) -> None:
    for login in ("acme-op", "acme-viewer"):
        member = await harness.login(login)
        with pytest.raises(PermissionDenied):
            await member.set_customer_mail(CustomerMailChange(mail=False))
        assert (await member.customer_mail()).mail is True
    owner = await harness.login("acme-owner")
    for wrong in ({"mail": "no"}, {"mail": 1}, {"attach_file": 0}):
        with pytest.raises(ValidationFailed, match="true or false"):
            await owner.request("PUT", "/api/v1/organization/customer-mail", body=wrong)
    assert await owner.customer_mail() == CustomerMail()


async def test_each_organization_has_its_own_settings(harness: PortalHarness, mail_server: MailServer) -> None:
    acme = await harness.login("acme-owner")
    globex = await harness.login("globex-owner")
    await acme.set_customer_mail(CustomerMailChange(mail=False))
    assert await globex.customer_mail() == CustomerMail(mail=True, attach_file=False)
    await globex.set_customer_mail(CustomerMailChange(attach_file=True))
    assert await acme.customer_mail() == CustomerMail(mail=False, attach_file=False)

    await acme.create_license(permanent(await a_key(harness), customer_email="ada@example.org"))
    await globex.create_license(permanent(await a_key(harness, "Globex"), customer_email="ada@example.org"))
    assert await deliver(harness, mail_server) == 1
    [received] = mail_server.inbox.received
    assert "Globex has licensed" in body_of(received) and len(list(received.iter_attachments())) == 1
