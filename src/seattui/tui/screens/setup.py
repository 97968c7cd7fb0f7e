"""First run: an empty portal has nobody to log in as, so create the organization and its
owner here. Each field says what is wrong with it."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from seattui.domain import errors
from seattui.domain.accounts import NewOrganization
from seattui.domain.validation import build
from seattui.tui import commands
from seattui.tui.problems import describe
from seattui.tui.screens.base import PortalScreen, focus_next
from seattui.tui.styles import style
from seattui.tui.views import Who
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

FIELDS = (
    ("organization_name", "Organization", "Northwind IT Services", False),
    ("owner_name", "Your name", "Alice Example", False),
    ("owner_login", "Your login", "alice", False),
    ("password", "Password (10 characters or more)", "", True),
    ("password_again", "Password again", "", True),
)


class SetupScreen(PortalScreen):
    SCOPE = "setup"
    CSS_PATH = style("setup.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Center():
            with VerticalScroll(id="setup-form"):
                yield Static("Welcome. This portal is empty: create your organization and its owner.",
                             id="setup-title")
                for name, label, placeholder, secret in FIELDS:
                    yield Label(label)
                    yield Input(placeholder=placeholder, password=secret, id=name)
                    yield Static("", id=f"{name}-problem", classes="field-problem")
                yield Problem(id="setup-problem")
                yield Button("Create (ctrl+s)", id="create", variant="primary")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#organization_name", Input).focus()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if not focus_next(self, [name for name, *_ in FIELDS], event.input.id):
            self.action_create()

    @on(Button.Pressed, "#create")
    def _pressed(self) -> None:
        self.action_create()

    def _field(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value

    def _say_fields(self, fields: dict[str, str]) -> None:
        for name, *_ in FIELDS:
            self.query_one(f"#{name}-problem", Static).update(fields.get(name, ""))

    def action_create(self) -> None:
        if self._field("password") != self._field("password_again"):
            self._say_fields({"password_again": "The two passwords differ."})
            return
        try:
            new = build(
                NewOrganization,
                organization_name=self._field("organization_name"),
                owner_name=self._field("owner_name"),
                owner_login=self._field("owner_login").strip(),
                password=self._field("password"),
            )
        except errors.ValidationFailed as invalid:
            self._say_fields(invalid.fields)
            return
        self._say_fields({})
        self._create(new)

    @work(exclusive=True, group="write")
    async def _create(self, new: NewOrganization) -> None:
        problem = self.query_one(Problem)
        problem.say("Creating …")
        try:
            client = await self.seattui.open_client()
            session = await client.setup(new)
        except errors.ValidationFailed as invalid:
            self._say_fields(invalid.fields)
            problem.say(invalid.message)
            return
        except Exception as error:
            problem.say(*describe(error, retry_key="ctrl+s"))
            return
        self.dismiss()
        self.seattui.begin_session(Who.of(session.me), session)
