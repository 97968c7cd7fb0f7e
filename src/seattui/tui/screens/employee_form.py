"""Add or edit an employee: name, email, department. Each field says what is wrong with it;
a refusal (an email already on file) shows here and what was typed stays."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from seattui.domain.errors import ValidationFailed
from seattui.domain.people import Employee, EmployeeFields
from seattui.domain.validation import build
from seattui.tui.changes import Area
from seattui.tui import commands
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalModal, focus_next
from seattui.tui.styles import style
from seattui.tui.widgets.problem import Problem

FIELDS = (("name", "Name", "Ada Lovelace"), ("email", "Email", "ada@example.com"),
          ("department", "Department", "Engineering"))


class EmployeeForm(PortalModal[Employee | None]):
    SCOPE = "employee_form"
    CSS_PATH = style("employee_form.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, employee: Employee | None) -> None:
        super().__init__()
        self.employee = employee
        self.request_keys = RequestKeys()  # a retry of the same fields adds the employee once

    def compose(self) -> ComposeResult:
        with Vertical(id="employee-form"):
            yield Static(f"Edit {self.employee.name}" if self.employee else "Add an employee", id="form-title")
            for name, label, placeholder in FIELDS:
                yield Label(label)
                yield Input(value=getattr(self.employee, name, ""), placeholder=placeholder, id=name)
                yield Static("", id=f"{name}-problem", classes="field-problem")
            yield Problem(id="form-problem")
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if not focus_next(self, [name for name, *_ in FIELDS], event.input.id):
            self.action_save()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value for name, *_ in FIELDS}
        for name, *_ in FIELDS:
            self.query_one(f"#{name}-problem", Static).update("")
        try:
            person = build(EmployeeFields, **values)
        except ValidationFailed as error:
            for field, message in error.fields.items():
                if field in values:
                    self.query_one(f"#{field}-problem", Static).update(message)
            return
        self.start_write("save", partial(self._save, person))

    async def _save(self, person: EmployeeFields) -> None:
        employee = self.employee
        body = (employee.id if employee else None, person)
        key = self.request_keys.key_for(*body)
        saved = await self.call_portal(
            lambda client: client.edit_employee(employee.id, person, idempotency_key=key) if employee
            else client.add_employee(person, idempotency_key=key),
            retry_key="ctrl+s")
        if saved is not None:
            self.request_keys.succeeded(*body)
            self.seattui.announce_change({Area.EMPLOYEES})
            self.dismiss(saved)
