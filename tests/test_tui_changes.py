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
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.licenses import LicensesScreen

from harness import PortalHarness
from tui_support import make_app, until, until_screen, until_text

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
        for text in ("10", "", ""):
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
