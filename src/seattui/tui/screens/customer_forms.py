"""The customers screen's dialogs: add or edit a customer, one customer's licenses,
subscriptions and order lines, and writing the list to a CSV file."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Static

from seattui.domain.customers import (
    CSV_COLUMNS,
    Customer,
    CustomerDetail,
    CustomerDetails,
    CustomerFilter,
    NewCustomer,
    csv_row,
)
from seattui.domain.errors import ValidationFailed
from seattui.domain.money import format_credits
from seattui.domain.validation import build
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalModal
from seattui.tui.screens.csv_export import CsvExportScreen
from seattui.tui.screens.form import FormScreen
from seattui.tui.styles import style
from seattui.tui.widgets.problem import Problem

FIELDS = (("name", "Name", "Ada Lovelace"), ("company", "Company", "Analytical Engines Ltd"),
          ("address", "Address (one line, as on invoices)", "1 Main Street, London"),
          ("notes", "Notes", "anything your team should know"))
FIELD_NAMES = {"email": "Email", **{name: label.split(" (")[0] for name, label, _ in FIELDS}}
if TYPE_CHECKING:
    from seattui.client import PortalClient

DEFAULT_EXPORT = "customers.csv"
EXPORT_PAGE = 500  # the most the portal sends at once: fewest round trips


class CustomerForm(FormScreen):
    """Add a customer (email first), or edit one's name, company, address and notes.
    Dismissed with the customer saved, or None."""

    def __init__(self, customer: Customer | None) -> None:
        super().__init__()
        self.customer = customer
        self.TITLE_TEXT = f"Edit {customer.email}" if customer else "Add a customer"
        self.request_keys = RequestKeys()

    def fields(self) -> ComposeResult:
        if self.customer is None:
            yield Label("Email")
            yield Input(placeholder="it@customer.example", id="customer-email")
        for name, label, placeholder in FIELDS:
            yield Label(label)
            yield Input(getattr(self.customer, name, ""), placeholder=placeholder, id=f"customer-{name}")

    def action_submit(self) -> None:
        values = {name: self.query_one(f"#customer-{name}", Input).value for name, *_ in FIELDS}
        try:
            if self.customer is None:
                wanted: Any = build(NewCustomer, email=self.query_one("#customer-email", Input).value, **values)
            else:
                wanted = build(CustomerDetails, **values)
        except ValidationFailed as error:
            self.refused(error, FIELD_NAMES)
            return
        self.start_write("submit", partial(self._save, wanted))

    async def _save(self, wanted: Any) -> None:
        customer, key = self.customer, self.request_keys.key_for(wanted)
        saved = await self.call_portal(
            lambda client: client.edit_customer(customer.id, wanted, idempotency_key=key) if customer
            else client.add_customer(wanted, idempotency_key=key))
        if saved is not None:
            self.request_keys.succeeded(wanted)
            self.seattui.announce_change({Area.CUSTOMERS})
            self.dismiss(saved)


def detail_renderable(detail: CustomerDetail) -> Group:
    customer = detail.customer
    facts = Text()
    facts.append(customer.email, style="bold")
    for part in (customer.name, customer.company, customer.address):
        if part:
            facts.append(f"\n{part}")
    facts.append(f"\n{customer.licenses:,} licenses · {customer.subscriptions:,} subscriptions · spent "
                 f"{format_credits(customer.spend_this_year)} this year", style="dim")
    if customer.notes:
        facts.append(f"\nNotes: {customer.notes}", style="italic")
    if detail.login and detail.login_disabled_at:
        facts.append(f"\nTheir own login: {detail.login}, ")
        facts.append(f"disabled since {detail.login_disabled_at:%Y-%m-%d %H:%M} UTC", style="bold")
    elif detail.login:
        facts.append(f"\nTheir own login: {detail.login}")
        if detail.invited_until:
            facts.append(f" · a code for a new password waits until {detail.invited_until:%Y-%m-%d}", style="dim")
    elif detail.invited_until:
        facts.append(f"\nInvited into their own account until {detail.invited_until:%Y-%m-%d}", style="dim")
    else:
        facts.append("\nNo login of their own yet", style="dim")
    holdings = Table(title="Licenses and subscriptions", title_justify="left", expand=True, box=None,
                     show_edge=False, pad_edge=False)
    for header in ("Key", "What", "Status"):
        holdings.add_column(header, overflow="fold")
    for held in detail.holdings:
        holdings.add_row(held.key, held.what, held.status)
    if not detail.holdings:
        holdings.add_row(Text("none", style="dim"), "", "")
    lines = Table(title="Charged for them", title_justify="left", expand=True, box=None, show_edge=False,
                  pad_edge=False)
    for header, justify in (("Date", "left"), ("Invoice", "left"), ("Line", "left"), ("Amount", "right")):
        lines.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for line in detail.lines:
        lines.add_row(line.placed_at.strftime("%Y-%m-%d"), line.invoice_number or Text("draft", style="dim"),
                      line.description, format_credits(line.amount))
    if not detail.lines:
        lines.add_row(Text("nothing charged", style="dim"), "", "", "")
    return Group(facts, Text(""), holdings, Text(""), lines)


class CustomerDetailScreen(PortalModal[None]):
    """One customer: who they are, what they hold, and the order lines for it."""

    SCOPE = "customer"
    CSS_PATH = style("customers.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, customer: Customer) -> None:
        super().__init__()
        self.customer = customer
        self.detail: CustomerDetail | None = None
        self.request_keys = RequestKeys()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="customer-detail"):
            yield Static(f"{self.customer.email} · reading…", id="customer-body")
            yield Problem(id="customer-problem")
            yield Static("escape: close", id="customer-hint")

    def on_mount(self) -> None:
        self.run_worker(self._load(), group="load", exit_on_error=False)

    async def _load(self) -> None:
        customer_id = self.customer.id
        detail = await self.call_portal(lambda client: client.customer(customer_id), retry_key="ctrl+r")
        if detail is not None:
            self.detail = detail
            self.query_one("#customer-body", Static).update(detail_renderable(detail))
            self.query_one("#customer-hint", Static).update(self._hint(detail))
            self.refresh_bindings()

    def _login_actions(self, detail: CustomerDetail | None) -> set[str]:
        """What can be done with the customer's own login now: invite them before they have one;
        then a code for a new password while it is enabled, and disable or enable it."""
        if detail is None:
            return set()
        if detail.login is None:
            return {"invite"}
        return {"switch_login"} if detail.login_disabled_at else {"password_code", "switch_login"}

    def _hint(self, detail: CustomerDetail) -> str:
        words = {"invite": "n: invite to their own account", "password_code": "m: mail a code for a new password",
                 "switch_login": "L: enable their login" if detail.login_disabled_at else "L: disable their login"}
        shown = [words[action] for action in ("invite", "password_code", "switch_login")
                 if action in self._login_actions(detail)
                 and commands.allowed(commands.find(self.SCOPE, action), self.seattui.permissions)]
        return " · ".join([*shown, "escape: close"])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("invite", "password_code", "switch_login") and action not in self._login_actions(self.detail):
            return False
        return super().check_action(action, parameters)

    def action_invite(self) -> None:
        if self.detail is None:
            return
        if self.detail.login:
            self.notify(f"{self.customer.email} has their own login already: {self.detail.login}.",
                        severity="warning")
            return
        self.start_write("invite", self._invite)

    async def _invite(self) -> None:
        from seattui.tui.screens.confirm import ConfirmScreen

        email, customer_id = self.customer.email, self.customer.id
        details = ("The code sets up their own login, where they see their licenses, devices and license files and "
                   f"nothing else of {self.seattui.who.organization if self.seattui.who else 'yours'}. A code mailed "
                   "to them before stops working.")
        if not await self.app.push_screen_wait(ConfirmScreen(f"Mail {email} a code into their own account?",
                                                             details, confirm="Mail")):
            return
        key = self.request_keys.key_for("invite", customer_id)
        invitation = await self.call_portal(lambda client: client.invite_customer(customer_id, idempotency_key=key))
        if invitation is None:
            return
        self.request_keys.succeeded("invite", customer_id)
        self.notify(f"Mailed {email} a code into their own account, valid until {invitation.expires_at:%Y-%m-%d}.")
        await self._load()

    def action_password_code(self) -> None:
        if self.detail is not None and self.detail.login:
            self.start_write("password_code", partial(self._password_code, self.detail.login))

    async def _password_code(self, login: str) -> None:
        from seattui.tui.screens.confirm import ConfirmScreen

        email, customer_id = self.customer.email, self.customer.id
        details = (f"The code, with their login {login}, sets a new password. Their password works until they set "
                   "the new one; a code mailed to them before stops working.")
        if not await self.app.push_screen_wait(ConfirmScreen(f"Mail {email} a code for a new password?", details,
                                                             confirm="Mail")):
            return
        key = self.request_keys.key_for("password_code", customer_id)
        code = await self.call_portal(lambda client: client.send_customer_password_code(customer_id,
                                                                                        idempotency_key=key))
        if code is None:
            return
        self.request_keys.succeeded("password_code", customer_id)
        self.notify(f"Mailed {email} a code for a new password, valid until {code.expires_at:%Y-%m-%d}.")
        await self._load()

    def action_switch_login(self) -> None:
        if self.detail is not None and self.detail.login:
            self.start_write("switch_login", partial(self._switch_login, self.detail.login,
                                                     self.detail.login_disabled_at is not None))

    async def _switch_login(self, login: str, enable: bool) -> None:
        from seattui.tui.screens.confirm import ConfirmScreen

        email, customer_id = self.customer.email, self.customer.id
        if enable:
            title, details, confirm = (f"Enable the login {login} of {email}?",
                                       "They log in again with their password; the sessions ended when it was "
                                       "disabled stay ended.", "Enable")
        else:
            title, details, confirm = (f"Disable the login {login} of {email}?",
                                       "They can no longer log in, every session of theirs ends at once, and a "
                                       "code mailed to them stops working. Their licenses stay as they are, and "
                                       "activated devices stay activated.", "Disable")
        if not await self.app.push_screen_wait(ConfirmScreen(title, details, confirm=confirm)):
            return
        key = self.request_keys.key_for("switch_login", (customer_id, enable))
        changed = await self.call_portal(lambda client: client.set_customer_login_enabled(customer_id, enable,
                                                                                          idempotency_key=key))
        if changed is None:
            return
        self.request_keys.succeeded("switch_login", (customer_id, enable))
        self.notify(f"The login {login} of {email} is {'enabled' if enable else 'disabled'}.")
        await self._load()

    def action_refresh(self) -> None:
        self.run_worker(self._load(), group="load", exit_on_error=False)

    def action_close(self) -> None:
        self.dismiss(None)


class CustomerExportScreen(CsvExportScreen):
    """The customers the filter matches (all of them, not only the rows on screen)."""

    TITLE_TEXT = "Write the customers to a CSV file"

    def __init__(self, text: str, total: int | None) -> None:
        super().__init__(CSV_COLUMNS, ("customer", "customers"))
        self.text, self.total = text, total

    def about(self) -> str:
        count = f"{self.total:,} " if self.total is not None else ""
        return f"The {count}customers matching {self.text!r}" if self.text else f"All {count}customers"

    def default_path(self) -> str:
        return DEFAULT_EXPORT

    async def fetch(self, client: PortalClient, cursor: str | None) -> Any:
        return await client.customers(CustomerFilter(text=self.text), cursor=cursor, limit=EXPORT_PAGE)

    def rows(self, items: Sequence[Any]) -> list[list[str]]:
        return [csv_row(customer) for customer in items]
