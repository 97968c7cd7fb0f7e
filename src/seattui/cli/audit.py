"""The `seattui` commands of one area: the audit log."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from seattui.cli.common import EXIT_OK, EXIT_REFUSED, _run, _say, _with_portal


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Walk the audit log's hash chains on the portal's database; report the first broken link."""
    from seattui.portal.services import audit

    async def work(portal: Any) -> int:
        async with portal.store.read() as conn:
            check = await audit.verify_chains(conn)
        if check.broken is None:
            _say(f"The audit log is intact: {check.entries} entries of {check.organizations} organization(s), "
                 "every link checked.")
            return EXIT_OK
        link = check.broken
        _say(f"The audit log of {link.organization} is broken at place {link.place}: {link.reason}.", file=sys.stderr)
        _say(f"{check.entries} entries before it were intact. Restore the audit entries from a backup, "
             "or keep this report: the log was changed outside the portal.", file=sys.stderr)
        return EXIT_REFUSED

    return _run(_with_portal(args.db, work))


def add_commands(commands: Any, db_help: str) -> None:
    # `seattui audit` itself lists the trail (cli/reads.py); verify is an action under it.
    audit = commands.choices.get("audit") or commands.add_parser(
        "audit", help="the audit log", description="The audit log of every change.")
    actions = audit.add_subparsers(title="actions", metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check that no audit entry was edited or deleted in the database (operator)",
        description="Walk each organization's audit chain (each entry holds the hash of the one before it) "
                    "and report the first broken link: exit 0 intact, 1 broken.")
    verify.add_argument("--db", help=f"{db_help}; default: the embedded portal's")
    verify.set_defaults(handler=cmd_audit_verify)
