"""Yes or no, with exactly what will happen: for destructive or paid steps."""

from __future__ import annotations

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from seattui.tui import commands
from seattui.tui.styles import style


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = style("confirm.tcss")
    BINDINGS = commands.bindings("confirm")

    def __init__(self, title: str, details: RenderableType = "", *, confirm: str = "Confirm",
                 cancel: str = "Cancel") -> None:
        super().__init__()
        self.title_text, self.details, self.confirm_label, self.cancel_label = title, details, confirm, cancel

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="title")
            if self.details:
                yield Static(self.details, id="details")
            with Horizontal(id="buttons"):
                yield Button(f"{self.confirm_label} (y)", id="yes", variant="warning")
                yield Button(f"{self.cancel_label} (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
