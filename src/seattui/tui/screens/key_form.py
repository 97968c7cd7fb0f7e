"""A new activation key (random, or typed with its format checked as you type), or a new name
for one. Answers with the key the portal saved, or None when cancelled."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from seattui.domain import errors
from seattui.domain.keys import EXAMPLE_KEY, InvalidActivationKey, parse_key
from seattui.domain.licensing import MAX_NAME, ActivationKey
from seattui.tui.changes import Area
from seattui.tui import commands
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalModal
from seattui.tui.screens.form import SaveCancelButtons
from seattui.tui.styles import style
from seattui.tui.widgets.problem import Problem


def key_feedback(typed: str) -> tuple[bool, str]:
    """(valid?, what to say) for a custom key as typed so far."""
    if not typed.strip():
        return False, f"Type 16 letters or digits, like {EXAMPLE_KEY}; dashes and case do not matter."
    try:
        return True, f"✓ {parse_key(typed)}"
    except InvalidActivationKey as invalid:
        return False, str(invalid)


class KeyFormScreen(SaveCancelButtons, PortalModal[ActivationKey | None]):
    SCOPE = "keyform"
    CSS_PATH = style("key_form.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, existing: ActivationKey | None = None, *, name: str = "") -> None:
        super().__init__()
        self.existing = existing
        self.initial_name = existing.name if existing else name
        self.request_keys = RequestKeys()  # a retried create makes one key, not two

    def compose(self) -> ComposeResult:
        renaming = self.existing is not None
        with Vertical(id="key-form"):
            yield Static(f"Rename {self.existing.key}" if self.existing else "New activation key", id="key-form-title")
            yield Label("Name (the customer or the machine it is for)")
            yield Input(self.initial_name, placeholder="Contoso HQ", max_length=MAX_NAME, id="key-name")
            if not renaming:
                with RadioSet(id="key-kind"):
                    yield RadioButton("Random key, drawn by the portal", value=True, id="random")
                    yield RadioButton("Custom key, typed by you", id="custom")
                yield Input(placeholder=EXAMPLE_KEY, max_length=40, id="key-text")
                yield Static("", id="key-feedback")
            yield Problem(id="key-form-problem")
            with Horizontal(id="key-form-buttons"):
                yield Button("Create (ctrl+s)" if not renaming else "Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._show_custom(False)
        self.query_one("#key-name", Input).focus()

    @property
    def custom(self) -> bool:
        return self.existing is None and self.query_one("#custom", RadioButton).value

    def _show_custom(self, shown: bool) -> None:
        if self.existing is None:
            self.query_one("#key-text").display = shown
            self.query_one("#key-feedback").display = shown

    @on(RadioSet.Changed)
    def _kind_changed(self) -> None:
        self._show_custom(self.custom)
        if self.custom:
            self._check_key(self.query_one("#key-text", Input).value)

    @on(Input.Changed, "#key-text")
    def _key_typed(self, event: Input.Changed) -> None:
        self._check_key(event.value)

    def _check_key(self, typed: str) -> bool:
        valid, feedback = key_feedback(typed)
        shown = self.query_one("#key-feedback", Static)
        shown.update(feedback)
        shown.set_class(not valid, "invalid")
        return valid

    @on(Input.Submitted, "#key-name")
    def _name_done(self) -> None:
        if self.custom:
            self.query_one("#key-text", Input).focus()
        else:
            self.action_save()

    @on(Input.Submitted, "#key-text")
    def _key_done(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        name = self.query_one("#key-name", Input).value
        key = None
        if self.custom:
            typed = self.query_one("#key-text", Input)
            if not self._check_key(typed.value):
                typed.focus()
                return
            key = typed.value
        self.start_write("save", partial(self._save, name, key))

    async def _save(self, name: str, key: str | None) -> None:
        problem = self.query_one(Problem)
        problem.say("Saving …")
        existing = self.existing
        idempotency_key = self.request_keys.key_for(name, key)
        try:
            saved = await self.call_portal(
                (lambda client: client.rename_key(existing.id, name)) if existing is not None
                else (lambda client: client.create_key(name, key, idempotency_key=idempotency_key)),
                retry_key="ctrl+s",
                raising=(errors.KeyTaken, errors.ValidationFailed),
            )
        except errors.KeyTaken as taken:
            if not self.custom:
                problem.say(taken.message)
                return
            self.query_one("#key-feedback", Static).update(taken.message)
            self.query_one("#key-feedback", Static).add_class("invalid")
            self.query_one("#key-text", Input).focus()
            return
        except errors.ValidationFailed as invalid:
            problem.say(invalid.message)
            return
        if saved is not None:
            self.seattui.announce_change({Area.KEYS})
            self.dismiss(saved)
