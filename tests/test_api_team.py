"""The team through the real client: invitations (mailed through a real SMTP server), roles and
removal, the last-owner rule, API tokens and their revocation, and other organizations' team
being "not found"."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from seattui.client import PortalClient
from seattui.domain.errors import (
    Conflict,
    InvitationClosed,
    NotFound,
    PermissionDenied,
    SessionExpired,
    Unauthenticated,
    ValidationFailed,
)
from seattui.domain.roles import Role
from seattui.domain.team import InvitationStatus, MemberStatus, TokenStatus
from seattui.portal.mailer import MailDelivery
from seattui.portal.smtp import smtp_server

from harness import PortalHarness
from mail_server import MailServer

NEW_PASSWORD = "a long new password"


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


async def member_id(client: PortalClient, login: str) -> int:
    return next(member.id for member in await client.members() if member.login == login)


async def deliver(harness: PortalHarness, server: MailServer) -> None:
    await MailDelivery(harness.portal, smtp_server(server.url, timeout=5), "team@portal.example").deliver_due()


def token_in(mail: object) -> str:
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    return re.search(r"seattui login --invite (\S+)", body).group(1)  # type: ignore[union-attr]


# -- invitations -----------------------------------------------------------------------------


async def test_an_invitation_mailed_through_smtp_is_accepted_and_logs_the_new_member_in(
        harness: PortalHarness, mail_server: MailServer) -> None:
    owner = await harness.login("acme-owner")
    invitation = await owner.invite("Zoe@Acme.example", "operator")
    assert invitation.status is InvitationStatus.PENDING and invitation.role is Role.OPERATOR
    assert invitation.expires_at == harness.clock.now + timedelta(days=7)
    await deliver(harness, mail_server)
    [mail] = mail_server.inbox.received
    assert mail["To"] == "Zoe@acme.example" and "Acme" in mail["Subject"]
    token = token_in(mail)
    assert token == invitation.token  # the mailed token, shown once to the inviter too

    newcomer = harness.client()
    session = await newcomer.accept_invitation(token, "zoe", NEW_PASSWORD)
    assert (session.me.user.login, session.me.user.role, session.me.organization.name) == ("zoe", Role.OPERATOR, "Acme")
    assert (await newcomer.me()).user.login == "zoe"
    await harness.login("zoe", NEW_PASSWORD)

    zoe = next(member for member in await owner.members() if member.login == "zoe")
    assert zoe.status is MemberStatus.ACTIVE and zoe.last_login_at == harness.clock.now
    assert await owner.invitations() == []  # accepted: no longer waiting
    with pytest.raises(InvitationClosed, match="used already"):
        await harness.client().accept_invitation(token, "zoe2", NEW_PASSWORD)


async def test_an_expired_invitation_says_so_and_a_resent_one_replaces_its_token(
        harness: PortalHarness, mail_server: MailServer) -> None:
    admin = await harness.login("acme-admin")
    first = await admin.invite("yan@acme.example", "viewer")
    harness.clock.advance(days=7, seconds=1)
    [waiting] = await admin.invitations()
    assert waiting.status is InvitationStatus.EXPIRED and waiting.token is None
    with pytest.raises(InvitationClosed, match="expired on 2026-03-09"):
        await harness.client().accept_invitation(first.token or "", "yan", NEW_PASSWORD)

    again = await admin.resend_invitation(first.id)
    assert again.status is InvitationStatus.PENDING and again.token != first.token
    await deliver(harness, mail_server)
    assert [token_in(mail) for mail in mail_server.inbox.received] == [first.token, again.token]
    with pytest.raises(NotFound, match="not known"):
        await harness.client().accept_invitation(first.token or "", "yan", NEW_PASSWORD)
    session = await harness.client().accept_invitation(again.token or "", "yan", NEW_PASSWORD)
    assert session.me.user.role is Role.VIEWER


async def test_a_revoked_invitation_cannot_be_accepted(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    invitation = await owner.invite("xi@acme.example", "admin")
    revoked = await owner.revoke_invitation(invitation.id)
    assert revoked.status is InvitationStatus.REVOKED
    with pytest.raises(InvitationClosed, match="revoked"):
        await harness.client().accept_invitation(invitation.token or "", "xi", NEW_PASSWORD)
    with pytest.raises(Conflict, match="revoked already"):
        await owner.resend_invitation(invitation.id)


async def test_invitations_are_refused_plainly_for_bad_input(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed, match="not an email address"):
        await owner.invite("not-an-address", "viewer")
    await owner.invite("wu@acme.example", "viewer")
    with pytest.raises(Conflict, match="resend it"):
        await owner.invite("WU@acme.example", "operator")
    invitation = await owner.invite("vi@acme.example", "viewer")
    with pytest.raises(Conflict, match="taken"):  # a login in use: the invitation stays open
        await harness.client().accept_invitation(invitation.token or "", "acme-op", NEW_PASSWORD)
    assert await harness.client().accept_invitation(invitation.token or "", "vi", NEW_PASSWORD)


async def test_an_invitation_retried_with_its_key_is_made_once_and_its_token_not_shown_again(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    first = await owner.invite("tu@acme.example", "viewer", idempotency_key="invite-tu")
    again = await owner.invite("tu@acme.example", "viewer", idempotency_key="invite-tu")
    assert again.id == first.id and first.token and again.token is None
    assert len(await owner.invitations()) == 1


# -- roles and removal -----------------------------------------------------------------------


async def test_admins_cannot_make_touch_or_invite_owners(harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    with pytest.raises(PermissionDenied, match="Only an owner"):
        await admin.invite("boss@acme.example", "owner")
    with pytest.raises(PermissionDenied, match="Only an owner"):
        await admin.change_role(await member_id(admin, "acme-op"), "owner")
    owner_id = await member_id(admin, "acme-owner")
    with pytest.raises(PermissionDenied, match="Only an owner"):
        await admin.change_role(owner_id, "viewer")
    with pytest.raises(PermissionDenied, match="Only an owner"):
        await admin.remove_member(owner_id)
    changed = await admin.change_role(await member_id(admin, "acme-op"), "viewer")
    assert changed.role is Role.VIEWER


async def test_operators_and_viewers_are_refused_before_their_input_is_read(harness: PortalHarness) -> None:
    operator = await harness.login("acme-op")
    with pytest.raises(PermissionDenied):
        await operator.members()
    # A body that would not validate still hears "forbidden" first.
    with pytest.raises(PermissionDenied):
        await operator.request("POST", "/api/v1/invitations", body={"email": 7})
    viewer = await harness.login("acme-viewer")
    with pytest.raises(PermissionDenied):
        await viewer.request("PUT", "/api/v1/members/1/role", body={"role": "emperor"})


async def test_the_last_owner_cannot_be_demoted_or_removed(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    owner_id = await member_id(owner, "acme-owner")
    with pytest.raises(Conflict, match="last owner"):
        await owner.change_role(owner_id, "admin")
    with pytest.raises(Conflict, match="last owner"):
        await owner.remove_member(owner_id)
    await owner.change_role(await member_id(owner, "acme-admin"), "owner")
    demoted = await owner.change_role(owner_id, "admin")
    assert demoted.role is Role.ADMIN
    assert [m.login for m in await owner.members() if m.role is Role.OWNER] == ["acme-admin"]


async def test_removing_a_member_ends_their_sessions_and_tokens_on_the_next_request(harness: PortalHarness) -> None:
    operator = await harness.login("acme-op")
    created = await operator.create_api_token("op-script")
    script = harness.client(created.token)
    await script.me()
    owner = await harness.login("acme-owner")
    removed = await owner.remove_member(await member_id(owner, "acme-op"))
    assert removed.status is MemberStatus.REMOVED

    with pytest.raises(SessionExpired, match="removed"):
        await operator.me()
    with pytest.raises(SessionExpired, match="revoked"):
        await script.me()
    with pytest.raises(Unauthenticated, match="Wrong login or password"):
        await harness.login("acme-op")
    with pytest.raises(Conflict, match="removed already"):
        await owner.remove_member(removed.id)
    assert "op-script" not in [token.name for token in await owner.api_tokens()]


# -- API tokens ------------------------------------------------------------------------------


async def test_an_api_token_is_shown_once_acts_for_its_member_and_names_itself_in_the_audit(
        harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    created = await admin.create_api_token("deploy", role="operator", expires_in_days=30)
    assert created.token and created.token.startswith("stuiat_")
    assert created.role is Role.OPERATOR and created.expires_at == harness.clock.now + timedelta(days=30)
    [listed] = await admin.api_tokens()
    assert listed.name == "deploy" and listed.token is None and listed.last_used_at is None

    script = harness.client(created.token)
    me = await script.me()
    assert (me.user.login, me.user.role) == ("acme-admin", Role.OPERATOR)
    key = await script.create_key("from the pipeline")
    with pytest.raises(PermissionDenied):  # an operator token buys nothing
        await script.grant_credits(1, Decimal("1"))
    [listed] = await admin.api_tokens()
    assert listed.last_used_at == harness.clock.now

    entries = (await admin.audit()).items
    made = next(entry for entry in entries if entry.object_type == "activation_key" and entry.object_id == key.id)
    assert (made.actor, made.token) == ("acme-admin", "deploy")
    by_hand = next(entry for entry in entries if entry.action == "token.create")
    assert by_hand.token is None


async def test_a_token_role_is_at_most_its_makers_and_never_expiring_is_for_owners(harness: PortalHarness) -> None:
    operator = await harness.login("acme-op")
    with pytest.raises(PermissionDenied, match="at most your own"):
        await operator.create_api_token("too-high", role="admin")
    with pytest.raises(PermissionDenied, match="Only owners"):
        await operator.create_api_token("forever", expires_in_days=None)
    viewer = await harness.login("acme-viewer")
    read_only = await viewer.create_api_token("reports")
    assert read_only.role is Role.VIEWER
    with pytest.raises(PermissionDenied):
        await harness.client(read_only.token).create_key("nope")
    owner = await harness.login("acme-owner")
    forever = await owner.create_api_token("forever", role="viewer", expires_in_days=None)
    assert forever.expires_at is None and forever.role is Role.VIEWER
    with pytest.raises(Conflict, match="exists already"):
        await owner.create_api_token("forever")
    with pytest.raises(ValidationFailed):
        await owner.create_api_token("has spaces")


async def test_a_revoked_token_is_refused_on_its_next_request_and_an_expired_one_says_so(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    created = await owner.create_api_token("ci", expires_in_days=1)
    script = harness.client(created.token)
    await script.balance()
    await owner.revoke_api_token(created.id)
    with pytest.raises(SessionExpired, match="'ci' was revoked"):
        await script.balance()
    again = await owner.create_api_token("ci", expires_in_days=1)  # the name is free again
    harness.clock.advance(days=1)
    with pytest.raises(SessionExpired, match="'ci' expired on 2026-03-03"):
        await harness.client(again.token).balance()
    [listed] = await owner.api_tokens()
    assert listed.status is TokenStatus.EXPIRED


async def test_a_demoted_members_token_falls_to_their_new_role(harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    created = await admin.create_api_token("buyer")
    owner = await harness.login("acme-owner")
    await owner.change_role(await member_id(owner, "acme-admin"), "viewer")
    assert (await harness.client(created.token).me()).user.role is Role.VIEWER


async def test_members_see_only_their_own_tokens_and_cannot_revoke_anothers(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    owners = await owner.create_api_token("owners")
    operator = await harness.login("acme-op")
    await operator.create_api_token("mine")
    assert [token.name for token in await operator.api_tokens()] == ["mine"]
    assert [token.name for token in await owner.api_tokens()] == ["mine", "owners"]
    with pytest.raises(NotFound):
        await operator.revoke_api_token(owners.id)
    op_id = await member_id(owner, "acme-op")
    assert [token.name for token in await owner.api_tokens(member_id=op_id)] == ["mine"]


async def test_a_token_retried_with_its_key_is_made_once_and_its_secret_is_not_kept(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    first = await owner.create_api_token("retry", idempotency_key="token-retry")
    again = await owner.create_api_token("retry", idempotency_key="token-retry")
    assert again.id == first.id and first.token and again.token is None
    async with harness.portal.store.read() as conn:
        kept = " ".join(row.body for row in await conn.execute(text("SELECT body FROM idempotency_records")))
    assert first.token not in kept


# -- other organizations ---------------------------------------------------------------------


async def test_another_organizations_members_invitations_and_tokens_are_not_found(harness: PortalHarness) -> None:
    acme = await harness.login("acme-owner")
    invitation = await acme.invite("ann@acme.example", "viewer")
    token = await acme.create_api_token("acme-ci")
    op_id = await member_id(acme, "acme-op")

    globex = await harness.login("globex-owner")
    assert [member.login for member in await globex.members()] == ["globex-owner"]
    assert await globex.invitations() == [] and await globex.api_tokens() == []
    assert await globex.api_tokens(member_id=op_id) == []
    for attempt in (lambda: globex.change_role(op_id, "viewer"), lambda: globex.remove_member(op_id),
                    lambda: globex.resend_invitation(invitation.id), lambda: globex.revoke_invitation(invitation.id),
                    lambda: globex.revoke_api_token(token.id)):
        with pytest.raises(NotFound):
            await attempt()
    assert (await harness.client(token.token).me()).organization.name == "Acme"
    assert [m.login for m in await acme.members() if m.status is MemberStatus.ACTIVE] == [
        "acme-admin", "acme-op", "acme-owner", "acme-viewer"]


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.change_role(await member_id(owner, "acme-admin"), "owner")
    other = await harness.login("acme-admin")
    ids = {login: await member_id(owner, login) for login in ("acme-owner", "acme-admin")}
    outcomes = await asyncio.gather(owner.change_role(ids["acme-admin"], "admin"),
                                    other.change_role(ids["acme-owner"], "admin"), return_exceptions=True)
    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    # The second one, serialized behind the first, is either the last owner's own demotion
    # (refused) or comes from a caller who is no longer an owner (refused too).
    assert len(refused) == 1 and isinstance(refused[0], (Conflict, PermissionDenied)), outcomes
    assert len([m for m in await owner.members() if m.role is Role.OWNER]) == 1
