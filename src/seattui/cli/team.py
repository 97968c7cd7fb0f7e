"""The `seattui` commands of the team: members and their roles, invitations, API tokens."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from seattui.cli.common import EXIT_OK, EXIT_USAGE, _fail, _on_portal, _run, _say

ROLES = ("owner", "admin", "operator", "viewer")


def _when(moment: datetime | None, never: str = "never") -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else never


async def _member_named(client: Any, login: str) -> Any:
    wanted = login.strip().lower()
    for member in await client.members():
        if member.login == wanted:
            return member
    _fail(f"There is no member {login!r} in this organization (seattui members lists them).")


# -- members ---------------------------------------------------------------------------------


def cmd_members(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        members = await client.members()
        if args.json:
            _say(json.dumps([json.loads(member.model_dump_json()) for member in members]))
            return EXIT_OK
        invitations = await client.invitations()
        _say(f"{'LOGIN':<24} {'ROLE':<9} {'STATUS':<8} LAST LOGIN")
        for member in members:
            _say(f"{member.login:<24} {member.role.value:<9} {member.status.value:<8} {_when(member.last_login_at)}")
        if invitations:
            _say("\nInvitations waiting:")
            for invitation in invitations:
                _say(f"{invitation.email:<32} {invitation.role.value:<9} {invitation.status.value:<8} "
                     f"until {_when(invitation.expires_at)}, by {invitation.invited_by}")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_invite(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        invitation = await client.invite(args.email, args.role)
        _say(f"Invited {invitation.email} as {invitation.role.value}; the mail is on its way. The invitation "
             f"works once, until {_when(invitation.expires_at)} UTC.")
        _say(f"If the mail does not arrive, give them this token (shown only now): {invitation.token}")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_member_role(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        member = await _member_named(client, args.login)
        changed = await client.change_role(member.id, args.role)
        _say(f"{changed.login} is now {changed.role.value} (was {member.role.value}).")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_member_remove(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        member = await _member_named(client, args.login)
        if not args.yes and sys.stdin.isatty():
            answer = input(f"Remove {member.login} ({member.role.value})? Their sessions and API tokens stop "
                           "working at once. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                _say("Nothing was changed.")
                return EXIT_OK
        removed = await client.remove_member(member.id)
        _say(f"Removed {removed.login}; their sessions and API tokens no longer work.")
        return EXIT_OK

    return _run(_on_portal(args, work))


# -- API tokens ------------------------------------------------------------------------------


def _expiry_days(text: str | None) -> int | None:
    if text is None:
        from seattui.domain.team import DEFAULT_TOKEN_DAYS

        return DEFAULT_TOKEN_DAYS
    if text.strip().lower() == "never":
        return None
    from seattui.domain.team import MAX_TOKEN_DAYS
    from seattui.domain.validation import whole_number
    from seattui.domain.errors import ValidationFailed

    try:
        return whole_number(text, 1, MAX_TOKEN_DAYS, "days")
    except ValidationFailed as error:
        _fail(f"--expires takes days or 'never' (owners only): {error.message}", EXIT_USAGE)


def cmd_token_create(args: argparse.Namespace) -> int:
    days = _expiry_days(args.expires)

    async def work(client: Any) -> int:
        created = await client.create_api_token(args.name, role=args.role, expires_in_days=days)
        # Only the token goes to standard output, so TOKEN=$(seattui token create ci) works.
        _say(f"Created the API token {created.name} ({created.role.value}), "
             f"{'never expiring' if created.expires_at is None else 'valid until ' + _when(created.expires_at)}. "
             "Copy it now, it is not shown again:", file=sys.stderr)
        _say(created.token)
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_token_list(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        tokens = await client.api_tokens()
        if args.json:
            _say(json.dumps([json.loads(token.model_dump_json(exclude={"token"})) for token in tokens]))
            return EXIT_OK
        if not tokens:
            _say("No API tokens (seattui token create NAME makes one).")
            return EXIT_OK
        _say(f"{'NAME':<24} {'ROLE':<9} {'MEMBER':<20} {'STATUS':<8} {'EXPIRES':<16} LAST USED")
        for token in tokens:
            _say(f"{token.name:<24} {token.role.value:<9} {token.member:<20} {token.status.value:<8} "
                 f"{_when(token.expires_at):<16} {_when(token.last_used_at)}")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_token_revoke(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        named = [token for token in await client.api_tokens() if token.name == args.name]
        if not named:
            _fail(f"There is no live API token named {args.name!r} (seattui token list shows them).")
        await client.revoke_api_token(named[0].id)
        _say(f"Revoked the API token {args.name}: it is refused from its next request on.")
        return EXIT_OK

    return _run(_on_portal(args, work))


def add_commands(commands: Any, db_help: str) -> None:
    members = commands.add_parser("members", help="list the organization's members and waiting invitations",
                                  description="Every member with role, status and last login; then the "
                                              "invitations waiting to be accepted. Owners and admins.")
    members.add_argument("--json", action="store_true",
                         help='print the members as a JSON array of {"id", "login", "display_name", "role", '
                              '"status", "created_at", "last_login_at"}')
    members.set_defaults(handler=cmd_members)

    invite = commands.add_parser("invite", help="invite someone by email",
                                 description="Mail an invitation to join the organization with a role. It works "
                                             "once and expires in 7 days. Admins cannot invite owners.")
    invite.add_argument("email")
    invite.add_argument("--role", required=True, choices=ROLES)
    invite.set_defaults(handler=cmd_invite)

    member = commands.add_parser("member", help="change a member's role, or remove a member",
                                 description="Change a member's role, or remove a member.")
    member_commands = member.add_subparsers(title="commands", metavar="COMMAND", required=True)
    role = member_commands.add_parser("role", help="give a member another role",
                                      description="Give a member another role. Only owners make or change owners; "
                                                  "the last owner stays an owner.")
    role.add_argument("login")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(handler=cmd_member_role)
    remove = member_commands.add_parser("remove", help="remove a member (their sessions and tokens end)",
                                        description="Remove a member: their sessions and API tokens stop working "
                                                    "at once. Asks first on a terminal.")
    remove.add_argument("login")
    remove.add_argument("--yes", action="store_true", help="do not ask")
    remove.set_defaults(handler=cmd_member_remove)

    token = commands.add_parser("token", help="API tokens for scripts: create, list, revoke",
                                description="Named API tokens that act for you with a role no higher than yours.")
    token_commands = token.add_subparsers(title="commands", metavar="COMMAND", required=True)
    create = token_commands.add_parser("create", help="make an API token (printed once)",
                                       description="Make a named API token and print it once (the token alone on "
                                                   "standard output).")
    create.add_argument("name", help="letters, digits, . _ -; unique among the organization's live tokens")
    create.add_argument("--role", choices=ROLES, help="its role, at most yours (default: yours)")
    create.add_argument("--expires", metavar="DAYS",
                        help="days until it stops working (default 90), or 'never' (owners only)")
    create.set_defaults(handler=cmd_token_create)
    listing = token_commands.add_parser("list", help="list live API tokens",
                                        description="Live API tokens: the organization's for owners and admins, "
                                                    "else your own. Never the secrets.")
    listing.add_argument("--json", action="store_true", help="print them as a JSON array")
    listing.set_defaults(handler=cmd_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke an API token by name",
                                       description="Revoke an API token: it is refused from its next request on.")
    revoke.add_argument("name")
    revoke.set_defaults(handler=cmd_token_revoke)
