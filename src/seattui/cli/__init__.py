"""The `seattui` command: the terminal app, the portal server, and administration commands.

Imports stay inside the commands: `seattui credits` against a remote portal loads neither
Textual nor FastAPI, and answers in a blink.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from seattui import __version__
from seattui.cli.common import (
    EXIT_NOT_LOGGED_IN, EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, CommandError, _say,
)
from seattui.cli.session import cmd_app, run_terminal_app

__all__ = ["EXIT_NOT_LOGGED_IN", "EXIT_OK", "EXIT_REFUSED", "EXIT_UNREACHABLE", "EXIT_USAGE", "CommandError",
           "build_parser", "main", "parse_args", "run_terminal_app"]

PROFILE_HELP = "the profile to use (default: SEATTUI_PROFILE, else the config's default profile)"
JSON_FLAGS = ("--json", "--jsonl")


class UsageError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class Parser(argparse.ArgumentParser):
    """argparse, whose usage errors main() reports: as argparse does, or as JSON under --json."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="seattui",
        description="Software-license operations from the terminal. Without a command, opens the terminal app. "
                    "Exit codes: 0 ok, 1 refused, 2 usage, 3 not logged in or token expired, 4 portal unreachable.",
    )
    parser.add_argument("--profile", help=PROFILE_HELP)
    parser.add_argument("--version", action="version", version=f"seattui {__version__}")
    parser.set_defaults(handler=cmd_app, command_line=parser)  # command_line: for `seattui completion`
    # The areas are imported here, not at the top: opening the app never builds their parsers.
    from seattui.cli import (
        audit, billing, children, customers, discounts, license_files, operations, reads, seats, session,
        subscriptions, team,
    )

    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    db_help = "a SQLAlchemy URL (sqlite:///PATH, postgresql://USER@HOST/DB) or a SQLite file path"

    for area in (operations, session, seats, license_files, billing, discounts, customers, reads, team, subscriptions, audit,
                 children):
        area.add_commands(commands, db_help)
    _profile_after_the_command(parser)
    return parser


def _profile_after_the_command(parser: argparse.ArgumentParser) -> None:
    """`seattui credits --profile work` as well as `seattui --profile work credits`. SUPPRESS
    keeps a subcommand without the flag from resetting the one given before it."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for command in {id(sub): sub for sub in action.choices.values()}.values():
            if "--profile" not in command._option_string_actions:
                command.add_argument("--profile", default=argparse.SUPPRESS, help=PROFILE_HELP)
            _profile_after_the_command(command)


def parse_args(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """The command line, with the options of configurable commands from env and file too."""
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    command = getattr(args, "options_parser", None)
    if command is not None:
        from seattui.cli.operations import _apply_configured_defaults

        _apply_configured_defaults(command, args.portal_config)
        args = parser.parse_args(argv)
    return args


def _report(error: CommandError, as_json: bool) -> int:
    """A failure on stderr: one line of words, or under --json/--jsonl `{"code", "message"}`."""
    if as_json:
        import json

        print(json.dumps({"code": error.name, "message": str(error)}), file=sys.stderr)
    else:
        _say(f"seattui: {error}", file=sys.stderr)
    return error.code


def _app_profile(words: list[str]) -> tuple[bool, str | None]:
    """Whether the words only open the app (`seattui`, `seattui --profile NAME`), and the profile:
    the app then starts without building every command's parser, which its first frame waits for."""
    if not words:
        return True, None
    if len(words) == 2 and words[0] == "--profile" and words[1] and not words[1].startswith("-"):
        return True, words[1]
    if len(words) == 1 and words[0].startswith("--profile=") and len(words[0]) > len("--profile="):
        return True, words[0].removeprefix("--profile=")
    return False, None


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    as_json = any(word in JSON_FLAGS for word in words)
    opens_the_app, profile = _app_profile(words)
    try:
        args = argparse.Namespace(profile=profile, handler=cmd_app) if opens_the_app else parse_args(words)
    except UsageError as error:
        if as_json:
            return _report(CommandError(f"{error} ({error.parser.prog} --help)", EXIT_USAGE), as_json=True)
        error.parser.print_usage(sys.stderr)
        print(f"{error.parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as error:
        return _report(error, as_json)
    as_json = bool(getattr(args, "json", False) or getattr(args, "jsonl", False))
    try:
        return int(args.handler(args))
    except CommandError as error:
        return _report(error, as_json)
    except KeyboardInterrupt:
        _say("seattui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `seattui licenses --jsonl | head`: the reader has what it wanted.
        _quiet_stdout()
        return EXIT_OK


def _quiet_stdout() -> None:
    import os

    # Python would report the broken pipe again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    raise SystemExit(main())
