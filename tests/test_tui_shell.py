"""The terminal app's shell with Pilot: login, first run, trouble with the portal, a session
that ends mid-work, the dashboard's figures, and the command registry's help, palette, jump."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from seattui.client import PortalClient
from seattui.tui.app import SeattuiApp
from seattui.config import load_config, load_token
from seattui.domain.money import format_credits
from seattui.portal.seed import DEMO_LOGIN, DEMO_PASSWORD, seed_demo
from seattui.portal.store.tables import licenses
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.help import HelpScreen
from seattui.tui.screens.licenses import LicensesScreen
from seattui.tui.screens.login import LoginScreen
from seattui.tui.screens.relogin import ReloginScreen
from seattui.tui.screens.setup import SetupScreen

from harness import PASSWORD, PortalHarness, running_portal
from tui_support import HarnessConnector, log_in, make_app, screen_text, type_text, until, until_screen, until_text

SIZE = (100, 30)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


def on_dashboard(app: Any) -> bool:
    return isinstance(app.screen, DashboardScreen) and app.screen.view is not None


async def test_logging_in_shows_the_dashboard_and_keeps_the_token(harness: PortalHarness) -> None:
    app = make_app(harness)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "acme-owner", PASSWORD)
        await until(pilot, lambda: on_dashboard(app), what="the dashboard")
        assert "Acme" in screen_text(app) and "1,000.00 credits" in screen_text(app)
    assert load_token("test") is not None
    assert load_config().profile("test").login == "acme-owner"


async def test_a_saved_valid_token_skips_the_login(harness: PortalHarness) -> None:
    token = (await harness.login("acme-viewer")).token
    app = make_app(harness, token=token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(app), what="the dashboard")
        assert "acme-viewer (viewer)" in screen_text(app)


async def test_an_expired_saved_token_asks_for_the_login(harness: PortalHarness) -> None:
    token = (await harness.login("acme-viewer")).token
    harness.clock.advance(days=31)
    app = make_app(harness, token=token, login="acme-viewer")
    async with app.run_test(size=SIZE) as pilot:
        await until_screen(pilot, LoginScreen)
        assert app.screen.query_one("#login").value == "acme-viewer"
    assert load_token("test") is None


async def test_the_password_field_appears_only_after_the_login(harness: PortalHarness) -> None:
    app = make_app(harness)
    async with app.run_test(size=SIZE) as pilot:
        await until_screen(pilot, LoginScreen)
        assert not app.screen.query_one("#password").display
        await pilot.press("enter")
        await until_text(pilot, "Type your login first")
        await type_text(pilot, "acme-owner")
        await pilot.press("enter")
        assert app.screen.query_one("#password").display and app.screen.focused.id == "password"


async def test_a_wrong_password_is_said_inline_and_nothing_else_happens(harness: PortalHarness) -> None:
    app = make_app(harness)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "acme-owner", "not my password")
        await until_text(pilot, "Wrong login or password")
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#password").value == ""
    assert load_token("test") is None


async def test_a_locked_login_says_how_long_it_stays_locked(harness: PortalHarness) -> None:
    client = harness.client()
    for attempt in range(1, harness.portal.settings.login_lock_after + 1):
        with pytest.raises(Exception):
            await client.login("acme-owner", "bad guess")
        if attempt < harness.portal.settings.login_lock_after:
            harness.clock.advance(seconds=61)  # past each throttling delay
    app = make_app(harness)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "acme-owner", PASSWORD)
        await until_text(pilot, "this login is locked for 15 more minutes")


class FlakyConnector(HarnessConnector):
    """A portal that refuses connections until `up` is set."""

    def __init__(self, harness: PortalHarness) -> None:
        super().__init__(harness)
        self.up = False

    async def open(self, token: str | None) -> PortalClient:
        if self.up:
            return await super().open(token)
        return PortalClient("http://127.0.0.1:9", token=token, retries=0)


async def test_an_unreachable_portal_is_a_message_with_a_retry_key(harness: PortalHarness) -> None:
    connector = FlakyConnector(harness)
    app = make_app(connector=connector)
    async with app.run_test(size=SIZE) as pilot:
        await until_text(pilot, "Cannot reach the portal at http://127.0.0.1:9")
        assert "ctrl+r to retry" in screen_text(app)
        await pilot.press("question_mark")  # the app stays responsive meanwhile
        await until_text(pilot, "Try to reach the portal again")  # the help of ctrl+r, only in `?`
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="the help to close")
        app.client = None  # the retry opens the connector again
        connector.up = True
        await pilot.press("ctrl+r")
        await until_screen(pilot, LoginScreen)


async def test_a_portal_that_hangs_is_cut_off_and_the_app_stays_responsive(harness: PortalHarness) -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    class Hanging(HarnessConnector):
        async def open(self, token: str | None) -> PortalClient:
            return PortalClient(f"http://127.0.0.1:{port}", token=token, timeout=0.5, retries=0)

    try:
        app = make_app(connector=Hanging(harness))
        async with app.run_test(size=SIZE) as pilot:
            await until_text(pilot, "Connecting to test")
            await pilot.press("question_mark")
            await until_text(pilot, "Help · escape closes")  # drawn while the portal hangs
            await pilot.press("escape")
            await until_text(pilot, "did not answer within 0.5 s")
    finally:
        server.close()


async def test_a_portal_failing_inside_is_a_message_on_the_dashboard(
    harness: PortalHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seattui.portal.services import dashboard

    token = (await harness.login("acme-owner")).token
    app = make_app(harness, token=token)

    async def broken(tx: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(dashboard, "summary", broken)
    async with app.run_test(size=SIZE) as pilot:
        await until_text(pilot, "The portal failed inside")
        assert isinstance(app.screen, DashboardScreen) and "Traceback" not in screen_text(app)


async def test_a_session_ending_mid_work_asks_for_the_password_and_keeps_the_screen(harness: PortalHarness) -> None:
    token = (await harness.login("acme-owner")).token
    app = make_app(harness, token=token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(app))
        dashboard = app.screen
        await pilot.press("down", "down", "down")
        highlighted = dashboard.query_one("#attention").highlighted
        harness.clock.advance(days=31)
        vendor = await harness.login("vendor-admin")
        await vendor.grant_credits(harness.world.org_ids["Acme"], Decimal("5.00"))
        await pilot.press("ctrl+r")
        await until_screen(pilot, ReloginScreen)
        await type_text(pilot, PASSWORD)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is dashboard, what="the same dashboard")
        await until_text(pilot, "1,005.00 credits")
        assert dashboard.query_one("#attention").highlighted == highlighted
    assert load_token("test") != token


async def test_giving_up_the_login_modal_returns_to_the_login(harness: PortalHarness) -> None:
    token = (await harness.login("acme-owner")).token
    app = make_app(harness, token=token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(app))
        harness.clock.advance(days=31)
        await pilot.press("ctrl+r")
        await until_screen(pilot, ReloginScreen)
        await pilot.press("escape")
        await until_screen(pilot, LoginScreen)
        assert app.who is None


async def test_first_run_creates_the_organization_and_logs_its_owner_in(database_url: str) -> None:
    async with running_portal(database_url, world=False) as empty:
        app = make_app(empty)
        async with app.run_test(size=SIZE) as pilot:
            await until_screen(pilot, SetupScreen)
            await type_text(pilot, "Initech")
            await pilot.press("enter")
            await type_text(pilot, "Peter Gibbons")
            await pilot.press("enter")
            await type_text(pilot, "peter")
            await pilot.press("enter")
            await type_text(pilot, "short")
            await pilot.press("enter")
            await type_text(pilot, "short")
            await pilot.press("enter")
            await until_text(pilot, "at least 10 characters")
            for field in ("#password", "#password_again"):
                app.screen.query_one(field).value = "a long enough password"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: on_dashboard(app), what="the dashboard")
            assert "Initech" in screen_text(app) and "peter (owner)" in screen_text(app)
        assert load_token("test") is not None


async def test_the_dashboard_shows_the_portals_figures(database_url: str) -> None:
    async with running_portal(database_url, world=False) as demo:
        await seed_demo(demo.portal)
        client = await demo.login(DEMO_LOGIN, DEMO_PASSWORD)
        summary = await client.dashboard()
        today = demo.clock.now.date()
        async with demo.portal.store.read() as conn:
            ended = await conn.scalar(select(func.count()).where(licenses.c.support_ends_on < today))
            total = await conn.scalar(select(func.count()).select_from(licenses))
        assert (summary.support_ended, summary.licenses) == (ended, total)
        app = make_app(demo, token=client.token)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: on_dashboard(app))
            # Drawn at the screen's next refresh, after the figures came.
            await until(pilot, lambda: "support ended" in screen_text(app), what="the figures drawn")
            text = screen_text(app)
            assert f"{format_credits(summary.balance.balance)} credits" in text
            assert f"{ended}  support ended" in text and f"{total}  licenses" in text
            assert f"{summary.trials_ending}  trials end within 7 days" in text
            for product in summary.by_product:
                assert product.product_name in text
            assert summary.recent_ledger[0].memo[:20] in text
            digits = app.screen.query_one("#balance-digits").value
            assert digits == format_credits(summary.balance.balance)


async def test_help_palette_and_jump_come_from_one_registry(harness: PortalHarness) -> None:
    token = (await harness.login("acme-owner")).token
    app = make_app(harness, token=token)
    async with app.run_test(size=(100, 70)) as pilot:  # tall enough for the whole help
        await until(pilot, lambda: on_dashboard(app))
        await pilot.press("question_mark")
        await until_text(pilot, "This screen: Dashboard")
        help_text = screen_text(app)
        for expected in ("Refresh", "Quit", "Jump", "Log out", "Switch profile"):
            assert expected in help_text
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await until_text(pilot, "Search for commands")
        await type_text(pilot, "log out")
        await until_text(pilot, "Revoke this session")
        await pilot.press("enter")
        await until_screen(pilot, LoginScreen)
    assert load_token("test") is None


async def test_jump_goes_to_a_screen_by_name_and_says_so_when_there_is_none(harness: PortalHarness) -> None:
    token = (await harness.login("acme-owner")).token
    app = make_app(harness, token=token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(app))
        await pilot.press("colon")
        await type_text(pilot, "nowhere")
        await pilot.press("enter")
        await until_text(pilot, "No screen called 'nowhere'")
        app.screen.query_one("#jump-input").value = ":lic"  # a name's start is enough
        await pilot.press("enter")
        await until_screen(pilot, LicensesScreen)
        await pilot.press("colon")
        await type_text(pilot, "dashboard")
        await pilot.press("enter")
        await until_screen(pilot, DashboardScreen)


async def test_quit_asks_first_only_while_a_change_is_running(harness: PortalHarness) -> None:
    token = (await harness.login("acme-owner")).token
    app = make_app(harness, token=token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(app))
        gate = asyncio.Event()
        app.run_worker(gate.wait(), group="write")
        await pilot.press("q")
        await until_text(pilot, "A change is still being applied")
        await pilot.press("n")
        assert app.is_running
        gate.set()
        await pilot.pause(0.1)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, what="the app to quit")


async def test_keys_can_be_remapped_by_command_id(harness: PortalHarness) -> None:
    from seattui.config import save_config

    token = (await harness.login("acme-owner")).token
    app = make_app(harness, token=token)
    config = load_config()
    config.keymap["dashboard.refresh"] = "f5"
    save_config(config)
    app.config = config
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(app))
        # The footer is drawn a moment after the figures.
        await until_text(pilot, "f5 Refresh")


async def test_a_new_start_shows_the_last_figures_at_once_then_the_portals(harness: PortalHarness) -> None:
    token = (await harness.login("acme-owner")).token
    first = make_app(harness, token=token)
    async with first.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(first) and first.screen.fresh)
    vendor = await harness.login("vendor-admin")
    await vendor.grant_credits(harness.world.org_ids["Acme"], Decimal("25.00"))

    class Slow(HarnessConnector):
        """A portal that is slow to open, as the embedded one is on a cold start."""

        gate = asyncio.Event()

        async def open(self, token: str | None) -> PortalClient:
            await self.gate.wait()
            return await super().open(token)

    connector = Slow(harness)
    again = SeattuiApp(lambda _profile: connector, profile_name="test")
    async with again.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(again.screen, DashboardScreen), what="the dashboard at once")
        await until_text(pilot, "As of")
        assert "1,000.00 credits" in screen_text(again)  # the last session's figures
        connector.gate.set()
        await until(pilot, lambda: again.screen.fresh, what="the portal's figures")
        await until_text(pilot, "1,025.00 credits")
        assert "As of" not in screen_text(again)


# Run in a process of its own: the tests have long imported everything.
DRAW_LAST_FIGURES = """
import asyncio, sys
from seattui.tui.app import SeattuiApp

