"""`:` jump box: type a screen's name (`:keys`, `:lic`), enter goes there."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from seattui.domain.roles import Permission
from seattui.tui import commands
from seattui.tui.styles import style


class JumpScreen(ModalScreen[str | None]):
    CSS_PATH = style("jump.tcss")
    BINDINGS = commands.bindings("jump")

    def __init__(self, permissions: Iterable[Permission]) -> None:
        super().__init__()
        allowed = set(permissions)
        self.screens = [entry for entry in commands.SCREENS if entry.needs is None or entry.needs in allowed]

    def compose(self) -> ComposeResult:
        names = [f":{entry.id}" for entry in self.screens]
        with Vertical(id="jump"):
            yield Input(value=":", placeholder=":screen", suggester=SuggestFromList(names), id="jump-input")
            yield Static("  ".join(f"{name} ({entry.key})" for name, entry in zip(names, self.screens)),
                         id="jump-choices")
            yield Static("", id="jump-problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip().lstrip(":").lower()
        matches = [entry for entry in self.screens if entry.id.startswith(typed) or entry.title.lower().startswith(typed)]
        exact = [entry for entry in matches if entry.id == typed]
        if exact or len(matches) == 1:
            self.dismiss((exact or matches)[0].id)
            return
        choices = ", ".join(f":{entry.id}" for entry in (matches or self.screens))
        what = "Which one" if matches else f"No screen called {typed!r}"
        self.query_one("#jump-problem", Static).update(f"{what}? Try {choices}.")
