"""Customers' own accounts: the first key mailed to a new customer invites them into a login
of role `customer`, and that login reaches only the customer's own licenses, subscriptions,
license files and devices. Every operation of the OpenAPI document is tried with a
customer's session, so a route added later is covered without a word here."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select

from seattui.client import PortalClient
from seattui.domain.audit import AuditFilter
from seattui.domain.customers import CustomerFilter, CustomerMailChange
from seattui.domain.errors import (
    Conflict,
    InvalidCredentials,
    InvitationClosed,
    LoginDisabled,
    NotFound,
    PermissionDenied,
    SessionExpired,
    ValidationFailed,
)
from seattui.domain.license_file import parse_keyring, verify_license_file
from seattui.domain.licensing import (
    ActivationRequest,
    LicenseEdit,
    LicenseFilter,
    LicenseOrder,
    LicenseStatus,
    SubscriptionOrder,
    Term,
)
from seattui.domain.roles import Role
from seattui.portal.customer_access import CUSTOMER_OPERATIONS
from seattui.portal.observability import API_PREFIX
from seattui.portal.store.tables import outbox_mails

from harness import PortalHarness
from test_api_billing import a_key, permanent
from test_api_license_files import request_file

PASSWORD = "customer-password-1"


async def mails_to(harness: PortalHarness, address: str) -> list[str]:
    async with harness.portal.store.read() as conn:
        return list((await conn.scalars(select(outbox_mails.c.body).where(func.lower(outbox_mails.c.to_address) == address.lower())
                                        .order_by(outbox_mails.c.id))).all())


def code_in(body: str) -> str:
    found = re.search(r"seattui login --invite (\S+)", body)
    assert found, body
    return found.group(1)


async def customer_session(harness: PortalHarness, email: str, login: str, org: str = "Acme",
                           owner: str = "acme-owner") -> tuple[PortalClient, int]:
    """A license bought for `email`, the invitation in its mail accepted as `login`; the
    customer's session and the license's id."""
    seller = await harness.login(owner)
    license = await seller.create_license(permanent(await a_key(harness, org), quantity=1, customer_email=email))
    body = (await mails_to(harness, email))[-1]
    client = harness.client()
    await client.accept_invitation(code_in(body), login, PASSWORD)
    return client, license.id


# -- the account and its mails ---------------------------------------------------------------

async def test_a_new_customer_is_mailed_their_key_with_a_code_that_sets_up_their_own_login(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    key = await a_key(harness)
    await owner.create_license(permanent(key, customer_email="Ada@Example.org"))
    [body] = await mails_to(harness, "Ada@example.org")
    assert f"Activation key: {key}" in body and "Your own account" in body
    code = code_in(body)
    assert body.count(code) == 2  # on the command line, and alone to paste

    session = await harness.client().accept_invitation(code, "ada", PASSWORD)
    assert session.me.user.role is Role.CUSTOMER
    assert session.me.organization.name == "Acme"
    ada = harness.client()
    await ada.login("ada", PASSWORD)
    assert (await ada.me()).user.login == "ada"
    with pytest.raises(InvitationClosed):  # the code works once
        await harness.client().accept_invitation(code, "ada2", PASSWORD)

    # A known customer is mailed the next key alone, and told where their account is.
    second = await a_key(harness)
    await owner.create_license(permanent(second, customer_email="ada@example.org"))
    _, second_mail = await mails_to(harness, "ada@example.org")
    assert f"Activation key: {second}" in second_mail and "seattui login --invite" not in second_mail
    assert "log in to seattui as ada" in second_mail.replace("\n", " ")
    # The customer's login is none of the team's members, nor its invitation one of theirs.
    assert "ada" not in {member.login for member in await owner.members()}
    assert await owner.invitations() == []


async def test_two_keys_before_the_code_is_used_make_one_invitation(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness), customer_email="bo@example.org"))
    await owner.create_license(permanent(await a_key(harness), customer_email="bo@example.org"))
    first, second = await mails_to(harness, "bo@example.org")
    assert "seattui login --invite" in first and "seattui login --invite" not in second
    assert "accept the invitation mailed to you before" in second.replace("\n", " ")
    await harness.client().accept_invitation(code_in(first), "bo", PASSWORD)
    bo = await harness.login("bo", PASSWORD)
    assert (await bo.licenses(LicenseFilter())).total == 2


async def test_with_customer_mails_off_nobody_is_mailed_nor_invited(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.set_customer_mail(CustomerMailChange(mail=False))
    await owner.create_license(permanent(await a_key(harness), customer_email="cy@example.org"))
    assert await mails_to(harness, "cy@example.org") == []


async def test_no_member_invitation_or_api_token_has_the_customer_role(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed, match="customer"):
        await owner.invite("dee@example.org", "customer")
    with pytest.raises(ValidationFailed, match="customer"):
        await owner.create_api_token("shop", role="customer")


# -- what a customer may call ------------------------------------------------------------------

def _operations(harness: PortalHarness) -> list[tuple[str, str]]:
    spec = harness.app.openapi()
    return [(method, path.removeprefix(API_PREFIX)) for path, item in spec["paths"].items()
            for method in item if method in ("get", "put", "post", "patch", "delete")]


async def _call(client: httpx.AsyncClient, method: str, path: str, token: str | None) -> httpx.Response:
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"json": {}} if method in ("post", "put", "patch") else {}
    return await client.request(method.upper(), API_PREFIX + concrete, headers=headers, **body)


# Operations anyone may call without a session: the licensed software's, the portal's health
# and first setup, logging in and accepting an invitation, the public keys and a file's check.
PUBLIC = {("get", "/health"), ("get", "/ready"), ("get", "/setup"), ("post", "/setup"), ("post", "/auth/login"),
          ("post", "/activation/activate"), ("post", "/activation/deactivate"), ("post", "/activation/check"),
          ("get", "/license-files/keys"), ("post", "/license-files/check"), ("post", "/invitations/accept")}


async def test_every_operation_of_the_organization_refuses_a_customer(harness: PortalHarness) -> None:
    _, _ = await customer_session(harness, "ada@example.org", "ada")
    token = (await harness.client().login("ada", PASSWORD)).token
    # Logging out last: it ends the session the others are tried with.
    operations = sorted(_operations(harness), key=lambda operation: operation == ("post", "/auth/logout"))
    assert len(operations) > 80 and CUSTOMER_OPERATIONS <= set(operations)
    transport = httpx.ASGITransport(app=harness.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        public = set()
        for method, path in operations:
            if (await _call(client, method, path, None)).status_code != 401:
                public.add((method, path))
                continue
            answer = await _call(client, method, path, token)
            if (method, path) in CUSTOMER_OPERATIONS:
                assert answer.status_code not in (401, 403, 500), (method, path, answer.text)
            else:
                assert answer.status_code in (403, 404), (method, path, answer.status_code, answer.text)
                if answer.status_code == 403:
                    assert "customer's login" in answer.json()["message"]
        assert public == PUBLIC


async def test_a_customer_sees_only_their_own_licenses_files_and_devices(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    ada, ada_license = await customer_session(harness, "ada@example.org", "ada")
    bo, bo_license = await customer_session(harness, "bo@example.org", "bo")
    await owner.edit_license(ada_license, LicenseEdit(customer_email="ada@example.org", comment="owes us lunch"))
    unassigned = await owner.create_license(permanent(await a_key(harness), quantity=1))

    page = await ada.licenses(LicenseFilter())
    assert [license.id for license in page.items] == [ada_license] and page.total == 1
    mine = await ada.license(ada_license)
    # What the organization paid and noted is its own.
    assert mine.comment == "" and mine.paid == 0 and page.items[0].comment == ""
    assert (await owner.license(ada_license)).comment == "owes us lunch"
    for other in (bo_license, unassigned.id):
        with pytest.raises(NotFound):
            await ada.license(other)
        with pytest.raises(NotFound):
            await ada.license_file(other)
        with pytest.raises(NotFound):
            await ada.release_device(other)
    assert (await ada.licenses(LicenseFilter(q=(await owner.license(bo_license)).key))).total == 0

    # Their own file verifies; their own device they may release.
    keyring = parse_keyring((await harness.client().signing_keys()).text)
    facts = verify_license_file(await ada.license_file(ada_license), keyring, now=harness.clock.now)
    assert facts.key == mine.key
    await harness.client().activate(ActivationRequest(key=mine.key, product_id="remotedesk",
                                                      fingerprint="ada-laptop-fp", hostname="ada-laptop"))
    assert (await ada.license(ada_license)).status is LicenseStatus.ACTIVATED
    released = await ada.release_device(ada_license)
    assert released.device is None
    with pytest.raises(PermissionDenied):
        await ada.balance()
    with pytest.raises(PermissionDenied):
        await bo.customers()


async def test_a_customer_reads_their_subscription_and_its_file_and_nobody_elses(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    ada, _ = await customer_session(harness, "ada@example.org", "ada")
    theirs = await owner.create_subscription(SubscriptionOrder(
        key=await a_key(harness), product_id="connect", channels=2, customer_email="ada@example.org"))
    other = await owner.create_subscription(SubscriptionOrder(
        key=await a_key(harness), product_id="connect", channels=2, customer_email="eve@example.org"))
    seen = await ada.subscription(theirs.id)
    assert seen.channels == 2 and seen.paid == 0
    assert "connect" in await ada.subscription_file(theirs.id)
    with pytest.raises(NotFound):
        await ada.subscription(other.id)
    with pytest.raises(NotFound):
        await ada.subscription_file(other.id)


async def test_another_organizations_customer_finds_nothing_here(harness: PortalHarness) -> None:
    _, acme_license = await customer_session(harness, "ada@example.org", "ada")
    gus, globex_license = await customer_session(harness, "ada@example.org", "gus", org="Globex",
                                                 owner="globex-owner")
    assert [license.id for license in (await gus.licenses(LicenseFilter())).items] == [globex_license]
    for call in (gus.license, gus.license_file, gus.release_device):
        with pytest.raises(NotFound):
            await call(acme_license)


async def test_a_license_moved_to_another_customer_leaves_the_first_and_mails_the_second_once(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    ada, license_id = await customer_session(harness, "ada@example.org", "ada")
    await owner.edit_license(license_id, LicenseEdit(customer_email="bo@example.org"))
    with pytest.raises(NotFound):
        await ada.license(license_id)
    [invited] = await mails_to(harness, "bo@example.org")
    await harness.client().accept_invitation(code_in(invited), "bo", PASSWORD)
    bo = await harness.login("bo", PASSWORD)
    assert (await bo.license(license_id)).customer_email == "bo@example.org"
    # Back and forth: nobody is mailed this key a second time.
    await owner.edit_license(license_id, LicenseEdit(customer_email="ada@example.org"))
    await owner.edit_license(license_id, LicenseEdit(customer_email="bo@example.org"))
    assert len(await mails_to(harness, "ada@example.org")) == 1
    assert len(await mails_to(harness, "bo@example.org")) == 1


async def test_the_organization_invites_a_customer_again_until_they_have_their_login(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.set_customer_mail(CustomerMailChange(mail=False))  # no key mail: nothing invites them
    await owner.create_license(permanent(await a_key(harness), quantity=1, customer_email="cy@example.org"))
    [customer] = (await owner.customers()).items
    detail = await owner.customer(customer.id)
    assert (detail.login, detail.invited_until) == (None, None)

    first = await owner.invite_customer(customer.id)
    again = await owner.invite_customer(customer.id)
    assert first.role is Role.CUSTOMER and first.token != again.token
    assert code_in((await mails_to(harness, "cy@example.org"))[-1]) == again.token
    assert (await owner.customer(customer.id)).invited_until == again.expires_at
    with pytest.raises(InvitationClosed, match="revoked"):  # the code mailed before stops working
        await harness.client().accept_invitation(first.token or "", "cy", PASSWORD)
    await harness.client().accept_invitation(again.token or "", "cy", PASSWORD)
    assert (await owner.customer(customer.id)).login == "cy"
    with pytest.raises(Conflict, match="own login already"):
        await owner.invite_customer(customer.id)

    with pytest.raises(PermissionDenied):
        await (await harness.login("acme-viewer")).invite_customer(customer.id)
    with pytest.raises(NotFound):
        await (await harness.login("globex-owner")).invite_customer(customer.id)


async def test_a_customer_activates_and_releases_their_own_offline_machine_with_request_files(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    ada, ada_license = await customer_session(harness, "ada@example.org", "ada")
    _, bo_license = await customer_session(harness, "bo@example.org", "bo")
    mine = await ada.license(ada_license)
    keyring = parse_keyring((await harness.client().signing_keys()).text)

    answer = await ada.offline_activate(request_file(mine.key))
    assert answer.license_id == ada_license
    assert verify_license_file(answer.file, keyring, now=harness.clock.now).key == mine.key
    assert (await ada.license(ada_license)).status is LicenseStatus.ACTIVATED
    released = await ada.offline_deactivate(request_file(mine.key, action="deactivate"))
    assert released.license_id == ada_license and (await ada.license(ada_license)).device is None

    # Another customer's key, and a key none of whose licenses is theirs: not found.
    others = [(await owner.license(bo_license)).key,
              (await owner.create_license(permanent(await a_key(harness), quantity=1))).key]
    gus, _ = await customer_session(harness, "gus@example.org", "gus", org="Globex", owner="globex-owner")
    for who, key in ((ada, others[0]), (ada, others[1]), (gus, mine.key)):
        with pytest.raises(NotFound):
            await who.offline_activate(request_file(key))
        with pytest.raises(NotFound):
            await who.offline_deactivate(request_file(key, action="deactivate"))
    assert (await owner.license(bo_license)).device is None


# -- a customer's own subscriptions ---------------------------------------------------------------

async def test_a_customer_lists_their_own_subscriptions_and_seat_plans_and_nobody_elses(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    ada, _ = await customer_session(harness, "ada@example.org", "ada")
    theirs = await owner.create_subscription(SubscriptionOrder(
        key=await a_key(harness), product_id="connect", channels=3, customer_email="ada@example.org"))
    await owner.create_subscription(SubscriptionOrder(
        key=await a_key(harness), product_id="connect", channels=2, customer_email="eve@example.org"))
    await owner.create_subscription(SubscriptionOrder(key=await a_key(harness), product_id="connect", channels=1))
    plan = await owner.create_license(LicenseOrder(key=await a_key(harness), product_id="workspace",
                                                   term=Term.FLEXIBLE, quantity=5, customer_email="ada@example.org"))
    await owner.create_license(LicenseOrder(key=await a_key(harness), product_id="workspace", term=Term.FLEXIBLE,
                                            quantity=4))

    seen = await ada.subscriptions()
    assert [(summary.kind.value, summary.id) for summary in seen] == [("seats", plan.id), ("channels", theirs.id)]
    channels = seen[1]
    assert (channels.size, channels.status, channels.next_renewal) == (3, "active", theirs.period_ends_on)
    # What the organization pays for them is its own.
    assert all(summary.monthly_cost == 0 for summary in seen)
    assert any(summary.monthly_cost > 0 for summary in await owner.subscriptions())
    assert len(await owner.subscriptions()) == 5

    # Another organization's customer of the same email finds none of these.
    gus, _ = await customer_session(harness, "ada@example.org", "gus", org="Globex", owner="globex-owner")
    assert await gus.subscriptions() == []
    with pytest.raises(NotFound):
        await gus.subscription(theirs.id)


# -- the organization controls a customer's login ---------------------------------------------------

async def _customer_id(owner: PortalClient, email: str) -> int:
    [found] = (await owner.customers(CustomerFilter(text=email))).items
    return found.id


async def test_a_disabled_customer_is_refused_at_once_and_logs_in_again_once_enabled(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    ada, license_id = await customer_session(harness, "ada@example.org", "ada")
    customer_id = await _customer_id(owner, "ada@example.org")
    await ada.license(license_id)

    disabled = await owner.set_customer_login_enabled(customer_id, False)
    assert disabled.login == "ada" and disabled.disabled_at == harness.clock.now
    # The session of before: refused on its next request, saying why and whom to ask.
    with pytest.raises(LoginDisabled, match="Acme has disabled your login: ask Acme"):
        await ada.license(license_id)
    with pytest.raises(LoginDisabled, match="disabled"):
        await ada.subscriptions()
    # The right password is no failed try: however often they try, enabled again they are not locked.
    for _ in range(harness.portal.settings.login_lock_after + 1):
        with pytest.raises(LoginDisabled, match="disabled"):
            await harness.client().login("ada", PASSWORD)
    # Whoever does not know the password learns nothing of it.
    with pytest.raises(InvalidCredentials):
        await harness.client().login("ada", "not-the-password")
    assert (await owner.customer(customer_id)).login_disabled_at == harness.clock.now
    with pytest.raises(Conflict, match="disabled: enable it first"):
        await owner.send_customer_password_code(customer_id)
    again = await owner.set_customer_login_enabled(customer_id, False)  # already so: nothing changes
    assert again.disabled_at == disabled.disabled_at

    enabled = await owner.set_customer_login_enabled(customer_id, True)
    assert enabled.disabled_at is None and (await owner.customer(customer_id)).login_disabled_at is None
    with pytest.raises(SessionExpired):  # the sessions of before stay ended
        await ada.license(license_id)
    back = await harness.login("ada", PASSWORD)
    assert (await back.license(license_id)).id == license_id

    actions = [entry.action for entry in (await owner.audit(AuditFilter(object_type="customer"))).items]
    assert actions.count("customer.login_disable") == 1 and actions.count("customer.login_enable") == 1


async def test_only_the_organization_that_has_the_customer_controls_their_login(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    _, _ = await customer_session(harness, "ada@example.org", "ada")
    customer_id = await _customer_id(owner, "ada@example.org")
    viewer = await harness.login("acme-viewer")
    for call in (lambda client: client.set_customer_login_enabled(customer_id, False),
                 lambda client: client.send_customer_password_code(customer_id)):
        with pytest.raises(PermissionDenied):
            await call(viewer)
        with pytest.raises(NotFound):
            await call(await harness.login("globex-owner"))
    # Another customer of the same organization is no more to a customer than the organization is.
    bo, _ = await customer_session(harness, "bo@example.org", "bo")
    with pytest.raises(PermissionDenied, match="customer's login"):
        await bo.set_customer_login_enabled(customer_id, False)
    operator = await harness.login("acme-op")
    assert (await operator.set_customer_login_enabled(customer_id, False)).disabled_at is not None
    # A customer not yet with a login has nothing to disable.
    await owner.create_license(permanent(await a_key(harness), quantity=1, customer_email="cy@example.org"))
    with pytest.raises(Conflict, match="no login yet"):
        await owner.set_customer_login_enabled(await _customer_id(owner, "cy@example.org"), False)
    with pytest.raises(Conflict, match="no login yet"):
        await owner.send_customer_password_code(await _customer_id(owner, "cy@example.org"))


async def test_a_customer_who_lost_their_password_sets_a_new_one_with_a_mailed_code(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    ada, license_id = await customer_session(harness, "ada@example.org", "ada")
    customer_id = await _customer_id(owner, "ada@example.org")
    with pytest.raises(Conflict, match="own login already"):
        await owner.invite_customer(customer_id)

    first = await owner.send_customer_password_code(customer_id)
    code = await owner.send_customer_password_code(customer_id)
    assert code.token and code.token != first.token and code.role is Role.CUSTOMER
    mail = (await mails_to(harness, "ada@example.org"))[-1]
    assert f"seattui login --invite {code.token} --login ada" in mail
    assert (await owner.customer(customer_id)).invited_until == code.expires_at
    # Until the new password is set, the old one works, and the session too.
    await harness.client().login("ada", PASSWORD)
    assert (await ada.license(license_id)).id == license_id
    with pytest.raises(InvitationClosed, match="revoked"):  # the code mailed before stops working
        await harness.client().accept_invitation(first.token or "", "ada", "a-new-password-2")
    with pytest.raises(ValidationFailed, match="for the login ada"):
        await harness.client().accept_invitation(code.token, "somebody", "a-new-password-2")

    session = await harness.client().accept_invitation(code.token, "ada", "a-new-password-2")
    assert session.me.user.login == "ada" and session.me.user.role is Role.CUSTOMER
    with pytest.raises(InvalidCredentials):
        await harness.client().login("ada", PASSWORD)
    with pytest.raises(SessionExpired):
        await ada.license(license_id)
    assert (await (await harness.login("ada", "a-new-password-2")).license(license_id)).id == license_id
    with pytest.raises(InvitationClosed, match="used"):
        await harness.client().accept_invitation(code.token, "ada", "a-third-password-3")
    actions = [entry.action for entry in (await owner.audit(AuditFilter(object_type="customer"))).items]
    assert actions.count("customer.password_code") == 2 and actions.count("customer.password_set") == 1
