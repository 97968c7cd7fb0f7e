"""The one key scheme: screens are reached by `g` then a letter, a letter on a screen acts only
on that screen, `?` is in every footer at 80x24; and the login screen's keys (F2, a remembered
login), and a new session that starts from nothing the last one read."""

from __future__ import annotations


import pytest

from seattui.config import Profile, save_profile
from seattui.tui import commands
from seattui.tui.screens.assign import AssignScreen
from seattui.tui.screens.customers import CustomersScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.employees import EmployeesScreen
from seattui.tui.screens.go import GoScreen
from seattui.tui.screens.keys import KeysScreen
from seattui.tui.screens.ledger import LedgerScreen
from seattui.tui.screens.licenses import LicensesScreen
from seattui.tui.screens.login import LoginScreen
from seattui.tui.screens.profiles import ProfilesScreen
from seattui.tui.screens.support import SupportScreen

from harness import PASSWORD, PortalHarness
from tui_support import log_in, make_app, screen_text, type_text, until, until_screen, until_text


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def test_no_screen_binds_a_key_the_whole_app_uses() -> None:
    """A key bound app-wide (g, :, ?, q) means the same on every screen: no screen's own command
    takes it, so pressing it never edits data where it is pressed."""
    app_keys = {key for command in commands.commands_for(commands.APP) if command.key
                for key in command.key.split(",")}
    for command in commands.COMMANDS:
        if command.scope in (commands.APP, "go") or command.key is None:
            continue
        taken = app_keys & set(command.key.split(","))
        assert not taken or command.scope in ("help", "confirm", "relogin"), (command.id, taken)


def test_a_letter_means_the_same_thing_on_every_screen_that_binds_it() -> None:
    meanings: dict[str, set[str]] = {}
    for command in commands.COMMANDS:
        if command.key and command.scope not in (commands.APP, "go", "table", "choice", "confirm"):
            for key in command.key.split(","):
                if len(key) == 1 and key.isalpha():
                    meanings.setdefault(key, set()).add(command.action)
    # Where a letter does two things, they are the same kind of thing under two names.
    alike = [{"assign", "again"}, {"upgrade", "change_channels", "change_role", "change"}, {"edit", "rename", "renewal"},
             {"new_key", "add", "invite", "new"}, {"next_status", "next_mode", "next_kind"}, {"facets", "departments"},
             # p: the review of the screen's change before it is made (the moves; the payment)
             {"preview", "pay"},
             # m: mail it (an invoice; an invitation, again; an invitation into a child account; a
             # customer's code for a new password)
             {"email", "resend", "mail_invitation", "password_code"},
             # r: give what is under the cursor to another holder (seats to employees; a license to a child)
             {"reassign", "move_to_child"}]
    for key, actions in meanings.items():
        assert len(actions) == 1 or any(actions <= group for group in alike), (key, actions)


@pytest.mark.parametrize("letter, screen_type", [
    ("k", KeysScreen), ("l", LicensesScreen), ("s", SupportScreen), ("e", EmployeesScreen),
    ("a", AssignScreen), ("d", DashboardScreen), ("o", LedgerScreen), ("c", CustomersScreen),
])
async def test_g_then_a_letter_opens_each_screen_with_help_in_its_footer_at_80x24(
        harness: PortalHarness, letter: str, screen_type: type) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None)
        if screen_type is DashboardScreen:
            app.action_open_screen("keys")
            await until_screen(pilot, KeysScreen)
        await pilot.press("g", letter)  # one burst, as a person types it
        await until_screen(pilot, screen_type)
        # The wizard opens on a text field, where ? is typed: its help is f1 there.
        offered = "f1 Help" if screen_type is AssignScreen else "? Help"
        await until(pilot, lambda: offered in screen_text(app).splitlines()[-1], what=f"{offered} in the footer")


async def test_any_other_key_closes_the_go_box_and_does_nothing_else(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None)
        await pilot.press("g")
        await until_screen(pilot, GoScreen)
        await until_text(pilot, "Go to: d dashboard k keys a assign l licenses s support e employees")
        await pilot.press("x", "question_mark")  # x closes the box; ? then shows the help
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="the help")
        assert [type(screen).__name__ for screen in app.screen_stack] == ["DashboardScreen", "HelpScreen"]


async def test_f2_on_the_login_screen_opens_the_profiles(harness: PortalHarness) -> None:
    app = make_app(harness)
    async with app.run_test(size=(100, 30)) as pilot:
        await until_screen(pilot, LoginScreen)
        await pilot.press("f2")
        await until_screen(pilot, ProfilesScreen)


async def test_the_login_footer_offers_help_and_a_question_mark_stays_in_the_password(
        harness: PortalHarness) -> None:
    app = make_app(harness, login="acme-owner")
    async with app.run_test(size=(80, 24)) as pilot:
        login = await until_screen(pilot, LoginScreen)
        await until(pilot, lambda: login.focused is login.query_one("#password"), what="the password focused")
        await until(pilot, lambda: screen_text(app).splitlines()[-1].lstrip().startswith("f1 Help"),
                    what="help first in the footer")
        await type_text(pilot, "why?")
        assert login.query_one("#password").value == "why?"
        await pilot.press("f1")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="the help")


async def test_a_remembered_login_is_not_typed_onto(harness: PortalHarness) -> None:
    app = make_app(harness, login="acme-owner")
    async with app.run_test(size=(100, 30)) as pilot:
        login = await until_screen(pilot, LoginScreen)
        await until(pilot, lambda: login.query_one("#password").display, what="the password field")
        await type_text(pilot, PASSWORD)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None,
                    what="the dashboard")


async def test_a_new_session_asks_for_the_catalog_again(harness: PortalHarness) -> None:
    """Log out, switch to another profile, log in: the wizard lists the products."""
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None)
        app.action_open_screen("assign")
        first = await until_screen(pilot, AssignScreen)
        await until(pilot, lambda: first.catalog is not None, what="the catalog")
        app.action_logout()
        await until_screen(pilot, LoginScreen)
        # As from the login screen: ctrl+p, "Switch profile", another profile.
        save_profile("other", Profile(portal="embedded"))
        await app.use_profile("other", Profile(portal="embedded"))
        await log_in(pilot, "acme-admin", PASSWORD)
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None,
                    what="the dashboard")
        app.action_open_screen("assign")
        wizard = await until_screen(pilot, AssignScreen)
        assert wizard is not first
        await until(pilot, lambda: wizard.catalog is not None and wizard.catalog.products, what="the products")


async def test_escape_on_employees_leaves_the_filter_then_clears_it_then_goes_to_the_dashboard(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None)
        await pilot.press("g", "e")
        screen = await until_screen(pilot, EmployeesScreen)
        await pilot.press("slash", *"nobody")
        await until(pilot, lambda: screen.employees.chosen.text == "nobody", what="the filter")
        await pilot.press("escape")  # out of the filter box
        await until(pilot, lambda: screen.focused is screen.employees.table, what="the list focused")
        await pilot.press("escape")  # the filter cleared
        await until(pilot, lambda: screen.employees.chosen.text == "", what="the filter cleared")
        assert isinstance(app.screen, EmployeesScreen)
        await pilot.press("escape")
        await until_screen(pilot, DashboardScreen)
