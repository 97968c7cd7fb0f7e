"""The `seattui` command: the terminal app, the portal server, and administration commands.

Imports stay inside the commands: `seattui credits` against a remote portal loads neither
Textual nor FastAPI, and answers in a blink.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from seattui.domain.text import printable

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")

# seattui uses no pydantic plugins; not scanning every installed package for them saves
# ~15 ms of each command, and keeps a stray plugin from changing how our models validate.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


class CommandError(Exception):
    """A failure to report in one line and exit with `code`."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


def _say(*values: object, sep: str = " ", end: str = "\n", file: Any = None, flush: bool = False) -> None:
    """print(), with control characters shown harmlessly: names and messages come from the
    portal, and an ESC in one must not reach the terminal (data stored before the portal
    refused them, or another portal's)."""
    print(printable(sep.join(str(value) for value in values), multiline=True), end=end, file=file, flush=flush)


def _fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    raise CommandError(message, code)


def _read_password(from_stdin: bool, *, confirm: bool = False) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("No password on standard input.", EXIT_USAGE)
        return password
    if not sys.stdin.isatty():
        _fail("No terminal to ask for the password: pass it with --password-stdin.", EXIT_USAGE)
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password again: ") != password:
        _fail("The two passwords differ; nothing was changed.", EXIT_USAGE)
    return password


def _run(coroutine: Awaitable[T]) -> T:
    from seattui.domain.errors import SeattuiError

    try:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    except SeattuiError as error:
        _fail(error.message)



def _profile(args: argparse.Namespace) -> tuple[str, Any]:
    from seattui.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as error:
        _fail(str(error), EXIT_USAGE)
    name = args.profile or config.default_profile
    return name, config.profile(name)


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as source:
            return source.read()
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"Cannot read the {what} {path}: {getattr(error, 'strerror', None) or error}.", EXIT_USAGE)


def _write_text(path: str, text: str, what: str) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as target:
            target.write(text)
    except OSError as error:
        _fail(f"Cannot write the {what} {path}: {error.strerror or error}.", EXIT_USAGE)


async def _on_portal(args: argparse.Namespace, work: Callable[[Any], Awaitable[T]], *, session: bool = True) -> T:
    """Run `work(client)` on the profile's portal, logged in unless `session` is false."""
    from seattui.config import load_token
    from seattui.domain.errors import Unauthenticated
    from seattui.wiring import connector_for

    name, profile = _profile(args)
    token = load_token(name)
    if session and token is None:
        _fail(f"Profile {name!r} is not logged in: run seattui login first.", EXIT_USAGE)
    connector = connector_for(profile)
    try:
        async with await connector.open(token if session else None) as client:
            return await work(client)
    except Unauthenticated as error:
        _fail(f"{error.message} (seattui login)")
    finally:
        await connector.close()


async def _started_portal(settings: Any) -> Any:
    """A started portal (schema migrated), or a one-line reason it cannot start."""
    from seattui.portal.catalog import CatalogError
    from seattui.portal.runtime import Portal
    from seattui.portal.store import DatabaseUnavailable, DatabaseUrlError, SchemaTooNew

    try:
        portal = Portal(settings)
    except (DatabaseUrlError, CatalogError) as error:
        _fail(str(error), EXIT_USAGE)
    try:
        await portal.start()
    except (DatabaseUnavailable, SchemaTooNew) as error:
        await portal.close()
        _fail(str(error))
    return portal


async def _with_portal(database: str | None, work: Callable[[Any], Awaitable[int]]) -> int:
    """Run an administration command directly on a portal's database."""
    from seattui.wiring import portal_settings

    portal = await _started_portal(portal_settings(database))
    try:
        return await work(portal)
    finally:
        await portal.close()
