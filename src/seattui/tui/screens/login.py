"""Log in: the login first, then the password field appears. Errors stay inline: a wrong
password, a locked login with the time left, a portal that cannot be reached (ctrl+r)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Input, Label, Static

from seattui.domain import errors
from seattui.domain.accounts import Credentials, Session
from seattui.domain.validation import build
from seattui.tui import commands
from seattui.tui.problems import describe
from seattui.tui.screens.base import PortalScreen
from seattui.tui.styles import style
from seattui.tui.views import Who
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar


class LoginScreen(PortalScreen):
    SCOPE = "login"
    CSS_PATH = style("login.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def compose(self) -> ComposeResult:
        app = self.seattui
        yield StatusBar()
        with Center():
            with Vertical(id="login-form"):
                yield Static("Log in", id="login-title")
                yield Static(f"Profile {app.profile_name}: {app.portal_description}", id="login-profile")
                if app.profile.note:
                    yield Static(app.profile.note, id="login-note")
                yield Label("Login")
                yield Input(value=app.profile.login or "", placeholder="your login", id="login")
                yield Label("Password", id="password-label")
                yield Input(password=True, placeholder="your password", id="password")
                yield Problem(id="login-problem")
                yield Static("enter: next · F2: another profile · F3: I have an invitation", id="login-hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        login = self.query_one("#login", Input)
        # A remembered login: straight to the password (the login stays editable above it),
        # so typing the login again cannot append to it.
        self._show_password(bool(login.value))
        if login.value:
            self.query_one("#password", Input).focus()
        else:
            login.focus()

    def _show_password(self, shown: bool) -> None:
        self.query_one("#password-label").display = shown
        self.query_one("#password", Input).display = shown

    @on(Input.Submitted, "#login")
    def _login_typed(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one(Problem).say("Type your login first.")
            return
        self.query_one(Problem).clear()
        self._show_password(True)
        self.query_one("#password", Input).focus()

    @on(Input.Changed, "#login")
    def _login_changed(self, event: Input.Changed) -> None:
        if event.value == (self.seattui.profile.login or "") and self.query_one("#password", Input).display:
            return  # the pre-filled login arriving, not an edit
        self._show_password(False)
        self.query_one("#password", Input).value = ""

    @on(Input.Submitted, "#password")
    def _password_typed(self) -> None:
        self._log_in()

    def action_retry(self) -> None:
        if self.query_one("#password", Input).display:
            self._log_in()

    def action_profiles(self) -> None:
        self.seattui.action_switch_profile()

    def action_invitation(self) -> None:
        from seattui.tui.screens.team_forms import AcceptInvitation

        def joined(session: Session | None) -> None:
            if session is not None:
                self.dismiss()
                self.seattui.begin_session(Who.of(session.me), session)

        self.app.push_screen(AcceptInvitation(), joined)

    @work(exclusive=True, group="login")
    async def _log_in(self) -> None:
        problem = self.query_one(Problem)
        login = self.query_one("#login", Input).value.strip()
        password_input = self.query_one("#password", Input)
        try:
            credentials = build(Credentials, login=login, password=password_input.value)
            client = await self.seattui.open_client()
            problem.say("Logging in …")
            session = await client.login(credentials.login, credentials.password)
        except Exception as error:
            message, hint = describe(error, retry_key="ctrl+r")
            problem.say(message, hint)
            if not isinstance(error, errors.PortalUnavailable):
                password_input.value = ""  # kept for ctrl+r when only the portal was away
            password_input.focus()
            return
        problem.clear()
        self.dismiss()
        self.seattui.begin_session(Who.of(session.me), session)
