"""`g`, then a letter: go to another screen. The box lists the letters, so nobody has to learn
them first; any other key closes it and does nothing else."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from seattui.domain.roles import Permission
from seattui.tui import commands
from seattui.tui.styles import style

SCOPE = "go"


class GoScreen(ModalScreen[str | None]):
    CSS_PATH = style("go.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, permissions: Iterable[Permission]) -> None:
        super().__init__()
        allowed = set(permissions)
        self.screens = [entry for entry in commands.SCREENS if entry.needs is None or entry.needs in allowed]

    def compose(self) -> ComposeResult:
        with Vertical(id="go"):
            yield Static("", id="go-choices")

    def on_mount(self) -> None:
        # The letters as bound now (a keymap may have changed them), in the registry's order.
        letters = self.letters()
        line = Text("Go to:", style="bold")
        for entry in self.screens:
            key = next((key for key, screen_id in letters.items() if screen_id == entry.id), None)
            if key is not None:
                line.append(f"  {key}", style="bold")
                line.append(f" {entry.id}")
        self.query_one("#go-choices", Static).update(line)

    def letters(self) -> dict[str, str]:
        """key -> screen id, for the go-to commands bound on this box."""
        found: dict[str, str] = {}
        for key, active in self.active_bindings.items():
            command = commands.by_id(active.binding.id or "")
            if active.node is self and command is not None and command.action == "pick":
                found[key] = str(command.args[0])
        return found

    def action_pick(self, screen_id: str) -> None:
        self.dismiss(screen_id if any(entry.id == screen_id for entry in self.screens) else None)

    def on_key(self, event: events.Key) -> None:
        # A key that names no screen closes the box rather than waiting for another.

        if event.key not in self.letters() and event.key != "escape":
            event.stop()
            event.prevent_default()
            self.dismiss(None)
