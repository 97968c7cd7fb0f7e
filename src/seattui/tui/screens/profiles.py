"""Choose a profile (a portal and a login), or add one: the embedded portal on a database
file, or a shared portal's URL."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from seattui.config import EMBEDDED, ConfigError, Profile, load_config, save_profile
from seattui.tui import commands
from seattui.tui.styles import style

ADD = "__add__"


class ProfilesScreen(ModalScreen[tuple[str, Profile] | None]):
    CSS_PATH = style("profiles.tcss")
    BINDINGS = commands.bindings("profiles")

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current
        try:
            self.profiles = load_config().profiles
            self.problem_text = ""
        except ConfigError as error:
            self.profiles, self.problem_text = {}, str(error)

    def compose(self) -> ComposeResult:
        options = [
            Option(f"{name}  ·  {'embedded' if p.is_embedded else p.portal}"
                   f"{f'  ·  {p.login}' if p.login else ''}{'  (current)' if name == self.current else ''}", id=name)
            for name, p in sorted(self.profiles.items())
        ]
        options.append(Option("Add a profile …", id=ADD))
        with Vertical(id="profiles"):
            yield Static("Profiles: enter picks one", id="profiles-title")
            yield OptionList(*options, id="profiles-list")
            with Vertical(id="profile-form"):
                yield Label("Name")
                yield Input(placeholder="work", id="profile-name")
                yield Label("Portal: 'embedded' or a URL like http://portal.internal:8765")
                yield Input(value=EMBEDDED, id="profile-portal")
                yield Label("Embedded only: database file (empty: the default)")
                yield Input(placeholder="~/licenses.db", id="profile-database")
                with Horizontal():
                    yield Button("Save and use", id="profile-save", variant="primary")
            yield Static(self.problem_text, id="profiles-problem")

    def on_mount(self) -> None:
        self.query_one("#profile-form").display = False
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == ADD:
            self.query_one("#profile-form").display = True
            self.query_one("#profile-name", Input).focus()
            return
        name = str(event.option.id)
        self.dismiss((name, self.profiles[name]))

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        order = ["profile-name", "profile-portal", "profile-database"]
        index = order.index(event.input.id or order[0])
        if index + 1 < len(order):
            self.query_one(f"#{order[index + 1]}", Input).focus()
        else:
            self._save()

    @on(Button.Pressed, "#profile-save")
    def _save(self) -> None:
        name = self.query_one("#profile-name", Input).value.strip()
        portal = self.query_one("#profile-portal", Input).value.strip() or EMBEDDED
        database = self.query_one("#profile-database", Input).value.strip() or None
        problem = self.query_one("#profiles-problem", Static)
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            problem.update("Name the profile with letters, digits, - or _.")
            return
        if portal != EMBEDDED and not portal.startswith(("http://", "https://")):
            problem.update("The portal is 'embedded' or a URL starting with http:// or https://.")
            return
        profile = Profile(portal=portal, database=database if portal == EMBEDDED else None)
        try:
            save_profile(name, profile)
        except (ConfigError, OSError) as error:
            problem.update(f"Could not save the profile: {error}")
            return
        self.dismiss((name, profile))
