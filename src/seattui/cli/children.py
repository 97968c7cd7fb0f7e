"""`seattui children` and `seattui child ...`: a reseller's child accounts, their usage,
creating them, inviting their members, and moving licenses and seat plans into them."""

from __future__ import annotations

import argparse
from typing import Any

from seattui.cli.common import EXIT_OK, _fail, _on_portal, _run, _say
from seattui.cli.reads import Column, Listing, _output_options
from seattui.cli.team import ROLES


async def _child_named(client: Any, wanted: str) -> Any:
    """A child account by its id or its name (case aside)."""
    cleaned = wanted.strip()
    for child in await client.children():
        if str(child.id) == cleaned or child.name.casefold() == cleaned.casefold():
            return child
    _fail(f"There is no child account {wanted!r} (seattui children lists them).")


def _columns() -> list[Column]:
    from seattui.domain.money import format_credits

    return [
        Column("ID", lambda child: child.id, right=True),
        Column("LICENSES", lambda child: child.usage.licenses, right=True),
        Column("SEATS", lambda child: f"{child.usage.seats_assigned}/{child.usage.seats_purchased}", right=True),
        Column("DEVICES", lambda child: child.usage.devices_activated, right=True),
        Column("MEMBERS", lambda child: child.usage.members, right=True),
        Column("SPENT THIS MONTH", lambda child: format_credits(child.usage.spend_this_month), right=True),
        Column("NAME", lambda child: child.name),
    ]


def _none_yet(me: Any) -> str:
    """What an empty list says to this caller: what they can do about it, if anything."""
    from seattui.domain.roles import OrgKind, Permission

    if me.organization.kind is OrgKind.CHILD:
        return "A child account has no child accounts of its own: only its parent organization has them."
    if me.organization.kind is not OrgKind.RESELLER:
        return "Only a reseller organization has child accounts."
    if not me.can(Permission.MANAGE_CHILDREN):
        return "No child accounts yet: an owner or admin makes one with seattui child create NAME."
    return "No child accounts yet: seattui child create NAME makes one."


def cmd_children(args: argparse.Namespace) -> int:
    listing = Listing(args, _columns(), "")

    async def work(client: Any) -> int:
        found = await client.children()
        listing.page(found)
        if not found:
            listing.empty = _none_yet(await client.me())
        listing.end()
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_child_create(args: argparse.Namespace) -> int:
    import json

    async def work(client: Any) -> int:
        child = await client.create_child(args.name)
        if args.json:
            print(json.dumps(child.model_dump(mode="json")))
        else:
            _say(f"Created the child account {child.name} (id {child.id}). Invite its first member: "
                 f"seattui child invite {child.id} EMAIL --role owner")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_child_invite(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        child = await _child_named(client, args.child)
        invitation = await client.invite_to_child(child.id, args.email, args.role)
        _say(f"Invited {invitation.email} to {child.name} as {invitation.role.value}; the mail is on its way. "
             f"The invitation works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC.")
        _say(f"If the mail does not arrive, give them this token (shown only now): {invitation.token}")
        return EXIT_OK

    return _run(_on_portal(args, work))


def _move(args: argparse.Namespace, *, seat_plan: bool) -> int:
    import json

    from seattui.domain.licensing import Term

    async def work(client: Any) -> int:
        child = await _child_named(client, args.to)
        if seat_plan:
            license = await client.license(args.license_id)
            if license.term not in (Term.FLEXIBLE, Term.ANNUAL):
                _fail(f"License {args.license_id} is not a seat plan (flexible or annual): move it with "
                      f"seattui child move-license {args.license_id} --to {child.id}.")
        moved = await client.move_license_to_child(child.id, args.license_id)
        if args.json:
            print(json.dumps(moved.model_dump(mode="json")))
        else:
            what = "Seat plan" if seat_plan else "License"
            _say(f"{what} {moved.license_id} and its activation key {moved.key} are now {moved.child}'s.")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_child_move_license(args: argparse.Namespace) -> int:
    return _move(args, seat_plan=False)


def cmd_child_move_seats(args: argparse.Namespace) -> int:
    return _move(args, seat_plan=True)


def _license_id(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 2**63 - 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a license id (seattui licenses lists them)")
    return int(text)


def add_commands(commands: Any, db_help: str) -> None:
    listed = commands.add_parser(
        "children", help="list the organization's child accounts with their usage",
        description="A reseller's child accounts by name: licenses, seats assigned/purchased, devices activated, "
                    "members and what the parent paid for them this month. A plain table, or --json / --jsonl "
                    "for scripts.")
    _output_options(listed, 'a list of {"id", "name", "created_at", "usage": {...}}')
    listed.set_defaults(handler=cmd_children)

    child = commands.add_parser(
        "child", help="a child account: create, invite its members, move licenses or seat plans into it",
        description="A reseller's child accounts (owners and admins). CHILD is the child's id or name.")
    child_commands = child.add_subparsers(title="commands", metavar="COMMAND", required=True)
    create = child_commands.add_parser("create", help="create a child account",
                                       description="Create a child account under your organization; its orders "
                                                   "are paid from your credits or on your invoice.")
    create.add_argument("name", help="2 to 120 characters, unique in the portal")
    create.add_argument("--json", action="store_true", help='print the child as {"id", "name", "usage", ...}')
    create.set_defaults(handler=cmd_child_create)
    invite = child_commands.add_parser("invite", help="invite someone to a child account by email",
                                       description="Mail an invitation to become a member of the child with a "
                                                   "role (owner too). It works once and expires in 7 days.")
    invite.add_argument("child", metavar="CHILD")
    invite.add_argument("email")
    invite.add_argument("--role", required=True, choices=ROLES)
    invite.set_defaults(handler=cmd_child_invite)
    for name, handler, what, help_text in (
        ("move-license", cmd_child_move_license,
         ("Move one of your licenses, with its activation key, into a child. Refused while it is activated on a "
          "device (deactivate it first) or while its key holds other licenses or subscriptions."),
         "move a license, with its activation key, into a child"),
        ("move-seats", cmd_child_move_seats,
         ("Move a seat plan (its seats bought, flexible or annual) into a child, with its activation key, for the "
          "child's employees. Refused while any of its seats is assigned to your employees (unassign them first)."),
         "move a seat plan into a child"),
    ):
        move = child_commands.add_parser(name, help=help_text, description=what)
        move.add_argument("license_id", metavar="PLAN_ID" if name == "move-seats" else "LICENSE_ID", type=_license_id,
                          help="the seat plan's license id" if name == "move-seats" else "the license's id")
        move.add_argument("--to", required=True, metavar="CHILD", help="the child's id or name")
        move.add_argument("--json", action="store_true", help='print {"license_id", "child_id", "child", "key"}')
        move.set_defaults(handler=handler)
