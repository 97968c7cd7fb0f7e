"""The organization's team, for owners and admins: every member with role, status and last
login; the invitations waiting; the API tokens of the member under the cursor. tab moves
between the three lists; delete removes or revokes what is under the cursor of the list in focus."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from seattui.domain.errors import Conflict, PermissionDenied
from seattui.domain.paging import Page
from seattui.domain.roles import Role
from seattui.domain.team import ApiToken, Invitation, InvitationStatus, Member, MemberStatus, TokenStatus
from seattui.domain.text import printable
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.team_forms import InviteForm, RoleForm, TokenForm, invitation_shown, token_shown
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

MEMBER_COLUMNS = (
    Column("login", "Login", min_width=10, sortable=False),
    Column("name", "Name", min_width=8, sortable=False),
    Column("role", "Role", width=9, sortable=False),
    Column("status", "Status", width=8, sortable=False),
    Column("last_login", "Last login", width=16, sortable=False),
)
INVITATION_COLUMNS = (
    Column("email", "Invited", min_width=12, sortable=False),
    Column("role", "Role", width=9, sortable=False),
    Column("status", "Status", width=8, sortable=False),
    Column("expires", "Until", width=16, sortable=False),
    Column("by", "By", width=12, sortable=False),
)
TOKEN_COLUMNS = (
    Column("name", "Token", min_width=10, sortable=False),
    Column("role", "Role", width=9, sortable=False),
    Column("status", "Status", width=8, sortable=False),
    Column("expires", "Expires", width=10, sortable=False),
    Column("used", "Last used", width=16, sortable=False),
)


def _when(moment: Any, never: str = "never") -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else never


def _dim_unless(value: str, lively: bool) -> Text | str:
    return value if lively else Text(value, style="dim")


class MembersScreen(PortalScreen):
    SHOWS = frozenset({Area.TEAM})
    SCOPE = "members"
    CSS_PATH = style("members.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.request_keys = RequestKeys()  # a retried resend mails once

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(f"Members of {printable(self.seattui.who.organization if self.seattui.who else '')}"
                     " · tab: members, invitations, API tokens", id="members-title")
        yield Problem(id="members-problem")
        members = PagedTable[Member](
            MEMBER_COLUMNS, row_key=lambda member: member.id, cells=self._member_cells,
            empty_text="No members.", sort=("none", False), marks=False, id="members")
        self.members_source = PagedSource(members, self._members)
        yield members
        yield Static("Invitations waiting", classes="members-section")
        invitations = PagedTable[Invitation](
            INVITATION_COLUMNS, row_key=lambda invitation: invitation.id, cells=self._invitation_cells,
            empty_text="No invitation waiting: n invites someone by email.", sort=("none", False), marks=False, id="invitations")
        self.invitations_source = PagedSource(invitations, self._invitations)
        yield invitations
        yield Static("API tokens", id="tokens-title", classes="members-section")
        tokens = PagedTable[ApiToken](
            TOKEN_COLUMNS, row_key=lambda token: token.id, cells=self._token_cells,
            empty_text="No API token: T makes one that acts for you.", sort=("none", False), marks=False, id="tokens")
        self.tokens_source = PagedSource(tokens, self._tokens)
        yield tokens
        yield KeyFooter()

    def on_mount(self) -> None:
        self.members_table.focus()
        self.members_source.reload()
        self.invitations_source.reload()

    # -- the lists -------------------------------------------------------------------------------

    @property
    def members_table(self) -> PagedTable[Member]:
        return self.query_one("#members", PagedTable)

    @property
    def invitations_table(self) -> PagedTable[Invitation]:
        return self.query_one("#invitations", PagedTable)

    @property
    def tokens_table(self) -> PagedTable[ApiToken]:
        return self.query_one("#tokens", PagedTable)

    async def _members(self, cursor: str | None, limit: int) -> Page[Member] | None:
        members = await self.call_portal(lambda client: client.members())
        return None if members is None else Page(items=members, total=len(members))

    async def _invitations(self, cursor: str | None, limit: int) -> Page[Invitation] | None:
        invitations = await self.call_portal(lambda client: client.invitations())
        return None if invitations is None else Page(items=invitations, total=len(invitations))

    async def _tokens(self, cursor: str | None, limit: int) -> Page[ApiToken] | None:
        member = self.members_table.current
        if member is None:
            return Page(items=[])
        tokens = await self.call_portal(lambda client: client.api_tokens(member_id=member.id))
        return None if tokens is None else Page(items=tokens, total=len(tokens))

    @staticmethod
    def _member_cells(member: Member) -> list[Cell]:
        active = member.status is MemberStatus.ACTIVE
        return [member.login, member.display_name, member.role.value,
                _dim_unless(member.status.value, active), _when(member.last_login_at)]

    @staticmethod
    def _invitation_cells(invitation: Invitation) -> list[Cell]:
        pending = invitation.status is InvitationStatus.PENDING
        return [invitation.email, invitation.role.value, _dim_unless(invitation.status.value, pending),
                _when(invitation.expires_at), invitation.invited_by]

    @staticmethod
    def _token_cells(token: ApiToken) -> list[Cell]:
        active = token.status is TokenStatus.ACTIVE
        expires = f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never"
        return [token.name, token.role.value, _dim_unless(token.status.value, active), expires,
                _when(token.last_used_at)]

    def on_paged_table_highlighted(self, event: PagedTable.Highlighted) -> None:
        if event.table.id != "members":
            return
        member = event.row
        self.query_one("#tokens-title", Static).update(
            f"API tokens of {printable(member.login)}" if member is not None else "API tokens")
        self.tokens_source.reload()

    def action_refresh(self) -> None:
        self.members_source.reload(keep_place=True)
        self.invitations_source.reload(keep_place=True)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        self.action_refresh()
        self.tokens_source.reload(keep_place=True)

    def action_back(self) -> None:
        self.seattui.action_open_screen("dashboard")

    @property
    def my_role(self) -> Role:
        return self.seattui.who.role if self.seattui.who else Role.VIEWER

    # -- changes ---------------------------------------------------------------------------------

    def action_invite(self) -> None:
        def invited(made: Invitation | None) -> None:
            if made is not None and made.token:
                self.app.push_screen(invitation_shown(made))

        self.app.push_screen(InviteForm(self.my_role), invited)

    def action_change_role(self) -> None:
        member = self.members_table.current
        if member is None:
            return
        if member.status is MemberStatus.REMOVED:
            self.query_one(Problem).say(f"{printable(member.login)} was removed; invite them again instead.")
            return

        def changed(member: Member | None) -> None:
            if member is not None:
                self.notify(f"{printable(member.login)} is now {member.role.value}.", timeout=4)

        self.app.push_screen(RoleForm(member, self.my_role), changed)

    def action_new_token(self) -> None:
        def made(token: ApiToken | None) -> None:
            if token is not None and token.token:
                self.app.push_screen(token_shown(token))

        self.app.push_screen(TokenForm(self.my_role), made)

    def action_resend(self) -> None:
        invitation = self.invitations_table.current
        if invitation is None:
            self.query_one(Problem).say("No invitation to send again: n invites someone.")
            return
        self.start_write("resend", partial(self._resend, invitation))

    async def _resend(self, invitation: Invitation) -> None:
        key = self.request_keys.key_for("resend", invitation.id)
        made = await self.call_portal(
            lambda client: client.resend_invitation(invitation.id, idempotency_key=key), retry_key="m")
        if made is not None:
            self.request_keys.succeeded("resend", invitation.id)
            self.seattui.announce_change({Area.TEAM})
            self.app.push_screen(invitation_shown(made))

    def action_remove(self) -> None:
        """delete: on the list in focus, remove the member, or revoke the invitation or token."""
        focused = self.focused
        if focused is self.invitations_table and self.invitations_table.current is not None:
            self.start_write("remove", partial(self._revoke_invitation, self.invitations_table.current))
        elif focused is self.tokens_table and self.tokens_table.current is not None:
            self.start_write("remove", partial(self._revoke_token, self.tokens_table.current))
        elif focused is self.members_table and self.members_table.current is not None:
            self.start_write("remove", partial(self._remove_member, self.members_table.current))

    async def _remove_member(self, member: Member) -> None:
        if member.status is MemberStatus.REMOVED:
            self.query_one(Problem).say(f"{printable(member.login)} was removed already.")
            return
        if not await self.app.push_screen_wait(ConfirmScreen(
                f"Remove {printable(member.login)} ({member.role.value})?",
                "Their sessions and API tokens stop working at once. Their login stays taken, and the audit "
                "trail keeps what they did.", confirm="Remove")):
            return
        await self._change(lambda client: client.remove_member(member.id), f"Removed {printable(member.login)}.")

    async def _revoke_invitation(self, invitation: Invitation) -> None:
        if not await self.app.push_screen_wait(ConfirmScreen(
                f"Revoke the invitation of {printable(invitation.email)}?",
                "Its token stops working; you can invite them again later.", confirm="Revoke")):
            return
        await self._change(lambda client: client.revoke_invitation(invitation.id),
                           f"Revoked the invitation of {printable(invitation.email)}.")

    async def _revoke_token(self, token: ApiToken) -> None:
        if not await self.app.push_screen_wait(ConfirmScreen(
                f"Revoke the API token {printable(token.name)}?",
                "Scripts using it are refused from their next request on, on every portal instance.",
                confirm="Revoke")):
            return
        async def revoke(client: Any) -> bool:
            await client.revoke_api_token(token.id)
            return True

        await self._change(revoke, f"Revoked the API token {printable(token.name)}.")

    async def _change(self, call: Any, done: str) -> None:
        try:
            result = await self.call_portal(call, retry_key="delete", raising=(Conflict, PermissionDenied))
        except (Conflict, PermissionDenied) as refused:
            self.query_one(Problem).say(refused.message, "Nothing was changed.")
            return
        if result is not None:
            self.seattui.announce_change({Area.TEAM})
            self.notify(done, timeout=4)
