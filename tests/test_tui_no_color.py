"""With `NO_COLOR` set (Textual then draws every line through its monochrome filter) each list
screen draws its rows, and `seattui` exits non-zero when the app ends on an error.

The rest of the app's tests run under `NO_COLOR` too when `SEATTUI_TEST_NO_COLOR=1` (conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from seattui import cli
from seattui.tui.app import SeattuiApp
from seattui.tui.screens.dashboard import DashboardScreen

from harness import PortalHarness
from license_setup import a_license
from seat_support import staff
from tui_support import make_app, screen_text, until, until_text

SIZE = (100, 30)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read (and removed) by the app as it is built


async def test_every_list_screen_draws_its_rows_without_colour(harness: PortalHarness, no_color: None) -> None:
    license = await a_license(harness, quantity=2, customer_email="it@contoso.example")
    await staff(harness, 3, 1)
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        assert app.no_color
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None,
                    what="the dashboard")
        for screen_id, row_text in (("keys", license.key), ("licenses", license.key), ("support", license.key),
                                    ("employees", "Ada Abara 000000")):
            app.action_open_screen(screen_id)
            await until_text(pilot, row_text)
            await pilot.press("down", "up")  # the cursor row and the rows below it drawn again
            await pilot.pause()
            assert row_text in screen_text(app), screen_id


def test_the_command_fails_when_the_app_ends_on_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def crashed(self: SeattuiApp, **_options: Any) -> None:
        self._return_code = 1  # what Textual sets when an exception ends the app

    monkeypatch.setattr(SeattuiApp, "run", crashed)
    assert cli.run_terminal_app(None) == cli.EXIT_REFUSED

    monkeypatch.setattr(SeattuiApp, "run", lambda self, **_options: None)
    assert cli.run_terminal_app(None) == cli.EXIT_OK
