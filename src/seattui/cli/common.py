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

# Every command's exit codes (README "Scripting"): a script tells a refusal from a typo, from a
# session to renew, from a portal to wait for.
EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_NOT_LOGGED_IN, EXIT_UNREACHABLE = 0, 1, 2, 3, 4
# The `code` of a JSON error (stderr, under --json) when the portal gave none of its own.
ERROR_CODES = {EXIT_REFUSED: "refused", EXIT_USAGE: "usage", EXIT_NOT_LOGGED_IN: "not_logged_in",
               EXIT_UNREACHABLE: "portal_unavailable"}
PORTAL_ENV, TOKEN_ENV, PROFILE_ENV = "SEATTUI_PORTAL", "SEATTUI_TOKEN", "SEATTUI_PROFILE"
T = TypeVar("T")

# seattui uses no pydantic plugins; not scanning every installed package for them saves
# ~15 ms of each command, and keeps a stray plugin from changing how our models validate.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


class CommandError(Exception):
    """A failure to report in one line and exit with `code`."""

    def __init__(self, message: str, code: int = EXIT_REFUSED, name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.name = name or ERROR_CODES.get(code, "refused")


def exit_code_of(error: Exception) -> int:
    """What a portal's error means to a script: 3 log in again, 4 try later, 1 refused."""
    from seattui.domain.errors import InvalidCredentials, PortalUnavailable, Unauthenticated

    if isinstance(error, PortalUnavailable):
        return EXIT_UNREACHABLE
    if isinstance(error, Unauthenticated) and not isinstance(error, InvalidCredentials):
        return EXIT_NOT_LOGGED_IN
    return EXIT_REFUSED


def _say(*values: object, sep: str = " ", end: str = "\n", file: Any = None, flush: bool = False) -> None:
    """print(), with control characters shown harmlessly: names and messages come from the
    portal, and an ESC in one must not reach the terminal (data stored before the portal
    refused them, or another portal's)."""
    print(printable(sep.join(str(value) for value in values), multiline=True), end=end, file=file, flush=flush)


def _fail(message: str, code: int = EXIT_REFUSED, name: str | None = None) -> NoReturn:
    raise CommandError(message, code, name)


def _refused(error: Any, message: str | None = None) -> NoReturn:
    """Fail with a portal's error, its exit code and its code (`session_expired`...)."""
    raise CommandError(message or error.message, exit_code_of(error), error.code) from None


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
        _refused(error)


def _profile(args: argparse.Namespace) -> tuple[str, Any]:
    """The profile to use (--profile, else SEATTUI_PROFILE, else the config's default), with
    SEATTUI_PORTAL beating the portal it names: a script or CI job needs no config file."""
    from dataclasses import replace

    from seattui.config import EMBEDDED, ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as error:
        _fail(str(error), EXIT_USAGE)
    name = getattr(args, "profile", None) or os.environ.get(PROFILE_ENV, "").strip() or config.default_profile
    profile = config.profile(name)
    portal = os.environ.get(PORTAL_ENV, "").strip()
    if portal:
        if portal != EMBEDDED and not portal.startswith(("http://", "https://")):
            _fail(f"{PORTAL_ENV} takes 'embedded' or a URL like http://HOST:PORT, not {portal!r}.", EXIT_USAGE)
        profile = replace(profile, portal=portal)
    return name, profile


def _token(name: str) -> str | None:
    """SEATTUI_TOKEN (an API token for scripts) beats the profile's saved session."""
    from seattui.config import load_token

    return os.environ.get(TOKEN_ENV, "").strip() or load_token(name)


def _session_refused(name: str, error: Any) -> NoReturn:
    """An expired or revoked token: exit 3, saying which token to renew."""
    if os.environ.get(TOKEN_ENV, "").strip():
        _refused(error, f"{error.message} (the token in {TOKEN_ENV}: make a new one, or unset it)")
    _refused(error, f"{error.message} (seattui login)")


def _logged_in(args: argparse.Namespace) -> tuple[str, Any, str]:
    """The profile's name, the profile and its token; not logged in exits 3."""
    name, profile = _profile(args)
    token = _token(name)
    if token is None:
        _fail(f"Profile {name!r} is not logged in: run seattui login first (or set {TOKEN_ENV}).",
              EXIT_NOT_LOGGED_IN)
    return name, profile, token


def _read_text(path: str, what: str) -> str:
    if path == "-":
        return _read_stdin(what)
    try:
        with open(path, encoding="utf-8-sig") as source:
            return source.read()
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"Cannot read the {what} {path}: {getattr(error, 'strerror', None) or error}.", EXIT_USAGE)


def _read_stdin(what: str) -> str:
    """A file given as `-`: standard input, as UTF-8 (a byte-order mark dropped)."""
    try:
        text = sys.stdin.buffer.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail(f"The {what} on standard input is not UTF-8 text.", EXIT_USAGE)
    except (OSError, ValueError, AttributeError):
        _fail(f"Cannot read the {what} from standard input.", EXIT_USAGE)
    return text  # bytes decoded as they are: "\r\n" rows reach the csv reader as from a file


def _write_text(path: str, text: str, what: str) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as target:
            target.write(text)
    except OSError as error:
        _fail(f"Cannot write the {what} {path}: {error.strerror or error}.", EXIT_USAGE)


async def _on_portal(args: argparse.Namespace, work: Callable[[Any], Awaitable[T]], *, session: bool = True) -> T:
    """Run `work(client)` on the profile's portal, logged in unless `session` is false."""
    from seattui.domain.errors import InvalidCredentials, Unauthenticated
    from seattui.wiring import connector_for

    if session:
        name, profile, token = _logged_in(args)
    else:
        (name, profile), token = _profile(args), None
    connector = connector_for(profile)
    try:
        async with await connector.open(token) as client:
            return await work(client)
    except Unauthenticated as error:
        if not session or isinstance(error, InvalidCredentials):
            raise
        _session_refused(name, error)
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
