"""The session ran out while you worked: log in again over the screen you were on, which
keeps everything you had typed. Escape gives up and returns to the login."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from seattui.tui.problems import describe
from seattui.tui import commands
from seattui.tui.styles import style
from seattui.tui.widgets.problem import Problem


class ReloginScreen(ModalScreen[bool]):
    CSS_PATH = style("relogin.tcss")
    BINDINGS = commands.bindings("relogin")

    def __init__(self, reason: str | None = None) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        who = getattr(self.app, "who", None)
        login = who.login if who is not None else ""
        with Vertical(id="relogin"):
            ended = "Your session has ended. Log in again to carry on; what you were doing is kept."
            yield Static(f"{self.reason}\n\n{ended}" if self.reason else ended, id="relogin-title")
            # The same person carries on: another login would not fit the screen behind.
            yield Input(value=login, placeholder="login", id="relogin-login", disabled=bool(login))
            yield Input(password=True, placeholder="password", id="relogin-password")
            yield Problem(id="relogin-problem")
            yield Static("enter: log in · escape: log out", id="relogin-hint")

    def on_mount(self) -> None:
        self.query_one("#relogin-password", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "relogin-login":
            self.query_one("#relogin-password", Input).focus()
        else:
            self._log_in()

    @work(exclusive=True)
    async def _log_in(self) -> None:
        app = self.app
        login = self.query_one("#relogin-login", Input).value.strip()
        password = self.query_one("#relogin-password", Input)
        try:
            client = await app.open_client()  # type: ignore[attr-defined]
            session = await client.login(login, password.value)
        except Exception as error:
            self.query_one(Problem).say(*describe(error, retry_key="enter"))
            password.value = ""
            return
        app.after_relogin(session)  # type: ignore[attr-defined]
        self.dismiss(True)

    def action_give_up(self) -> None:
        self.dismiss(False)
