"""The dialogs of the team: invite someone, give a member another role, make an API token, show
a secret once (with copy), and accept an invitation from the login screen."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from seattui.domain import errors
from seattui.domain.accounts import Session
from seattui.domain.roles import Role
from seattui.domain.team import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, ApiToken, Invitation, Member, outranks
from seattui.domain.text import printable
from seattui.domain.validation import whole_number
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.formatting import copy_key
from seattui.tui.idempotency import RequestKeys
from seattui.tui.problems import describe
from seattui.tui.screens.base import PortalModal, focus_next
from seattui.tui.screens.form import SaveCancelButtons
from seattui.tui.styles import style
from seattui.tui.widgets.problem import Problem

ROLE_WORDS = {
    Role.OWNER: "owner: everything, members and owners too",
    Role.ADMIN: "admin: purchases and members, never owners",
    Role.OPERATOR: "operator: keys, assignments, seats; no purchases",
    Role.VIEWER: "viewer: reads only",
}


def roles_up_to(role: Role, *, owners: bool) -> list[Role]:
    """The roles someone of `role` may give, highest first; owners only by an owner."""
    return [r for r in ROLE_WORDS if not outranks(r, role) and (owners or r is not Role.OWNER)]


def _role_choices(allowed: list[Role], chosen: Role) -> RadioSet:
    return RadioSet(*(RadioButton(ROLE_WORDS[role], value=role is chosen, id=f"role-{role.value}")
                      for role in allowed), id="team-role")


def _highlight_chosen(radios: RadioSet) -> None:
    """Arrows start from the chosen role, not the first one. (RadioSet keeps its highlight in
    a private variable; textual is pinned below 9 in pyproject.toml.)"""
    if radios.pressed_index >= 0:
        radios._selected = radios.pressed_index


def _chosen_role(screen: Any) -> Role | None:
    pressed = screen.query_one("#team-role", RadioSet).pressed_button
    return Role(pressed.id.removeprefix("role-")) if pressed is not None and pressed.id else None


class _TeamForm(SaveCancelButtons, PortalModal[Any]):
    SCOPE = "team_form"
    CSS_PATH = style("team_forms.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def buttons(self, save: str) -> ComposeResult:
        yield Problem(id="team-form-problem")
        with Horizontal(id="team-form-buttons"):
            yield Button(f"{save} (ctrl+s)", id="save", variant="primary")
            yield Button("Cancel (esc)", id="cancel")

    def action_save(self) -> None:
        raise NotImplementedError


class InviteForm(_TeamForm):
    """An email and a role; answers with the invitation made (its token once), or None."""

    def __init__(self, my_role: Role) -> None:
        super().__init__()
        self.allowed = roles_up_to(my_role, owners=my_role is Role.OWNER)
        self.request_keys = RequestKeys()  # a retried invitation is mailed once

    def compose(self) -> ComposeResult:
        with Vertical(id="team-form"):
            yield Static("Invite someone", id="team-form-title")
            yield Label("Email address (mailed; the invitation works once, for 7 days)")
            yield Input(placeholder="ann@example.com", max_length=320, id="invite-email")
            yield Label("Role")
            yield _role_choices(self.allowed, Role.OPERATOR if Role.OPERATOR in self.allowed else self.allowed[-1])
            yield from self.buttons("Invite")

    def on_mount(self) -> None:
        _highlight_chosen(self.query_one("#team-role", RadioSet))
        self.query_one("#invite-email", Input).focus()

    @on(Input.Submitted, "#invite-email")
    def _email_done(self) -> None:
        self.query_one("#team-role", RadioSet).focus()

    def action_save(self) -> None:
        email = self.query_one("#invite-email", Input).value.strip()
        role = _chosen_role(self)
        if not email:
            self.query_one(Problem).say("Type the email address to send the invitation to.")
            self.query_one("#invite-email", Input).focus()
            return
        if role is None:
            self.query_one(Problem).say("Choose the role the new member gets.")
            return
        self.start_write("save", partial(self._invite, email, role))

    async def _invite(self, email: str, role: Role) -> None:
        key = self.request_keys.key_for(email, role)
        try:
            made = await self.call_portal(lambda client: client.invite(email, role.value, idempotency_key=key),
                                          retry_key="ctrl+s", raising=(errors.ValidationFailed, errors.Conflict))
        except (errors.ValidationFailed, errors.Conflict) as refused:
            self.query_one(Problem).say(refused.message)
            return
        if made is not None:
            self.seattui.announce_change({Area.TEAM})
            self.dismiss(made)


class RoleForm(_TeamForm):
    """Another role for a member; answers with the member as changed, or None."""

    def __init__(self, member: Member, my_role: Role) -> None:
        super().__init__()
        self.member = member
        self.allowed = roles_up_to(my_role, owners=my_role is Role.OWNER)

    def compose(self) -> ComposeResult:
        with Vertical(id="team-form"):
            yield Static(f"Role of {printable(self.member.login)} (now {self.member.role.value})", id="team-form-title")
            yield _role_choices(self.allowed, self.member.role)
            yield from self.buttons("Change")

    def on_mount(self) -> None:
        radios = self.query_one("#team-role", RadioSet)
        _highlight_chosen(radios)
        radios.focus()

    def action_save(self) -> None:
        role = _chosen_role(self)
        if role is None or role is self.member.role:
            self.dismiss(None)
            return
        self.start_write("save", partial(self._change, role))

    async def _change(self, role: Role) -> None:
        member_id = self.member.id
        try:
            changed = await self.call_portal(lambda client: client.change_role(member_id, role.value),
                                             retry_key="ctrl+s", raising=(errors.Conflict, errors.PermissionDenied))
        except (errors.Conflict, errors.PermissionDenied) as refused:
            self.query_one(Problem).say(refused.message, "Nothing was changed.")
            return
        if changed is not None:
            self.seattui.announce_change({Area.TEAM})
            self.dismiss(changed)


class TokenForm(_TeamForm):
    """A new API token acting for you: name, role (at most yours), days until it expires."""

    def __init__(self, my_role: Role) -> None:
        super().__init__()
        self.my_role = my_role
        self.allowed = roles_up_to(my_role, owners=True)
        self.request_keys = RequestKeys()

    def compose(self) -> ComposeResult:
        never = " or never" if self.my_role is Role.OWNER else ""
        with Vertical(id="team-form"):
            yield Static("New API token (it acts for you, from scripts)", id="team-form-title")
            yield Label("Name (letters, digits, . _ -)")
            yield Input(placeholder="ci-deploy", max_length=64, id="token-name")
            yield Label("Role (at most yours)")
            yield _role_choices(self.allowed, self.my_role)
            yield Label(f"Expires after (days, 1 to {MAX_TOKEN_DAYS:,}{never})")
            yield Input(str(DEFAULT_TOKEN_DAYS), max_length=8, id="token-days")
            yield from self.buttons("Create")

    def on_mount(self) -> None:
        _highlight_chosen(self.query_one("#team-role", RadioSet))
        self.query_one("#token-name", Input).focus()

    @on(Input.Submitted, "#token-name")
    def _name_done(self) -> None:
        self.query_one("#team-role", RadioSet).focus()

    @on(Input.Submitted, "#token-days")
    def _days_done(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        problem = self.query_one(Problem)
        name = self.query_one("#token-name", Input).value.strip()
        typed = self.query_one("#token-days", Input).value.strip()
        role = _chosen_role(self) or self.my_role
        if not name:
            problem.say("Give the token a name: scripts and the audit trail are known by it.")
            self.query_one("#token-name", Input).focus()
            return
        days: int | None
        if typed.lower() == "never" and self.my_role is Role.OWNER:
            days = None
        else:
            try:
                days = whole_number(typed, 1, MAX_TOKEN_DAYS, "days")
            except errors.ValidationFailed as invalid:
                problem.say(invalid.message)
                self.query_one("#token-days", Input).focus()
                return
        self.start_write("save", partial(self._create, name, role, days))

    async def _create(self, name: str, role: Role, days: int | None) -> None:
        key = self.request_keys.key_for(name, role, days)
        try:
            made = await self.call_portal(
                lambda client: client.create_api_token(name, role=role.value, expires_in_days=days, idempotency_key=key),
                retry_key="ctrl+s", raising=(errors.ValidationFailed, errors.Conflict, errors.PermissionDenied))
        except (errors.ValidationFailed, errors.Conflict, errors.PermissionDenied) as refused:
            self.query_one(Problem).say(refused.message)
            return
        if made is not None:
            self.seattui.announce_change({Area.TEAM})
            self.dismiss(made)


class SecretShown(PortalModal[None]):
    """A token shown this once: c copies it (OSC 52, over SSH too), escape closes."""

    SCOPE = "secret"
    CSS_PATH = style("team_forms.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self, title: str, secret: str, note: str) -> None:
        super().__init__()
        self.title_text, self.secret, self.note = title, secret, note

    def compose(self) -> ComposeResult:
        with Vertical(id="team-form"):
            yield Static(self.title_text, id="team-form-title")
            yield Static(self.secret, id="secret")
            yield Static(self.note, id="secret-note")
            with Horizontal(id="team-form-buttons"):
                yield Button("Copy (c)", id="copy", variant="primary")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#copy", Button).focus()

    @on(Button.Pressed, "#copy")
    def _copy_pressed(self) -> None:
        self.action_copy_key()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.dismiss(None)

    def action_copy_key(self) -> None:
        copy_key(self, self.secret)


def token_shown(made: ApiToken) -> SecretShown:
    until = "never expires" if made.expires_at is None else f"works until {made.expires_at:%Y-%m-%d}"
    return SecretShown(f"API token {printable(made.name)} ({made.role.value})", made.token or "",
                       f"It {until}. Copy it now: it is not shown again. Scripts send it as "
                       "Authorization: Bearer TOKEN.")


def invitation_shown(made: Invitation) -> SecretShown:
    return SecretShown(f"Invitation mailed to {printable(made.email)} ({made.role.value})", made.token or "",
                       f"If the mail does not arrive, give them this token: they choose \"I have an invitation\" "
                       f"when they log in. It works once, until {made.expires_at:%Y-%m-%d %H:%M} UTC.")


class AcceptInvitation(SaveCancelButtons, PortalModal[Session | None]):
    """From the login screen: the invitation's token, the login name and password wanted."""

    SCOPE = "accept"
    CSS_PATH = style("team_forms.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def compose(self) -> ComposeResult:
        with Vertical(id="team-form", classes="compact"):
            yield Static("I have an invitation", id="team-form-title")
            yield Label("Invitation token (from the mail)")
            yield Input(placeholder="stuiinv_…", max_length=200, id="accept-token")
            yield Label("Login name you want (a code for a new password: your login)")
            yield Input(placeholder="ann", max_length=64, id="accept-login")
            yield Label("Password (at least 10 characters)")
            yield Input(password=True, max_length=256, id="accept-password")
            yield Label("Password again")
            yield Input(password=True, max_length=256, id="accept-again")
            yield Problem(id="team-form-problem")
            with Horizontal(id="team-form-buttons"):
                yield Button("Join (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    FIELDS = ("accept-token", "accept-login", "accept-password", "accept-again")

    def on_mount(self) -> None:
        self.query_one("#accept-token", Input).focus()

    @on(Input.Submitted)
    def _field_done(self, event: Input.Submitted) -> None:
        if event.input.id not in self.FIELDS or not focus_next(self, list(self.FIELDS), event.input.id):
            self.action_save()

    def action_save(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value for name in self.FIELDS}
        problem = self.query_one(Problem)
        if not values["accept-token"].strip():
            problem.say("Paste the token from the invitation mail.")
            self.query_one("#accept-token", Input).focus()
            return
        if not values["accept-login"].strip():
            problem.say("Choose the login name you will log in with.")
            self.query_one("#accept-login", Input).focus()
            return
        if values["accept-password"] != values["accept-again"]:
            problem.say("The two passwords differ: type the same one twice.")
            self.query_one("#accept-again", Input).value = ""
            self.query_one("#accept-again", Input).focus()
            return
        self.start_write("save", partial(self._accept, values["accept-token"], values["accept-login"].strip(),
                                         values["accept-password"]))

    async def _accept(self, token: str, login: str, password: str) -> None:
        problem = self.query_one(Problem)
        problem.say("Joining …")
        try:
            client = await self.seattui.open_client()
            session = await client.accept_invitation(token, login, password)
        except Exception as error:  # every refusal in words: used, expired, a login taken
            message, hint = describe(error, retry_key="ctrl+s")
            problem.say(message, hint)
            return
        self.dismiss(session)