class Unanswered:
    description = "test portal"
    async def open(self, token):
        await asyncio.Event().wait()
    async def close(self):
        pass

async def main():
    app = SeattuiApp(lambda _profile: Unanswered(), profile_name="test")
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(300):
            await pilot.pause(0.05)
            text = "\\n".join(strip.text for strip in app.screen._compositor.render_strips())
            if "As of" in text:
                break
        print(sorted(name for name in ("pydantic", "httpx", "fastapi", "sqlalchemy") if name in sys.modules))
        print(text)

asyncio.run(main())
"""


async def test_the_last_figures_are_drawn_before_pydantic_or_the_portal_is_loaded(harness: PortalHarness) -> None:
    """Loading pydantic and the portal is most of a start; the last figures do not wait for it."""
    token = (await harness.login("acme-owner")).token
    first = make_app(harness, token=token)
    async with first.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(first) and first.screen.fresh)
    drawn = subprocess.run([sys.executable, "-c", DRAW_LAST_FIGURES], capture_output=True, text=True, timeout=60,
                           env=os.environ)
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    loaded, _, screen = drawn.stdout.partition("\n")
    assert loaded == "[]", f"imported before the last figures were drawn: {loaded}"
    assert "1,000.00 credits" in screen and "trials end within 7 days" in screen and "Acme" in screen


async def test_logging_out_forgets_the_last_figures(harness: PortalHarness) -> None:
    from seattui.tui import last_seen

    token = (await harness.login("acme-owner")).token
    app = make_app(harness, token=token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(app) and app.screen.fresh)
        assert last_seen.load("test", "test portal") is not None
        await app.run_action("logout")
        await until_screen(pilot, LoginScreen)
    assert last_seen.load("test", "test portal") is None


async def test_last_figures_with_a_revoked_session_ask_for_the_password(harness: PortalHarness) -> None:
    client = await harness.login("acme-owner")
    app = make_app(harness, token=client.token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: on_dashboard(app) and app.screen.fresh)
    await client.logout()  # elsewhere: the token saved in the profile no longer works
    again = SeattuiApp(lambda _profile: HarnessConnector(harness), profile_name="test")
    async with again.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(again.screen, ReloginScreen), what="the login modal")
        await pilot.press("escape")
        await until_screen(pilot, LoginScreen)
        assert "1,000.00" not in screen_text(again)
