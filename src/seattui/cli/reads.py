"""The `seattui` read commands: who am I, keys, licenses, support, employees, ledger, audit.

Each prints a plain aligned table, or with --json one JSON document (a list of the portal's
objects), or with --jsonl one object a line. Lists are read page by page through the portal's
keyset pages and written as each page arrives, so 100,000 licenses never sit in memory and
`| head` gets its first lines at once. The JSON of each object is the portal API's (README
"Scripting"); json.dumps escapes every control and non-ASCII character, so nothing stored
reaches the terminal raw, and the table's cells go through `printable`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from datetime import date

from seattui.cli.common import EXIT_OK, EXIT_USAGE, _fail, _on_portal, _profile, _run, _say

# The largest page every list endpoint serves: fewest round trips for a long list.
PAGE_SIZE = 500
MAX_ENDING_DAYS = 3650


# -- writing a list as it is read ---------------------------------------------------------


# Module-level imports stay those `import seattui.cli` already pays for (every command, and the
# app's first frame, import this module): json, datetime and dataclasses wait for a read command.
class Column(NamedTuple):
    header: str
    cell: Callable[[Any], object]
    right: bool = False  # numbers


class Listing:
    """Writes a list page by page: JSON (one document), JSON lines, or a table whose columns
    are as wide as the first page needs (a longer cell later widens its row, never cut)."""

    def __init__(self, args: argparse.Namespace, columns: list[Column], empty: str) -> None:
        self.mode = "json" if args.json else "jsonl" if args.jsonl else "table"
        self.columns = columns
        self.empty = empty
        self.count = 0
        self.widths: list[int] | None = None

    def page(self, items: list[Any]) -> None:
        import json

        if self.mode == "table":
            self._table(items)
        elif self.mode == "jsonl":
            sys.stdout.write("".join(json.dumps(item.model_dump(mode="json")) + "\n" for item in items))
        elif items:
            lead = ",\n" if self.count else "["
            sys.stdout.write(lead + ",\n".join(json.dumps(item.model_dump(mode="json")) for item in items))
        self.count += len(items)
        sys.stdout.flush()  # each page reaches a pipe before the next is asked for

    def end(self) -> None:
        if self.mode == "json":
            sys.stdout.write("]\n" if self.count else "[]\n")
        elif self.mode == "table" and not self.count:
            _say(self.empty, file=sys.stderr)
        sys.stdout.flush()

    def _table(self, items: list[Any]) -> None:
        from seattui.domain.text import printable

        rows = [[printable(_text(column.cell(item))) for column in self.columns] for item in items]
        if self.widths is None:
            if not rows:
                return
            self.widths = [max([len(column.header)] + [len(row[i]) for row in rows])
                           for i, column in enumerate(self.columns)]
            self._line([column.header for column in self.columns])
        for row in rows:
            self._line(row)

    def _line(self, cells: list[str]) -> None:
        assert self.widths is not None
        last = len(cells) - 1
        parts = [cell.rjust(width) if column.right else cell if i == last else cell.ljust(width)
                 for i, (cell, width, column) in enumerate(zip(cells, self.widths, self.columns, strict=True))]
        sys.stdout.write("  ".join(parts).rstrip() + "\n")


def _text(value: object) -> str:
    from datetime import datetime

    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(part) for part in value)
    return str(value)


Fetch = Callable[[Any, str | None], Awaitable[Any]]


async def _pages(client: Any, fetch: Fetch) -> AsyncIterator[list[Any]]:
    cursor: str | None = None
    while True:
        page = await fetch(client, cursor)
        yield page.items
        cursor = page.next_cursor
        if not cursor:
            return


def _list(args: argparse.Namespace, fetch: Fetch, columns: list[Column], empty: str) -> int:
    listing = Listing(args, columns, empty)

    async def work(client: Any) -> int:
        async for items in _pages(client, fetch):
            listing.page(items)
        listing.end()
        return EXIT_OK

    return _run(_on_portal(args, work))


def _built(model: type, **fields: Any) -> Any:
    """A filter from the command line, or a usage error naming what to change."""
    from seattui.domain.errors import ValidationFailed
    from seattui.domain.validation import build

    try:
        return build(model, **fields)
    except ValidationFailed as error:
        _fail(error.message, EXIT_USAGE)


# -- the commands -------------------------------------------------------------------------


def cmd_whoami(args: argparse.Namespace) -> int:
    import json

    name, profile = _profile(args)

    async def work(client: Any) -> int:
        me = await client.me()
        if args.json or args.jsonl:
            _say(json.dumps({
                "login": me.user.login, "display_name": me.user.display_name, "role": me.user.role.value,
                "organization": me.organization.name, "organization_id": me.organization.id,
                "organization_kind": me.organization.kind.value,
                "permissions": sorted(permission.value for permission in me.permissions),
                "profile": name, "portal": profile.portal,
            }))
        else:
            _say(f"{me.user.login} ({me.user.role.value}) of {me.organization.name}, on {profile.portal}; "
                 f"profile {name!r}")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_keys(args: argparse.Namespace) -> int:
    async def fetch(client: Any, cursor: str | None) -> Any:
        return await client.keys(query=args.filter or "", cursor=cursor, limit=PAGE_SIZE)

    columns = [Column("Key", lambda key: key.key), Column("Licenses", lambda key: key.license_count, right=True),
               Column("Subscriptions", lambda key: key.subscription_count, right=True),
               Column("Created", lambda key: key.created_at), Column("Name", lambda key: key.name)]
    return _list(args, fetch, columns, "No activation keys.")


def _status(license: Any) -> str:
    if license.device is not None and license.status.value == "activated":
        return f"on {license.device.hostname}"
    return str(license.status.value).replace("_", " ")


def _license_columns(*, support: bool) -> list[Column]:
    columns = [Column("Key", lambda item: item.key), Column("Product", lambda item: item.product_id),
               Column("Edition", lambda item: item.edition_id), Column("Qty", lambda item: item.quantity, right=True)]
    if support:
        columns += [Column("Support end", lambda item: item.support_ends_on)]
    else:
        columns += [Column("Term", lambda item: item.term.value), Column("Status", _status),
                    Column("Support end", lambda item: item.support_ends_on)]
    return columns + [Column("Customer", lambda item: item.customer_email), Column("Comment", lambda item: item.comment)]


def cmd_licenses(args: argparse.Namespace) -> int:
    from seattui.domain.licensing import LicenseFilter

    wanted = _built(LicenseFilter, q=args.filter or "", product_id=args.product, expired=args.expired)

    async def fetch(client: Any, cursor: str | None) -> Any:
        return await client.licenses(wanted, cursor=cursor, limit=PAGE_SIZE)

    return _list(args, fetch, _license_columns(support=False), "No licenses match.")


def cmd_support(args: argparse.Namespace) -> int:
    from seattui.domain.licensing import LicenseFilter, LicenseSort, Term

    # Support is bought with permanent licenses: the support screen's list, earliest end first.
    wanted = _built(LicenseFilter, term=Term.PERMANENT, support_ending_days=args.ending)

    async def fetch(client: Any, cursor: str | None) -> Any:
        return await client.licenses(wanted, sort=LicenseSort.SUPPORT, cursor=cursor, limit=PAGE_SIZE)

    return _list(args, fetch, _license_columns(support=True),
                 "No support ends in that time." if args.ending is not None else "No permanent licenses.")


def cmd_employees(args: argparse.Namespace) -> int:
    from seattui.domain.people import EmployeeFilter

    chosen = _built(EmployeeFilter, text=args.filter or "")

    async def fetch(client: Any, cursor: str | None) -> Any:
        return await client.employees(chosen, cursor=cursor, limit=PAGE_SIZE)

    columns = [Column("Name", lambda person: person.name), Column("Email", lambda person: person.email),
               Column("Department", lambda person: person.department),
               Column("Status", lambda person: person.status.value), Column("Seats", lambda person: person.seats)]
    return _list(args, fetch, columns, "No employees.")


def cmd_ledger(args: argparse.Namespace) -> int:
    from seattui.domain.money import format_credits

    async def fetch(client: Any, cursor: str | None) -> Any:
        return await client.ledger(cursor=cursor, limit=PAGE_SIZE)

    def paid_for(entry: Any) -> str:
        what = f"{entry.object_type} {entry.object_id}" if entry.object_type else ""
        return " — ".join(part for part in (what, entry.memo) if part)

    columns = [Column("At (UTC)", lambda entry: entry.at),
               Column("Amount", lambda entry: format_credits(entry.amount), right=True),
               Column("Balance", lambda entry: format_credits(entry.balance_after), right=True),
               Column("Reason", lambda entry: entry.reason.value), Column("By", lambda entry: entry.actor),
               Column("For", paid_for)]
    return _list(args, fetch, columns, "The ledger is empty.")


def cmd_audit(args: argparse.Namespace) -> int:
    async def fetch(client: Any, cursor: str | None) -> Any:
        return await client.audit(cursor=cursor, limit=PAGE_SIZE, batch_id=args.batch, since=args.since)

    def changed(entry: Any) -> str:
        return f"{entry.object_type} {entry.object_id}" if entry.object_id is not None else entry.object_type

    columns = [Column("At (UTC)", lambda entry: entry.at), Column("By", lambda entry: entry.actor),
               Column("Action", lambda entry: entry.action), Column("Object", changed),
               Column("Batch", lambda entry: entry.batch_id), Column("Summary", lambda entry: entry.summary)]
    return _list(args, fetch, columns, "No audit entries match.")


# -- the command line ---------------------------------------------------------------------


def _day(text: str) -> date:
    from datetime import date

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as YYYY-MM-DD, like 2026-03-02") from None


def _days(text: str) -> int:
    if not text.strip().isdigit() or int(text) > MAX_ENDING_DAYS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 0 to {MAX_ENDING_DAYS}")
    return int(text)


def _output_options(command: argparse.ArgumentParser, what: str) -> None:
    shape = command.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help=f"print {what} as one JSON document")
    shape.add_argument("--jsonl", action="store_true",
                       help="print one JSON object a line, as the portal's pages arrive (for long lists)")


def add_commands(commands: Any, db_help: str) -> None:
    def read(name: str, help: str, handler: Callable[[argparse.Namespace], int], what: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help, description=f"{help[0].upper()}{help[1:]}. A plain table, "
                                      "or --json / --jsonl for scripts (README: Scripting).")
        _output_options(command, what)
        command.set_defaults(handler=handler)
        return command

    read("whoami", "who the profile's session is: login, role, organization, portal", cmd_whoami,
         'an object {"login", "role", "organization", ...}')
    keys = read("keys", "list the activation keys, newest first", cmd_keys, "a list of keys")
    keys.add_argument("--filter", metavar="TEXT", help="part of a key's name, or of the key itself")
    licenses = read("licenses", "list the licenses, by key", cmd_licenses, "a list of licenses")
    licenses.add_argument("--filter", metavar="TEXT", help="part of the key, the customer email or the comment")
    licenses.add_argument("--product", metavar="ID", help="only this product's licenses (its id, e.g. remotedesk)")
    licenses.add_argument("--expired", action="store_true", help="only trials and annual terms that have ended")
    support = read("support", "list the permanent licenses by end of support, earliest first", cmd_support,
                   "a list of licenses")
    support.add_argument("--ending", metavar="DAYS", type=_days,
                         help="only support that ends from today to DAYS days on (0: today)")
    employees = read("employees", "list the employees and the seats they hold, by name", cmd_employees,
                     "a list of employees")
    employees.add_argument("--filter", metavar="TEXT", help="words of the name, email or department")
    read("ledger", "list the credit ledger, newest first", cmd_ledger, "a list of ledger entries")
    audit = read("audit", "list the audit trail, newest first", cmd_audit, "a list of audit entries")
    audit.add_argument("--since", metavar="DATE", type=_day, help="only changes made on DATE (UTC) or later")
    audit.add_argument("--batch", metavar="ID", help="only the changes of one batch (its id)")

    completion = commands.add_parser(
        "completion", help="print the shell completion script for bash or zsh",
        description="Print a completion script. bash: seattui completion bash > "
                    "~/.local/share/bash-completion/completions/seattui; zsh: seattui completion zsh > "
                    "\"${fpath[1]}/_seattui\" (then start a new shell).")
    completion.add_argument("shell", choices=["bash", "zsh"])
    completion.set_defaults(handler=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab  # only here: completion costs the other commands nothing

    sys.stdout.write(shtab.complete(args.command_line, shell=args.shell))
    return EXIT_OK
