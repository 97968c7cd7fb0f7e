"""Mail to customers: when a license or subscription is assigned to a customer's email, the
customer is mailed the product, the activation key and how to activate it, in the transaction
that assigns it (so the mail exists exactly when the assignment does), with the signed license
file attached where the organization chooses.

Nobody is mailed the same key twice: `customer_mailings` holds one row per object and customer,
so a retried request, an edit that keeps the customer or a move back to an earlier customer
writes no second mail. An owner or admin turns the mails (and the file) on and off."""

from __future__ import annotations

import textwrap

from collections.abc import Sequence

from sqlalchemy import delete, select, update

from seattui.domain.customers import CustomerMail, CustomerMailChange, customer_email
from seattui.domain.errors import Conflict
from seattui.domain.licensing import License, Subscription, Term
from seattui.domain.mail import MailAttachment
from seattui.domain.roles import Permission, Role
from seattui.domain.team import Invitation, InvitationStatus
from seattui.portal.context import Tx
from seattui.portal.queries.customers import email_of
from seattui.portal.queries.invitations import (
    customer_login,
    customer_user,
    new_invitation,
    revoke_customer_invitations,
    waiting_invitation,
)
from seattui.portal.queries.license_files import IssuedFile, Signer, issued_file, license_facts, subscription_facts
from seattui.portal.services import audit, outbox
from seattui.portal.store.sets import insert_or_ignore
from seattui.portal.store.tables import customer_mailings, organizations

LICENSE_FILE_TYPE = "text/plain"


# -- the organization's settings ------------------------------------------------------------------

async def settings(tx: Tx) -> CustomerMail:
    row = (await tx.conn.execute(
        select(organizations.c.customer_mail, organizations.c.customer_mail_attach_file)
        .where(organizations.c.id == tx.org_id))).one()
    return CustomerMail(mail=bool(row.customer_mail), attach_file=bool(row.customer_mail_attach_file))


async def set_settings(tx: Tx, change: CustomerMailChange) -> CustomerMail:
    """An owner or admin turns customer mails, or the license file in them, on or off."""
    tx.actor.require(Permission.MANAGE_BILLING)
    before = await settings(tx)
    after = CustomerMail(mail=before.mail if change.mail is None else change.mail,
                         attach_file=before.attach_file if change.attach_file is None else change.attach_file)
    if after != before:
        await tx.conn.execute(update(organizations).where(organizations.c.id == tx.org_id).values(
            customer_mail=after.mail, customer_mail_attach_file=after.attach_file))
        await audit.record(tx, "organization.customer_mail", "organization", tx.org_id,
                           f"Customer mails {_described(after)}",
                           {"before": before.model_dump(), "after": after.model_dump()})
    return after


def _described(chosen: CustomerMail) -> str:
    if not chosen.mail:
        return "off"
    return "on, with the signed license file" if chosen.attach_file else "on, without the license file"


# -- the mails ----------------------------------------------------------------------------------

async def _claimed(tx: Tx, object_type: str, object_id: int, customer_id: int) -> bool:
    """Whether this customer is mailed this object now: the first claim of the pair wins."""
    result = await tx.conn.execute(insert_or_ignore(tx.conn, customer_mailings).values(
        org_id=tx.org_id, object_type=object_type, object_id=object_id, customer_id=customer_id,
        message_id="", mailed_at=tx.now))
    return bool(result.rowcount)


async def forget(tx: Tx, object_type: str, object_ids: Sequence[int]) -> None:
    """Deleted objects leave no claim behind: SQLite gives a deleted last row's id to the next
    row, and that new license's customer must be mailed its key."""
    await tx.conn.execute(delete(customer_mailings).where(
        customer_mailings.c.org_id == tx.org_id, customer_mailings.c.object_type == object_type,
        customer_mailings.c.object_id.in_(object_ids)))


async def _send(tx: Tx, object_type: str, object_id: int, customer_id: int, to: str, subject: str, text: str,
                file: IssuedFile | None) -> str:
    attachments = [MailAttachment(file.filename, LICENSE_FILE_TYPE, file.text.encode())] if file else []
    message_id = await outbox.enqueue(tx.conn, tx.org_id, to, subject, text, attachments=attachments,
                                      cause=f"{object_type} {object_id} for {to}", now=tx.now)
    await tx.conn.execute(update(customer_mailings).where(
        customer_mailings.c.org_id == tx.org_id, customer_mailings.c.object_type == object_type,
        customer_mailings.c.object_id == object_id, customer_mailings.c.customer_id == customer_id,
    ).values(message_id=message_id))
    return message_id


def _paragraph(text: str) -> str:
    """Plain-text mail reads best wrapped (mail clients show long lines as they come)."""
    return textwrap.fill(text, width=72, break_long_words=False, break_on_hyphens=False) + "\n"


