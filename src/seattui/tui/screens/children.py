"""Child accounts (`g r`): a reseller's own customer organizations with their usage (licenses,
seats assigned of purchased, devices activated, members, this month's spend, which the parent
pays). `n` creates one and may invite its first member, `m` mails an invitation into the child
under the cursor, enter shows a child's usage. Licenses move into a child from the licenses
screen (`r`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from seattui.domain.children import Child, NewChild
from seattui.domain.errors import ValidationFailed
from seattui.domain.money import format_credits
from seattui.domain.paging import Page
from seattui.domain.roles import Role
from seattui.domain.team import Invitation, NewInvitation
from seattui.domain.text import printable
from seattui.domain.validation import build
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalModal, PortalScreen
from seattui.tui.screens.license_forms import FormScreen
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

COLUMNS = (
    Column("name", "Child account", min_width=16, sortable=False),
    Column("licenses", "Lic", width=5, justify="right", sortable=False),
    Column("seats", "Seats", width=9, justify="right", sortable=False),
    Column("devices", "Dev", width=5, justify="right", sortable=False),
    Column("members", "Mem", width=4, justify="right", sortable=False),
    Column("spend", "Spent (mo)", width=11, justify="right", sortable=False),
)


def child_cells(child: Child) -> Sequence[Cell]:
    usage = child.usage

    def count(value: int) -> Cell:
        return f"{value:,}" if value else Text("·", style="dim")

    seats = (f"{usage.seats_assigned:,}/{usage.seats_purchased:,}" if usage.seats_purchased or usage.seats_assigned
             else Text("·", style="dim"))
    return (
        Text(child.name, style="bold"),
        count(usage.licenses),
        seats,
        count(usage.devices_activated),
        count(usage.members),
        format_credits(usage.spend_this_month) if usage.spend_this_month else Text("·", style="dim"),
    )


def usage_renderable(child: Child) -> Table:
    usage = child.usage
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    for label, value in (
        ("Licenses", f"{usage.licenses:,}"),
        ("Seats assigned", f"{usage.seats_assigned:,} of {usage.seats_purchased:,} purchased"),
        ("Devices activated", f"{usage.devices_activated:,}"),
        ("Members", f"{usage.members:,}"),
        ("Spent this month", f"{format_credits(usage.spend_this_month)} credits, paid by you"),
        ("Created", f"{child.created_at:%Y-%m-%d}"),
    ):
        facts.add_row(label, value)
    return facts


class ChildrenScreen(PortalScreen):
    SHOWS = frozenset({Area.CHILDREN, Area.ORDERS})
    SCOPE = "children"
    CSS_PATH = style("children.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Problem(id="children-problem")
        table = PagedTable[Child](COLUMNS, row_key=lambda child: child.id, cells=child_cells, marks=False,
                                  empty_text="No child accounts yet: n creates one.", id="children-table")
        self.source = PagedSource(table, self._page)
        yield table
        yield Static("", id="children-count")
        yield KeyFooter()

    @property
    def table(self) -> PagedTable[Child]:
        return self.query_one(PagedTable)

    @property
    def current(self) -> Child | None:
        return self.table.current

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()
        self.source.reload()

    async def _page(self, cursor: str | None, limit: int) -> Page[Child] | None:
        # A reseller has a few children: the portal sends them all at once, with their usage.
        found = await self.call_portal(lambda client: client.children())
        return None if found is None else Page[Child](items=found, total=len(found))

    @on(PagedTable.PageArrived)
    def _arrived(self, message: PagedTable.PageArrived) -> None:
        if message.first:
            children = list(self.table.rows)
            spent = sum((child.usage.spend_this_month for child in children), start=0)
            count = len(children)
            self.query_one("#children-count", Static).update(
                f"{count:,} child account{'' if count == 1 else 's'}"
                + (f" · you paid {format_credits(spent)} for them this month" if spent else ""))
        self.refresh_bindings()

    def on_paged_table_highlighted(self, _message: PagedTable.Highlighted) -> None:
        self.refresh_bindings()

    def on_paged_table_selected(self, message: PagedTable.Selected) -> None:
        self.app.push_screen(ChildUsageScreen(message.row))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mail_invitation" and self.current is None:
            return False
        return super().check_action(action, parameters)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        self.source.reload(keep_place=True)

    # -- keys ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.source.reload(keep_place=True)

    def action_back(self) -> None:
        self.seattui.action_open_screen("dashboard")

    def action_new(self) -> None:
        def created(child: Child | None) -> None:
            if child is not None:
                self.notify(f"Created the child account {printable(child.name)}.")

        self.app.push_screen(ChildForm(), created)

    def action_mail_invitation(self) -> None:
        child = self.current
        if child is None:
            return

        def invited(invitation: Invitation | None) -> None:
            if invitation is not None:
                self.notify(f"Invited {printable(invitation.email)} to {printable(child.name)} as "
                            f"{invitation.role.value}.")

        self.app.push_screen(ChildInviteForm(child), invited)


class ChildUsageScreen(PortalModal[None]):
    """One child's usage, read again from the portal (ctrl+r)."""

    SCOPE = "child"
    CSS_PATH = style("children.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, child: Child) -> None:
        super().__init__()
        self.child = child

    def compose(self) -> ComposeResult:
        with Vertical(id="child-usage"):
            yield Static(Text(printable(self.child.name), style="bold"), id="child-usage-title")
            yield Static(usage_renderable(self.child), id="child-usage-facts")
            yield Problem(id="child-problem")
            yield Static("ctrl+r: read again · escape: back", id="child-usage-hint")

    def action_refresh(self) -> None:
        self.run_worker(self._refresh(), group="child", exit_on_error=False)

    async def _refresh(self) -> None:
        child_id = self.child.id
        fresh = await self.call_portal(lambda client: client.child(child_id))
        if fresh is not None:
            self.child = fresh
            self.query_one("#child-usage-facts", Static).update(usage_renderable(fresh))

    def action_close(self) -> None:
        self.dismiss(None)


ROLES = (Role.OWNER, Role.ADMIN, Role.OPERATOR, Role.VIEWER)


class ChildForm(FormScreen):
    """A new child account, and (if an email is given) an invitation for its first member."""

    TITLE_TEXT = "New child account"

    def __init__(self) -> None:
        super().__init__()
        self.request_keys = RequestKeys()
        self.made: Child | None = None  # created on an earlier try whose invitation failed

    def fields(self) -> ComposeResult:
        yield Static("Its orders are paid from your credits or put on your invoice, named after it.",
                     classes="form-about")
        yield Label("Name")
        yield Input(placeholder="Contoso Ltd", id="child-name")
        yield Label("First member's email (optional: invited as owner)")
        yield Input(placeholder="it@contoso.example", id="child-email")

    def action_submit(self) -> None:
        email = self.query_one("#child-email", Input).value.strip()
        try:
            new = build(NewChild, name=self.query_one("#child-name", Input).value)
            invitation = build(NewInvitation, email=email, role=Role.OWNER) if email else None
        except ValidationFailed as error:
            self.refused(error, {"name": "Name", "email": "Email"})
            return
        self.start_write("submit", partial(self._save, new, invitation))

    async def _save(self, new: NewChild, invitation: NewInvitation | None) -> None:
        if self.made is None or self.made.name != new.name:
            key = self.request_keys.key_for(new)
            made = await self.call_portal(lambda client: client.create_child(new.name, idempotency_key=key))
            if made is None:
                return
            self.request_keys.succeeded(new)
            self.made = made
            self.seattui.announce_change({Area.CHILDREN})
        child = self.made
        if invitation is not None:
            key = self.request_keys.key_for(child.id, invitation)
            sent = await self.call_portal(lambda client: client.invite_to_child(
                child.id, invitation.email, invitation.role.value, idempotency_key=key))
            if sent is None:
                return  # the child exists; the form stays open to try the invitation again
            self.request_keys.succeeded(child.id, invitation)
            self.seattui.announce_change({Area.CHILDREN})
        self.dismiss(child)


class ChildInviteForm(FormScreen):
    """Mail an invitation into a child account, with a role."""

    def __init__(self, child: Child) -> None:
        super().__init__()
        self.child = child
        self.TITLE_TEXT = f"Invite to {printable(child.name)}"
        self.request_keys = RequestKeys()

    def fields(self) -> ComposeResult:
        yield Label("Email")
        yield Input(placeholder="it@contoso.example", id="child-invite-email")
        yield Label("Role")
        with RadioSet(id="child-invite-role"):
            for role in ROLES:
                yield RadioButton(role.value, value=role is Role.OWNER, name=role.value)

    def _role(self) -> Role:
        pressed = self.query_one("#child-invite-role", RadioSet).pressed_button
        return Role(pressed.name) if pressed is not None and pressed.name else Role.OWNER

    def action_submit(self) -> None:
        try:
            wanted = build(NewInvitation, email=self.query_one("#child-invite-email", Input).value, role=self._role())
        except ValidationFailed as error:
            self.refused(error, {"email": "Email", "role": "Role"})
            return
        self.start_write("submit", partial(self._send, wanted))

    async def _send(self, wanted: NewInvitation) -> None:
        child_id, key = self.child.id, self.request_keys.key_for(self.child.id, wanted)
        sent: Any = await self.call_portal(lambda client: client.invite_to_child(
            child_id, wanted.email, wanted.role.value, idempotency_key=key))
        if sent is not None:
            self.request_keys.succeeded(self.child.id, wanted)
            self.seattui.announce_change({Area.CHILDREN})
            self.dismiss(sent)
