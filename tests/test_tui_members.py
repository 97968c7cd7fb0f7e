"""The members screen and the login screen's invitation with Pilot: invite and see the token
once, change a role, remove a member after confirming (and nothing when declined), make an API
token and copy it, revoke it; join with an invitation from the login screen."""

from __future__ import annotations

from typing import Any

import pytest

from seattui.domain.team import MemberStatus
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.login import LoginScreen
from seattui.tui.screens.members import MembersScreen
from seattui.tui.screens.team_forms import AcceptInvitation, SecretShown

from harness import PortalHarness
from tui_support import make_app, type_text, until, until_screen, until_text

SIZE = (100, 32)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


async def on_members(pilot: Any) -> MembersScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")
    await pilot.press("g", "m")
    screen: MembersScreen = await until_screen(pilot, MembersScreen)
    await until(pilot, lambda: screen.members_table.total is not None, what="the members")
    return screen


async def cursor_on(pilot: Any, screen: MembersScreen, login: str) -> None:
    while (member := screen.members_table.current) is None or member.login != login:
        await pilot.press("j")


async def test_an_invitation_is_made_from_the_screen_and_its_token_shown_once(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_members(pilot)
        await pilot.press("n")
        await until_text(pilot, "Invite someone")
        await type_text(pilot, "zoe@acme.example")
        await pilot.press("ctrl+s")
        shown: SecretShown = await until_screen(pilot, SecretShown)
        [invitation] = await owner.invitations()
        assert invitation.email == "zoe@acme.example" and invitation.role.value == "operator"
        assert shown.secret.startswith("stuiinv_")
        await pilot.press("c")
        assert app.clipboard == shown.secret
        await pilot.press("escape")
        await until(pilot, lambda: screen.invitations_table.total == 1, what="the invitation listed")
        assert screen.invitations_table.rows[0].token is None  # the list never holds the secret


async def test_a_role_is_changed_and_a_member_removed_only_once_confirmed(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_members(pilot)
        await cursor_on(pilot, screen, "acme-op")
        await pilot.press("u")
        await until_text(pilot, "Role of acme-op (now operator)")
        await pilot.press("down")  # from operator to viewer
        await pilot.press("space", "ctrl+s")
        await until(pilot, lambda: screen.members_table.current is not None
                    and screen.members_table.current.role.value == "viewer", what="acme-op a viewer")
        assert {m.login: m.role.value for m in await owner.members()}["acme-op"] == "viewer"

        await pilot.press("delete")
        await until_text(pilot, "Remove acme-op (viewer)?")
        await pilot.press("n")
        await until_screen(pilot, MembersScreen)
        await pilot.app.workers.wait_for_complete()  # the declined removal has ended, having sent nothing
        assert {m.login: m.status for m in await owner.members()}["acme-op"] is MemberStatus.ACTIVE

        await pilot.press("delete")
        await until_text(pilot, "Remove acme-op (viewer)?")
        await pilot.press("y")
        await until(pilot, lambda: screen.members_table.current is not None
                    and screen.members_table.current.status is MemberStatus.REMOVED, what="acme-op removed")
        assert {m.login: m.status for m in await owner.members()}["acme-op"] is MemberStatus.REMOVED


async def test_the_last_owner_is_refused_in_words_on_the_screen(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_members(pilot)
        await cursor_on(pilot, screen, "acme-owner")
        await pilot.press("delete")
        await until_text(pilot, "Remove acme-owner (owner)?")
        await pilot.press("y")
        await until_text(pilot, "acme-owner is the organization's last owner and cannot be removed")
        assert {m.login: m.status for m in await owner.members()}["acme-owner"] is MemberStatus.ACTIVE


async def test_an_api_token_is_made_copied_listed_and_revoked(harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    app = make_app(harness, token=admin.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_members(pilot)
        await cursor_on(pilot, screen, "acme-admin")
        await pilot.press("T")
        await until_text(pilot, "New API token")
        await type_text(pilot, "ci-deploy")
        await pilot.press("ctrl+s")
        shown: SecretShown = await until_screen(pilot, SecretShown)
        assert shown.secret.startswith("stuiat_")
        await pilot.press("c")
        assert app.clipboard == shown.secret
        assert (await harness.client(shown.secret).me()).user.login == "acme-admin"
        await pilot.press("escape")
        await until(pilot, lambda: [t.name for t in screen.tokens_table.rows] == ["ci-deploy"], what="the token")

        await pilot.press("tab", "tab")  # members, invitations, then the tokens
        await until(pilot, lambda: screen.focused is screen.tokens_table, what="the tokens in focus")
        await pilot.press("delete")
        await until_text(pilot, "Revoke the API token ci-deploy?")
        await pilot.press("y")
        await until(pilot, lambda: screen.tokens_table.total == 0, what="the token gone")
        assert await admin.api_tokens() == []


async def test_a_colleague_joins_from_the_login_screen_with_the_invitation(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    invitation = await owner.invite("zoe@acme.example", "operator")
    app = make_app(harness)
    async with app.run_test(size=SIZE) as pilot:
        await until_screen(pilot, LoginScreen)
        await pilot.press("f3")
        await until_screen(pilot, AcceptInvitation)
        for text in (invitation.token or "", "zoe", "a long new password", "a long new password typo"):
            await type_text(pilot, text)
            await pilot.press("enter")
        await until_text(pilot, "The two passwords differ")
        await type_text(pilot, "a long new password")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        assert app.who is not None and (app.who.login, app.who.role.value) == ("zoe", "operator")


async def test_a_used_invitation_is_said_plainly_on_the_login_screen(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    invitation = await owner.invite("yan@acme.example", "viewer")
    await harness.client().accept_invitation(invitation.token or "", "yan", "a long new password")
    app = make_app(harness)
    async with app.run_test(size=SIZE) as pilot:
        await until_screen(pilot, LoginScreen)
        await pilot.press("f3")
        await until_screen(pilot, AcceptInvitation)
        for text in (invitation.token or "", "yan2", "a long new password", "a long new password"):
            await type_text(pilot, text)
            await pilot.press("enter")
        await until_text(pilot, "This invitation was used already")
        assert isinstance(app.screen, AcceptInvitation)


async def test_the_members_screen_is_offered_to_owners_and_admins_only(harness: PortalHarness) -> None:
    from seattui.tui.screens.go import GoScreen

    for login, offered in (("acme-admin", True), ("acme-op", False)):
        client = await harness.login(login)
        app = make_app(harness, token=client.token)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None
                        and app.who is not None and app.who.login == login, what=f"the dashboard of {login}")
            await pilot.press("g")
            box = await until_screen(pilot, GoScreen)
            assert ("members" in [entry.id for entry in box.screens]) is offered, login