def _how_to_activate(activation: str, file: IssuedFile | None, valid_until: str) -> str:
    text = _paragraph(activation)
    if file is not None:
        text += "\n" + _paragraph(
            f"For an installation that cannot reach the internet, load the attached license file "
            f"({file.filename}) into it instead: it is signed, and valid {valid_until}; ask us for a new one "
            "after that.")
    return text


def _valid_until(file_valid_until: object) -> str:
    return f"until {file_valid_until:%Y-%m-%d}" if file_valid_until else "with no end date"


async def _account(tx: Tx, customer_id: int, email: str) -> str:
    """The mail's part about the customer's own login: a new customer is invited into it (the
    team's invitations, role customer), a customer with one is told where their keys are."""
    login = await customer_login(tx, customer_id)
    if login is not None:
        return "\n" + _paragraph(
            f"Your licenses, their devices and signed files are also in your own account: log in to seattui as {login}.")
    if await waiting_invitation(tx, email, customer_id=customer_id) is not None:
        return "\n" + _paragraph(
            "Your licenses, their devices and signed files will also be in your own account: accept the invitation "
            "mailed to you before to set its password.")
    _, text = await _invitation(tx, customer_id, email, None)
    return "\nYour own account\n\n" + text


async def _invitation(tx: Tx, customer_id: int, email: str, portal_address: str | None) -> tuple[Invitation, str]:
    """A new invitation into the customer's own account (the team's mechanism, role customer)
    and the words that carry its code."""
    stored = customer_email(email)
    invitation_id, token, expires_at = await new_invitation(tx, stored, Role.CUSTOMER, customer_id)
    await audit.record(tx, "invitation.create", "invitation", invitation_id,
                       f"Invited customer {stored} into their own account",
                       {"email": stored, "role": Role.CUSTOMER.value, "customer_id": customer_id})
    where = f" --portal {portal_address}" if portal_address else ""
    text = (
        _paragraph("Your licenses, their devices and signed files are in an account of your own. To set its "
                   "login and password, run this in a terminal:")
        + f"\n    seattui login --invite {token}{where}\n\n"
        + _paragraph("or choose \"I have an invitation\" on the seattui login screen and paste this code:")
        + f"\n    {token}\n\n"
        + f"The code works once and expires on {expires_at:%Y-%m-%d %H:%M} UTC.\n"
    )
    invitation = Invitation(id=invitation_id, email=stored, role=Role.CUSTOMER, status=InvitationStatus.PENDING,
                            invited_by=tx.actor.login, created_at=tx.now, expires_at=expires_at, token=token)
    return invitation, text


async def invite_to_account(tx: Tx, customer_id: int, portal_address: str | None) -> Invitation:
    """Mail a customer a new code into their own account (the one mailed before stops working),
    whether or not the organization mails customers their keys: someone asked for this one."""
    tx.actor.require(Permission.ASSIGN)
    email = await email_of(tx, customer_id)
    login = await customer_login(tx, customer_id)
    if login is not None:
        raise Conflict(f"{email} has their own login already ({login}); they log in with it, or, if they lost "
                       "their password, send them a code for a new one.",
                       {"customer_id": customer_id, "login": login})
    await revoke_customer_invitations(tx, customer_id)
    invitation, text = await _invitation(tx, customer_id, email, portal_address)
    await outbox.enqueue(tx.conn, tx.org_id, email, f"Your own account at {tx.actor.org_name}",
                         f"Hello,\n\n{tx.actor.org_name} invites you into your own account on seattui.\n\n" + text,
                         cause=f"customer invitation for {email}", now=tx.now)
    return invitation


