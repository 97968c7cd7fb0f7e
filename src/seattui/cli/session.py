"""The `seattui` commands of one area."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from seattui.cli.common import (
    EXIT_OK, EXIT_REFUSED, EXIT_USAGE, _fail, _on_portal, _profile, _read_password,
    _run, _say,
)


# -- the terminal app ---------------------------------------------------------------------


def cmd_app(args: argparse.Namespace) -> int:
    import os

    from seattui.cli.common import PROFILE_ENV

    return run_terminal_app(args.profile or os.environ.get(PROFILE_ENV, "").strip() or None)


def run_terminal_app(profile_name: str | None) -> int:
    """The full-screen app; the portal's logs go to a file so they never draw over it."""
    import gc

    # Starting up makes many long-lived objects and few cycles: the collector's passes over
    # them cost the first frame without freeing anything (the app settles it once logged in).
    gc.set_threshold(20_000, 20, 20)
    from seattui.config import ConfigError, data_dir, load_config
    from seattui.logs import configure_app_logging

    try:
        config = load_config()
    except ConfigError as error:
        _fail(str(error), EXIT_USAGE)
    configure_app_logging(data_dir() / "seattui.log")
    from seattui.tui.app import SeattuiApp
    from seattui.wiring import connector_for

    app = SeattuiApp(connector_for, profile_name=profile_name, config=config)
    app.run()
    # An app that ended on an error (Textual printed its traceback) is a failed command.
    return EXIT_OK if not app.return_code else EXIT_REFUSED


# -- the profile's session ----------------------------------------------------------------


def cmd_login(args: argparse.Namespace) -> int:
    from seattui.config import EMBEDDED, Profile, save_profile, save_token
    from seattui.wiring import connector_for

    name, current = _profile(args)
    portal = args.portal or current.portal
    if portal != EMBEDDED and not portal.startswith(("http://", "https://")):
        _fail(f"--portal takes 'embedded' or a URL like http://HOST:PORT, not {portal!r}.", EXIT_USAGE)
    invite = (args.invite or "").strip()
    # Accepting an invitation makes a new login: the profile's own login is not the default.
    login = args.login or ("" if invite else current.login)
    if not login:
        if not sys.stdin.isatty():
            _fail("Give the login with --login.", EXIT_USAGE)
        login = input("Login name you want (a code for a new password: your login): " if invite else "Login: ").strip()
    password = _read_password(args.password_stdin, confirm=bool(invite))
    database = args.db or (current.database if portal == EMBEDDED else None)
    profile = Profile(portal=portal, login=login, database=database)

    async def work() -> int:
        connector = connector_for(profile)
        try:
            client = await connector.open(None)
            async with client:
                if invite:
                    session = await client.accept_invitation(invite, login, password)
                else:
                    session = await client.login(login, password)
        finally:
            await connector.close()
        save_profile(name, profile)
        save_token(name, session.token)
        me = session.me
        if invite:
            _say(f"Welcome to {me.organization.name}: you are {me.user.login} ({me.user.role.value}).")
        _say(f"Logged in to {connector.description} as {me.user.login} ({me.user.role.value}) "
              f"of {me.organization.name}; profile {name!r}.")
        return EXIT_OK

    return _run(work())


def cmd_logout(args: argparse.Namespace) -> int:
    from seattui.config import load_token, save_token
    from seattui.domain.errors import SeattuiError
    from seattui.wiring import connector_for

    name, profile = _profile(args)
    token = load_token(name)
    if token is None:
        _say(f"Profile {name!r} is not logged in.")
        return EXIT_OK

    async def work() -> int:
        connector = connector_for(profile)
        try:
            async with await connector.open(token) as client:
                await client.logout()
        except SeattuiError as error:
            _say(f"The portal did not confirm the logout ({error.message}); the token is forgotten here.",
                  file=sys.stderr)
        finally:
            await connector.close()
        return EXIT_OK

    code = asyncio.run(work())
    save_token(name, None)
    _say(f"Logged out of profile {name!r}.")
    return code


def cmd_credits(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        balance = await client.balance()
        if args.json:
            _say(balance.model_dump_json())
        else:
            from seattui.domain.money import format_credits

            _say(f"{balance.organization}: {format_credits(balance.balance)} {balance.unit}")
        return EXIT_OK

    return _run(_on_portal(args, work))


def add_commands(commands: Any, db_help: str) -> None:
    login = commands.add_parser("login", help="log in and keep the token in the profile",
                                description="Log in to a portal and store the session token in the profile.")
    login.add_argument("--portal", help="'embedded' or the portal's URL (default: the profile's)")
    login.add_argument("--login", help="your login (default: the profile's)")
    login.add_argument("--db", help="embedded only: the portal's database")
    login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    login.add_argument("--invite", metavar="TOKEN",
                       help="accept an invitation: asks the login name and password you want, then logs in")
    login.set_defaults(handler=cmd_login)

    logout = commands.add_parser("logout", help="revoke the profile's token", description="Log out: revoke and forget the token.")
    logout.set_defaults(handler=cmd_logout)

    credits = commands.add_parser("credits", help="print the credit balance",
                                  description="Print the organization's credit balance.")
    credits.add_argument("--json", action="store_true",
                         help='print {"organization", "balance", "unit"}; balance is a decimal string')
    credits.set_defaults(handler=cmd_credits)
