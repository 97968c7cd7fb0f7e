"""After a change succeeds, every open screen that shows what it touched reads it again: the
dashboard and the licenses list opened before a purchase show it when you come back to them,
with no `r`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from textual import events
from textual.widgets import Digits

from seattui.tui.screens.assign import AssignScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.employees import EmployeesScreen
from seattui.tui.screens.key_detail import KeyDetailScreen
from seattui.tui.screens.keys import KeysScreen
from seattui.tui.screens.licenses import LicensesScreen

from harness import PortalHarness
from license_setup import a_license
from seat_support import staff
from tui_support import make_app, screen_text, until, until_screen, until_text

SIZE = (120, 40)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def paste(pilot: Any, text: str) -> None:
    pilot.app.screen.focused.post_message(events.Paste(text))
    await pilot.pause()


async def choose(pilot: Any, wizard: AssignScreen, list_id: str, option_id: str) -> None:
    choices = wizard.query_one(f"#{list_id}")
    while choices.highlighted_option.id != option_id:
        await pilot.press("j")
    await pilot.press("enter")


def balance_on(dashboard: DashboardScreen) -> str:
    return str(dashboard.query_one("#balance-digits", Digits).value)


async def test_a_purchase_refreshes_the_dashboard_and_the_licenses_list_opened_before_it(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.create_key("Fabrikam Lab")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None,
                    what="the dashboard")
        dashboard = app.screen
        assert balance_on(dashboard) == "1,000.00"
        app.action_open_screen("licenses")
        licenses = await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: licenses.table.total is not None, what="the licenses")
        before = licenses.table.total

        app.action_open_screen("assign")
        wizard: AssignScreen = await until_screen(pilot, AssignScreen)
        await until(pilot, lambda: wizard.catalog is not None, what="the catalog")
        await paste(pilot, "Fabrikam Lab")
        await until(pilot, lambda: (row := wizard.query_one("#assign-keys-table").current) is not None
                    and row.name == "Fabrikam Lab", what="the key")
        await pilot.press("enter")
        await until_text(pilot, "Which product?")
        await choose(pilot, wizard, "product-choices", "mailguard")
        await choose(pilot, wizard, "edition-choices", "advanced")
        await pilot.press("enter")  # no add-ons
        await choose(pilot, wizard, "term-choices", "permanent")
        await until_text(pilot, "Mailboxes")
        for text in ("10", "", "", "", ""):  # mailboxes; no email, comment, reference name, PO number
            if text:
                await paste(pilot, text)
            await pilot.press("enter")
        await until(pilot, lambda: wizard.quote is not None, what="the quote")
        cost = wizard.quote.cost
        await pilot.press("y")
        await until_text(pilot, "is on the key")
        after = Decimal("1000.00") - cost

        app.action_open_screen("dashboard")
        await until(pilot, lambda: balance_on(dashboard) == f"{after:,.2f}", what="the new balance on the dashboard")
        await until_text(pilot, "MailGuard")  # the purchase among the ledger's latest entries

        app.action_open_screen("licenses")
        await until(pilot, lambda: licenses.table.total == before + 1, what="the new license in the list")


async def on_dashboard(pilot: Any) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")


async def test_after_a_delete_the_list_is_read_again_with_the_cursor_on_its_row(harness: PortalHarness) -> None:
    licenses = [await a_license(harness, quantity=1) for _ in range(4)]
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        app.action_open_screen("licenses")
        screen: LicensesScreen = await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: screen.loaded and len(screen.table.rows) == 4, what="the licenses")
        rows = [row.key for row in screen.table.rows]
        await pilot.press("space", "down", "space")  # marks the first and the third; the cursor on the fourth
        assert screen.table.current.key == rows[3]
        other = await a_license(harness, quantity=1)  # someone else's, meanwhile
        shown = screen.source.shown
        await pilot.press("delete")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: screen.source.shown > shown and screen.loaded, what="the list read again")
        assert sorted(row.key for row in screen.table.rows) == sorted([rows[1], rows[3], other.key])
        assert screen.table.current.key == rows[3] and not screen.table.marked
        assert {license.key for license in licenses} >= {rows[0], rows[2]}


async def test_departing_an_employee_keeps_the_cursor_and_shows_the_new_status(harness: PortalHarness) -> None:
    await staff(harness, 6, 0)
    operator = await harness.login("acme-op")
    app = make_app(harness, token=operator.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        app.action_open_screen("employees")
        screen: EmployeesScreen = await until_screen(pilot, EmployeesScreen)
        table = screen.employees.table
        await until(pilot, lambda: len(table.rows) == 6, what="the employees")
        await pilot.press("down", "down", "down")
        leaving = table.current
        await pilot.press("d")  # departed
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: table.current is not None and table.current.status.value == "departed",
                    what="the row read again")
        assert table.current.id == leaving.id and table.cursor_row == 3


async def test_a_keys_detail_and_the_keys_list_show_a_change_made_on_the_licenses_screen(
        harness: PortalHarness) -> None:
    first = await a_license(harness, quantity=1)
    await a_license(harness, key=first.key, product_id="sitewatch", quantity=1)
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        app.action_open_screen("keys")
        keys: KeysScreen = await until_screen(pilot, KeysScreen)
        await until(pilot, lambda: keys.current is not None, what="the key")
        await pilot.press("enter")
        detail: KeyDetailScreen = await until_screen(pilot, KeyDetailScreen)
        await until_text(pilot, "Licenses (2)")

        app.action_open_screen("licenses")
        screen: LicensesScreen = await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: screen.loaded and len(screen.table.rows) == 2, what="the licenses")
        await pilot.press("delete")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: len(screen.table.rows) == 1, what="the license deleted")

        app.action_open_screen("keys")
        await until(pilot, lambda: app.screen is detail, what="the key's detail")
        await until_text(pilot, "Licenses (1)")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is keys and keys.current is not None
                    and keys.current.license_count == 1, what="the keys list read again")
        assert "Licenses (1)" not in screen_text(app)
