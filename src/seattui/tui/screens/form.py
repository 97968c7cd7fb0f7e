"""The one dialog of fields that every form of the app is: its fields, what the portal says about
them, enter to the next field, ctrl+s to go on, escape to leave."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Input, Static

from seattui.domain.errors import ValidationFailed, field_words
from seattui.tui import commands
from seattui.tui.screens.base import PortalModal
from seattui.tui.styles import style
from seattui.tui.widgets.problem import Problem

FORM = "form"


class FormScreen(PortalModal[Any]):
    """A dialog: fields, what the portal says about them, ctrl+s to go on, escape to leave."""

    CSS_PATH = style("form.tcss")
    BINDINGS = commands.bindings(FORM)
    TITLE_TEXT: ClassVar[str] = ""
    HINT: ClassVar[str] = "ctrl+s: save · escape: cancel"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):  # scrolls where a long quote does not fit the terminal
            yield Static(self.TITLE_TEXT, id="form-title")
            yield from self.fields()
            yield Problem(id="form-problem")
            yield Static(self.HINT, id="form-hint")

    def fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        boxes = self.query(Input)
        if boxes:
            boxes.first().focus()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        """enter: the next field, or on the last one, go on."""
        boxes = list(self.query(Input))
        if event.input in boxes and event.input is not boxes[-1]:
            boxes[boxes.index(event.input) + 1].focus()
        else:
            self.action_submit()

    def say(self, message: str) -> None:
        self.query_one(Problem).say(message)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        raise NotImplementedError

    def refused(self, error: ValidationFailed, names: dict[str, str]) -> None:
        """Each field's problem, named as the dialog labels the field."""
        parts = [f"{names.get(field) or field_words(field)}: {message}" for field, message in error.fields.items()]
        self.say(". ".join(part.rstrip(".") for part in parts) + "." if parts else error.message)


class SaveCancelButtons:
    """A dialog whose buttons `#save` and `#cancel` do what its ctrl+s (`action_save`) and escape
    do. (A plain mixin: Textual calls `on_button_pressed` of every class of the dialog.)"""

    action_save: Any
    dismiss: Any

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            event.stop()
            self.action_save()
        elif event.button.id == "cancel":
            event.stop()
            self.dismiss(None)
