"""The `seattui` command: the terminal app, the portal server, and administration commands.

Imports stay inside the commands: `seattui credits` against a remote portal loads neither
Textual nor FastAPI, and answers in a blink.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from seattui.cli import billing, customers, license_files, operations, seats, session, subscriptions
from seattui.cli.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, CommandError, _say
from seattui.cli.operations import _apply_configured_defaults, _serve_settings
from seattui.cli.session import cmd_app, run_terminal_app

__all__ = ["EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "CommandError", "build_parser", "main", "parse_args",
           "run_terminal_app", "_serve_settings"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seattui",
        description="Software-license operations from the terminal. Without a command, opens the terminal app.",
    )
    parser.add_argument("--profile", help="the profile to use (default: the config's default profile)")
    parser.set_defaults(handler=cmd_app)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    db_help = "a SQLAlchemy URL (sqlite:///PATH, postgresql://USER@HOST/DB) or a SQLite file path"

    for area in (operations, session, seats, license_files, billing, customers, subscriptions):
        area.add_commands(commands, db_help)
    return parser


def parse_args(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """The command line, with the options of configurable commands from env and file too."""
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    command = getattr(args, "options_parser", None)
    if command is not None:
        _apply_configured_defaults(command, args.portal_config)
        args = parser.parse_args(argv)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except CommandError as error:
        print(f"seattui: {error}", file=sys.stderr)
        return error.code
    try:
        return int(args.handler(args))
    except CommandError as error:
        _say(f"seattui: {error}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        _say("seattui: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