async def send_password_code(tx: Tx, customer_id: int, portal_address: str | None) -> Invitation:
    """Mail a customer who has their login a one-time code that sets a new password (the team's
    invitation, accepted with their login). Their password works until the new one is set: a
    code mailed to the wrong hands, or never used, locks nobody out. A code mailed before stops
    working."""
    tx.actor.require(Permission.ASSIGN)
    email = await email_of(tx, customer_id)
    user = await customer_user(tx, customer_id)
    if user is None:
        raise Conflict(f"{email} has no login yet: send them an invitation into their own account instead.",
                       {"customer_id": customer_id})
    if user.disabled_at is not None:
        raise Conflict(f"The login of {email} ({user.login}) is disabled: enable it first.",
                       {"customer_id": customer_id, "login": user.login})
    await revoke_customer_invitations(tx, customer_id)
    stored = customer_email(email)
    invitation_id, token, expires_at = await new_invitation(tx, stored, Role.CUSTOMER, customer_id)
    await audit.record(tx, "customer.password_code", "customer", customer_id,
                       f"Mailed {stored} a code for a new password of {user.login}",
                       {"email": stored, "login": user.login, "invitation_id": invitation_id})
    where = f" --portal {portal_address}" if portal_address else ""
    text = (
        "Hello,\n\n"
        + _paragraph(f"{tx.actor.org_name} sends you a code to set a new password for your login {user.login}. "
                     "To set it, run this in a terminal:")
        + f"\n    seattui login --invite {token} --login {user.login}{where}\n\n"
        + _paragraph(f"or choose \"I have an invitation\" on the seattui login screen, paste this code and give "
                     f"your login, {user.login}, with the new password:")
        + f"\n    {token}\n\n"
        + _paragraph(f"The code works once and expires on {expires_at:%Y-%m-%d %H:%M} UTC. Your password stays as "
                     "it is until you set the new one; if you did not ask for this, ignore this mail.")
    )
    await outbox.enqueue(tx.conn, tx.org_id, email, f"A new password for your account at {tx.actor.org_name}",
                         text, cause=f"customer password code for {email}", now=tx.now)
    return Invitation(id=invitation_id, email=stored, role=Role.CUSTOMER, status=InvitationStatus.PENDING,
                      invited_by=tx.actor.login, created_at=tx.now, expires_at=expires_at, token=token)


async def mail_license(tx: Tx, license: License, customer_id: int | None, signing: Signer | None) -> str | None:
    """Mail the license's customer their key, unless the organization turned customer mails
    off or this customer was mailed this license before; returns the Message-ID, or None.

    `signing` is the portal's current key, fetched by the route before the transaction; without
    one (the demo's seed) the mail goes without the file."""
    if customer_id is None or license.customer_email is None:
        return None
    chosen = await settings(tx)
    if not chosen.mail or not await _claimed(tx, "license", license.id, customer_id):
        return None
    product = tx.catalog.find(license.product_id)
    name = product.name if product else license.product_id
    edition = next((e.name for e in product.editions if e.id == license.edition_id), None) if product else None
    unit = product.unit.label(license.quantity) if product else "units"
    facts = license_facts(license, tx.catalog, tx.now)
    file = issued_file(facts, signing) if chosen.attach_file and signing is not None else None
    if license.term is Term.TRIAL:
        term = f"trial until {license.trial_ends_on:%Y-%m-%d}"
    elif license.term_ends_on is not None:
        term = f"{license.term.value}, until {license.term_ends_on:%Y-%m-%d}"
    else:
        term = license.term.value
    support = f"Support until:  {license.support_ends_on:%Y-%m-%d}\n" if license.support_ends_on else ""
    text = (
        f"Hello,\n\n{tx.actor.org_name} has licensed {name} to you.\n\n"
        f"Product:        {name}{f' {edition}' if edition else ''}\n"
        f"Activation key: {license.key}\n"
        f"License:        {term}, {license.quantity:,} {unit}\n"
        f"{support}\n"
        + _how_to_activate(
            f"To activate, enter the activation key in {name} when it asks for one: it activates online, on "
            "one device at a time. To move it to another device, deactivate it on the first one.",
            file, _valid_until(facts.valid_until))
    )
    text += await _account(tx, customer_id, license.customer_email)
    return await _send(tx, "license", license.id, customer_id, license.customer_email,
                       f"Your activation key for {name}", text, file)


async def mail_subscription(tx: Tx, subscription: Subscription, customer_id: int | None,
                            signing: Signer | None) -> str | None:
    """As mail_license, for a subscription by channels."""
    if customer_id is None or subscription.customer_email is None:
        return None
    chosen = await settings(tx)
    if not chosen.mail or not await _claimed(tx, "subscription", subscription.id, customer_id):
        return None
    product = tx.catalog.find(subscription.product_id)
    name = product.name if product else subscription.product_id
    unit = product.unit.label(subscription.channels) if product else "channels"
    facts = subscription_facts(subscription, tx.catalog, tx.now)
    file = issued_file(facts, signing) if chosen.attach_file and signing is not None else None
    text = (
        f"Hello,\n\n{tx.actor.org_name} has subscribed you to {name}.\n\n"
        f"Product:        {name}\n"
        f"Activation key: {subscription.key}\n"
        f"Subscription:   monthly, {subscription.channels:,} {unit}, paid until "
        f"{subscription.period_ends_on:%Y-%m-%d}\n\n"
        + _how_to_activate(
            f"To activate, enter the activation key in {name} when it asks for one: it allows "
            f"{subscription.channels:,} {unit} at a time, renewed month by month.",
            file, _valid_until(facts.valid_until))
    )
    text += await _account(tx, customer_id, subscription.customer_email)
    return await _send(tx, "subscription", subscription.id, customer_id, subscription.customer_email,
                       f"Your activation key for {name}", text, file)
