"""The first screen: reach the profile's portal, then resume the saved session, offer the
first-run setup of an empty portal, or ask for a login. Trouble is said here, with a retry."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.timer import Timer
from textual.widgets import Static

from seattui.config import load_token, save_token
from seattui.domain import errors
from seattui.tui import commands, last_seen
from seattui.tui.problems import describe
from seattui.tui.screens.base import PortalScreen
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar


class ConnectScreen(PortalScreen):
    SCOPE = "start"
    CSS_PATH = style("connect.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Center():
            with Vertical(id="connect"):
                yield Static("", id="connect-status")
                yield Problem(id="connect-problem")
        yield KeyFooter()

    attempted = False  # the app starts the first attempt once its first frame is drawn
    _waited = 0
    _ticker: Timer | None = None

    def on_screen_resume(self) -> None:
        # Back on top after a login or setup closed without a session: start over.
        if self.attempted and self.seattui.who is None:
            self.reconnect()

    def reconnect(self) -> None:
        self.attempted = True
        app = self.seattui
        if load_token(app.profile_name) and (seen := last_seen.load(app.profile_name, app.portal_description)):
            # The last session's figures, drawn now, before the portal is even opened; the
            # dashboard checks the session with its first request.
            app.begin_session(seen.who, seen=seen)
            return
        self.query_one(Problem).clear()
        self._waited = 0
        self._show_waiting()
        # A counting status line, not a spinner: it tells a slow portal from a stuck app and
        # costs nothing while the embedded portal starts.
        self._ticker = self.set_interval(1, self._tick)
        self._connect()

    def _tick(self) -> None:
        self._waited += 1
        self._show_waiting()

    def _show_waiting(self) -> None:
        waited = f" {self._waited} s" if self._waited else ""
        self.query_one("#connect-status", Static).update(
            f"Connecting to {self.seattui.profile_name}: {self.seattui.portal_description} …{waited}"
        )

    def _stop_waiting(self, status: str = "") -> None:
        if self._ticker is not None:
            self._ticker.stop()
        self.query_one("#connect-status", Static).update(status)

    @work(exclusive=True, group="connect")
    async def _connect(self) -> None:
        app = self.seattui
        try:
            client = await app.open_client()
            if client.token:
                try:
                    me = await client.me()
                except errors.Unauthenticated:
                    save_token(app.profile_name, None)
                    client.token = None
                else:
                    from seattui.tui.views import Who

                    self._stop_waiting()
                    app.begin_session(Who.of(me))
                    return
            needs_setup = (await client.setup_status()).needs_setup
        except Exception as error:
            message, _ = describe(error)
            self._stop_waiting(f"Profile {app.profile_name}: {app.portal_description}")
            self.query_one(Problem).say(message, "Press ctrl+r to retry, or F2 to pick another profile.")
            return
        self._stop_waiting()
        if needs_setup:
            from seattui.tui.screens.setup import SetupScreen

            self.app.push_screen(SetupScreen())
        else:
            from seattui.tui.screens.login import LoginScreen

            self.app.push_screen(LoginScreen())

    def action_retry(self) -> None:
        self.reconnect()

    def action_profiles(self) -> None:
        self.seattui.action_switch_profile()
