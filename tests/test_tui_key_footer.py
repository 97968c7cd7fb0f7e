"""The footer shows the keys of the row under the cursor, and is rebuilt only when they change
(a cursor move between rows with the same keys leaves it as it is)."""

from __future__ import annotations

from typing import Any

import pytest
from seattui.tui.screens.customers import CustomersScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.widgets.key_footer import KeyFooter

from harness import PortalHarness
from license_setup import a_license
from tui_support import make_app, type_text, until, until_screen

SIZE = (120, 32)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def footer_keys(screen: Any) -> list[Any]:
    return list(screen.query_one(KeyFooter).query("FooterKey"))


def shows_edit(screen: Any) -> bool:
    return any(key.action == "edit" for key in footer_keys(screen))


async def test_the_footer_follows_the_keys_and_stays_put_when_they_do(harness: PortalHarness) -> None:
    for email in ("ada@example.org", "bob@example.org", "cy@example.org"):
        await a_license(harness, customer_email=email, quantity=1)
    app = make_app(harness, token=(await harness.login("acme-op")).token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.ready,
                    what="the dashboard taking keys")
        await pilot.press("g", "c")
        screen: CustomersScreen = await until_screen(pilot, CustomersScreen)
        await until(pilot, lambda: len(screen.table.rows) == 3 and shows_edit(screen), what="3 rows, e to edit")
        before = footer_keys(screen)
        await pilot.press("down", "down")
        await pilot.pause()
        assert screen.table.cursor_row == 2
        assert footer_keys(screen) == before  # the same keys: not rebuilt
        await pilot.press("slash")
        await type_text(pilot, "nobody")
        await until(pilot, lambda: screen.source.loaded and not screen.table.rows and not shows_edit(screen),
                    what="no rows, no e")
        await pilot.press("escape", "escape")  # back to the list, then the filter cleared
        await until(pilot, lambda: len(screen.table.rows) == 3 and shows_edit(screen), what="e again")
