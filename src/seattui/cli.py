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
from collections.abc import Awaitable, Callable, Sequence
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


# -- the terminal app ---------------------------------------------------------------------


def cmd_app(args: argparse.Namespace) -> int:
    return run_terminal_app(args.profile)


def run_terminal_app(profile_name: str | None) -> int:
    """The full-screen app; the portal's logs go to a file so they never draw over it."""
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


# -- portal operations --------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from seattui.config import default_database
    from seattui.logs import configure_portal_logging
    from seattui.portal.app import create_app
    from seattui.portal.server import TrustedProxyError, uvicorn_options

    try:
        options = uvicorn_options(trusted=args.trusted_proxy)
    except TrustedProxyError as error:
        _fail(str(error), EXIT_USAGE)
    database = args.db or str(default_database())
    overrides: dict[str, Any] = {}
    if args.catalog:
        overrides["catalog_path"] = args.catalog
    configure_portal_logging(args.log_level, args.log_format, args.access_log)
    if args.workers < 1:
        _fail("--workers takes a number of processes, 1 or more.", EXIT_USAGE)
    try:
        settings = _serve_settings(args, database, overrides)
        app = create_app(settings) if args.workers == 1 else None
    except Exception as error:  # a bad catalog or database URL: say it and stop
        _fail(str(error), EXIT_USAGE)
    _run(_ready_to_serve(settings))
    _say(f"seattui portal on http://{args.host}:{args.port} (database: {database})", flush=True)
    serving: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": args.log_level,
                               "log_config": None, "access_log": False,
                               **options}
    if app is None:  # the workers are processes of their own, built by the app factory
        _export_serve_options(args, database)
    if args.metrics and args.metrics_port is not None:
        from seattui.portal.metrics import serve_apart

        serve_apart(args.metrics_host, args.metrics_port, app.state.metrics if app is not None else None)
    if app is None:
        uvicorn.run("seattui.portal.app:create_app", factory=True, workers=args.workers, **serving)
    else:
        uvicorn.run(app, **serving)
    return EXIT_OK


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


async def _ready_to_serve(settings: Any) -> None:
    """Migrate and check the database before uvicorn starts, so a failure is one line."""
    portal = await _started_portal(settings)
    await portal.close()


async def _with_portal(database: str | None, work: Callable[[Any], Awaitable[int]]) -> int:
    """Run an administration command directly on a portal's database."""
    from seattui.wiring import portal_settings

    portal = await _started_portal(portal_settings(database))
    try:
        return await work(portal)
    finally:
        await portal.close()


def cmd_init(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from seattui.domain.accounts import NewOrganization
    from seattui.domain.money import format_credits, parse_credits
    from seattui.portal.services import accounts, license_files

    try:
        opening = parse_credits(args.credits)
    except ValueError as error:
        _fail(str(error), EXIT_USAGE)
    password = _read_password(args.password_stdin, confirm=True)
    try:
        new = NewOrganization(
            organization_name=args.org, owner_login=args.login, owner_name=args.name or "", password=password
        )
    except ValidationError as error:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()), EXIT_USAGE)

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            await accounts.create_organization(portal, conn, new, opening)
            kid = await license_files.ensure_signing_key(conn, portal.now())
        _say(f"Created {new.organization_name} with its owner {new.owner_login.lower()} "
             f"and {format_credits(opening)} credits.")
        _say(f"License files are signed with key {kid} (seattui signing-key public prints the public keys).")
        _say("Next: seattui serve, then seattui login --portal http://HOST:PORT --login "
              f"{new.owner_login.lower()}")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_grant(args: argparse.Namespace) -> int:
    from seattui.domain.money import format_credits, parse_credits
    from seattui.portal.context import Tx
    from seattui.portal.services import accounts, credits

    try:
        amount = parse_credits(args.amount)
    except ValueError as error:
        _fail(str(error), EXIT_USAGE)
    if amount <= 0:
        _fail("A grant adds credits: give an amount above zero.", EXIT_USAGE)

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            org = await accounts.organization_by_name(conn, args.org)
            tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now())
            await accounts.opening_grant(tx, amount, args.memo or "Credits from the portal's operator")
            balance = await credits.balance_of(conn, org.org_id)
        _say(f"{args.org}: +{format_credits(amount)} credits, balance {format_credits(balance)}.")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_useradd(args: argparse.Namespace) -> int:
    from seattui.domain.roles import Role
    from seattui.portal.context import Tx
    from seattui.portal.services import accounts

    password = _read_password(args.password_stdin, confirm=True)

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            org = await accounts.organization_by_name(conn, args.org)
            tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now())
            await accounts.add_user(tx, portal.hasher, login=args.login, password=password, role=Role(args.role),
                                    display_name=args.name or "")
        _say(f"Added {args.login.lower()} to {args.org} as {args.role}.")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_demo(args: argparse.Namespace) -> int:
    from seattui.config import Profile, data_dir, save_profile
    from seattui.portal.seed import DEMO_LOGIN, DEMO_PASSWORD, seed_demo

    database = args.db or str(data_dir() / "demo.db")

    async def work(portal: Any) -> int:
        seeded = await seed_demo(portal)
        if seeded is None:
            _say(f"The demo database {database} has data already; it was left as it is.", file=sys.stderr)
        return EXIT_OK

    _run(_with_portal(database, work))
    _say(f"login: {DEMO_LOGIN}")
    _say(f"password: {DEMO_PASSWORD}", flush=True)
    # The app's screen hides what was printed: the login screen says it again.
    note = f"Demo data: log in as {DEMO_LOGIN}, password {DEMO_PASSWORD}"
    save_profile("demo", Profile(portal="embedded", login=DEMO_LOGIN, database=database, note=note))
    if args.seed_only:
        return EXIT_OK
    return run_terminal_app("demo")


# -- serve's options from the environment and a config file --------------------------------
# Generic over the parser: every option of a command built with _configurable() is also read
# from SEATTUI_<OPTION> and from the --config TOML file (flags win, then the environment), so
# an option added later needs no code here.

_NOT_OPTIONS = {"handler", "profile", "portal_config", "options_parser"}


def _configurable(command: argparse.ArgumentParser) -> None:
    command.add_argument("--config", dest="portal_config", metavar="FILE",
                         help="a TOML file of these options, named as the flags without -- "
                              "(env SEATTUI_PORTAL_CONFIG); every option is also read from SEATTUI_<OPTION>, "
                              "and flags win over the environment, which wins over the file")
    command.set_defaults(options_parser=command)


def _option_actions(command: argparse.ArgumentParser) -> list[argparse.Action]:
    return [action for action in command._actions
            if action.option_strings and action.dest not in _NOT_OPTIONS and action.dest != argparse.SUPPRESS
            and not isinstance(action, (argparse._HelpAction, argparse._VersionAction))]


def _option_value(action: argparse.Action, raw: Any, source: str) -> Any:
    """A value from the environment or the file, checked as argparse checks the flag's."""
    from seattui.logs import TRUE_WORDS

    flag = action.option_strings[-1] if isinstance(action, argparse.BooleanOptionalAction) else action.option_strings[0]
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)):
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word not in TRUE_WORDS + ("0", "false", "no", "off"):
            _fail(f"{source}: {raw!r} is not a yes or no for {flag}; write true or false.", EXIT_USAGE)
        return word in TRUE_WORDS
    if isinstance(action, argparse._AppendAction):
        items = raw if isinstance(raw, list) else [part.strip() for part in str(raw).split(",") if part.strip()]
        return [_one_value(action, item, source) for item in items]
    return _one_value(action, raw, source)


def _one_value(action: argparse.Action, raw: Any, source: str) -> Any:
    convert = action.type or str
    try:
        value = convert(str(raw))  # type: ignore[operator]
    except (TypeError, ValueError, argparse.ArgumentTypeError):
        _fail(f"{source}: {raw!r} is not a value {action.option_strings[0]} takes.", EXIT_USAGE)
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        _fail(f"{source}: {raw!r} is not one of {choices}.", EXIT_USAGE)
    return value


def _apply_configured_defaults(command: argparse.ArgumentParser, config_file: str | None) -> None:
    from seattui.portal.options import CONFIG_FILE_ENV, OptionsError, env_name, read_config_file, setting_names

    config_file = config_file or os.environ.get(CONFIG_FILE_ENV)
    try:
        from_file = read_config_file(config_file) if config_file else {}
    except OptionsError as error:
        _fail(str(error), EXIT_USAGE)
    actions = _option_actions(command)
    # Beyond the flags, a file may set any portal setting by its name (activation_limit...).
    unknown = sorted(set(from_file) - {action.dest for action in actions} - setting_names())
    if unknown:
        known = ", ".join(sorted(action.option_strings[0].removeprefix("--") for action in actions))
        _fail(f"{config_file}: unknown option(s) {', '.join(unknown)}; the options are {known}, and the "
              "portal's settings by name.", EXIT_USAGE)
    defaults: dict[str, Any] = {}
    for action in actions:
        name = env_name(action.dest)
        if name in os.environ:
            defaults[action.dest] = _option_value(action, os.environ[name], name)
        elif action.dest in from_file:
            defaults[action.dest] = _option_value(action, from_file[action.dest], f"{config_file}: {action.dest}")
    command.set_defaults(**defaults)


def _serve_options(args: argparse.Namespace) -> dict[str, Any]:
    return {name: value for name, value in vars(args).items() if name not in _NOT_OPTIONS}


def _serve_settings(args: argparse.Namespace, database: str, overrides: dict[str, Any]) -> Any:
    from seattui.portal.options import options_from_environment, settings_from_options
    from seattui.wiring import portal_settings

    made = portal_settings(database)  # a SQLite file's folder is created, the URL normalised
    # As the app factory does: settings that are no flag come from the environment and file too.
    given = {**options_from_environment(config_file=args.portal_config), **_serve_options(args),
             "db": made.database_url}
    return settings_from_options(given, metrics=args.metrics, metrics_on_api=args.metrics_port is None, **overrides)


def _export_serve_options(args: argparse.Namespace, database: str) -> None:
    """Several workers are other processes, built by the app factory from the environment."""
    from seattui.portal.metrics import MULTIPROCESS_ENV
    from seattui.portal.options import CONFIG_FILE_ENV, env_name

    if args.portal_config:  # the file's settings that are no flag
        os.environ[CONFIG_FILE_ENV] = str(args.portal_config)
    for name, value in {**_serve_options(args), "db": database}.items():
        if value is None:
            continue
        text_value = ("true" if value else "false") if isinstance(value, bool) else (
            ",".join(map(str, value)) if isinstance(value, list) else str(value))
        os.environ[env_name(name)] = text_value
    if args.metrics and not os.environ.get(MULTIPROCESS_ENV):
        import atexit
        import shutil
        import tempfile

        # The workers' figures, summed at each scrape; they start again from zero with serve.
        folder = tempfile.mkdtemp(prefix="seattui-metrics-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ[MULTIPROCESS_ENV] = folder


# -- mail ----------------------------------------------------------------------------------


def cmd_outbox(args: argparse.Namespace) -> int:
    """What the portal's mail delivery has not handed to the SMTP server yet, or gave up on."""
    import json

    from seattui.portal.services import outbox

    async def work(portal: Any) -> int:
        if args.retry_failed:
            async with portal.store.write() as conn:
                count = await outbox.retry_failed(conn, portal.now())
            print(f"{count} failed mail(s) will be tried again by the running portal." if count
                  else "No mail had failed.")
            return EXIT_OK
        async with portal.store.read() as conn:
            mails = await outbox.undelivered(conn)
        if args.json:
            print(json.dumps([mail.model_dump(mode="json") for mail in mails], indent=2))
            return EXIT_OK
        if not mails:
            print("The outbox is empty: every mail was sent.")
            return EXIT_OK
        for mail in mails:
            when = mail.next_attempt_at.strftime("%Y-%m-%d %H:%M UTC")
            state = f"failed after {mail.attempts} tries" if mail.status == "failed" else (
                f"waiting, try {mail.attempts + 1} at {when}")
            print(f"{mail.id:>6}  {state}  to {mail.to}: {mail.subject} ({mail.cause})")
            if mail.last_error:
                print(f"        last error: {mail.last_error}")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


# -- the portal's data: backups, restores, copies between databases ------------------------


def cmd_backup(args: argparse.Namespace) -> int:
    """A consistent copy of the portal's database while it runs (SQLite), or pg_dump's."""
    from pathlib import Path

    from seattui.config import default_database
    from seattui.portal.store import DatabaseUrlError
    from seattui.portal.store.backup import BackupError, backup_postgresql, backup_sqlite, sqlite_path

    database = args.db or str(default_database())
    output = Path(args.output).expanduser()
    try:
        path = sqlite_path(database)
        if path is None:
            backup_postgresql(database, output, replace=args.force)
            print(f"Dumped the portal's PostgreSQL database to {output} (restore with pg_restore).")
            return EXIT_OK
        copy = backup_sqlite(path, output, replace=args.force)
    except DatabaseUrlError as error:
        _fail(str(error), EXIT_USAGE)
    except BackupError as error:
        _fail(str(error))
    print(f"Backed up {path} to {copy.path} ({copy.size // 1024} KiB, schema {copy.schema or 'none'}, "
          "integrity checked).")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from seattui.config import default_database
    from seattui.portal.store import DatabaseUrlError
    from seattui.portal.store.backup import BackupError, restore_sqlite, sqlite_path

    database = args.db or str(default_database())
    try:
        path = sqlite_path(database)
        if path is None:
            _fail("seattui restore is for SQLite portals; a PostgreSQL dump goes back with "
                  f"pg_restore --clean --no-owner --dbname=URL {args.backup}", EXIT_USAGE)
        copy = restore_sqlite(Path(args.backup).expanduser(), path, replace=args.force)
    except DatabaseUrlError as error:
        _fail(str(error), EXIT_USAGE)
    except BackupError as error:
        _fail(str(error))
    print(f"Restored {args.backup} into {copy.path} (schema {copy.schema}); start the portal on it.")
    return EXIT_OK


def cmd_db_copy(args: argparse.Namespace) -> int:
    from seattui.portal.store import DatabaseUnavailable, DatabaseUrlError, SchemaTooNew
    from seattui.portal.store.copy import CopyRefused, copy_database

    def progress(table: str, rows: int) -> None:
        print(f"  {table:<22} {rows:>9} rows", flush=True)

    try:
        report = asyncio.run(copy_database(args.source, args.target, progress))
    except DatabaseUrlError as error:
        _fail(str(error), EXIT_USAGE)
    except (CopyRefused, DatabaseUnavailable, SchemaTooNew) as error:
        _fail(str(error))
    print(f"Copied {report.total_rows} rows; row counts and the ledgers of {len(report.ledger)} "
          "organization(s) match. Point the portal at the new database (--db).")
    return EXIT_OK


def _add_data_commands(commands: Any, db_help: str) -> None:
    backup = commands.add_parser(
        "backup", help="back up the portal's database, even while it runs",
        description="Back up the portal's database. SQLite: a consistent copy in one file, taken while the "
                    "portal runs and checked. PostgreSQL: pg_dump's custom format (pg_restore reads it).")
    backup.add_argument("--db", help=f"{db_help}; default: the embedded portal's")
    backup.add_argument("-o", "--output", required=True, metavar="FILE", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(handler=cmd_backup)

    restore = commands.add_parser(
        "restore", help="put a SQLite backup back in place of the portal's database",
        description="Restore a SQLite portal from a backup made by seattui backup (stop the portal first).")
    restore.add_argument("backup", metavar="FILE", help="the backup file")
    restore.add_argument("--db", help="the portal's SQLite file or sqlite:/// URL; default: the embedded portal's")
    restore.add_argument("--force", action="store_true", help="replace the data of a database that exists")
    restore.set_defaults(handler=cmd_restore)

    db = commands.add_parser("db", help="move a portal's data between databases",
                             description="Move a portal's data between databases.")
    db_commands = db.add_subparsers(title="commands", metavar="COMMAND", required=True)
    copy = db_commands.add_parser(
        "copy", help="copy every table into a new, empty database (SQLite to PostgreSQL)",
        description="Copy every table of a portal, ids kept, into a freshly migrated, empty database; "
                    "then check the row counts and each organization's ledger. Stop the portal first.")
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="the portal's database now")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="an empty database (postgresql://...)")
    copy.set_defaults(handler=cmd_db_copy)


# -- the profile's session ----------------------------------------------------------------


def _profile(args: argparse.Namespace) -> tuple[str, Any]:
    from seattui.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as error:
        _fail(str(error), EXIT_USAGE)
    name = args.profile or config.default_profile
    return name, config.profile(name)


def cmd_login(args: argparse.Namespace) -> int:
    from seattui.config import EMBEDDED, Profile, save_profile, save_token
    from seattui.wiring import connector_for

    name, current = _profile(args)
    portal = args.portal or current.portal
    if portal != EMBEDDED and not portal.startswith(("http://", "https://")):
        _fail(f"--portal takes 'embedded' or a URL like http://HOST:PORT, not {portal!r}.", EXIT_USAGE)
    login = args.login or current.login
    if not login:
        if not sys.stdin.isatty():
            _fail("Give the login with --login.", EXIT_USAGE)
        login = input("Login: ").strip()
    password = _read_password(args.password_stdin)
    database = args.db or (current.database if portal == EMBEDDED else None)
    profile = Profile(portal=portal, login=login, database=database)

    async def work() -> int:
        connector = connector_for(profile)
        try:
            client = await connector.open(None)
            async with client:
                session = await client.login(login, password)
        finally:
            await connector.close()
        save_profile(name, profile)
        save_token(name, session.token)
        me = session.me
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
    from seattui.config import load_token
    from seattui.domain.errors import Unauthenticated
    from seattui.wiring import connector_for

    name, profile = _profile(args)
    token = load_token(name)
    if token is None:
        _fail(f"Profile {name!r} is not logged in: run seattui login first.")

    async def work() -> int:
        connector = connector_for(profile)
        try:
            async with await connector.open(token) as client:
                balance = await client.balance()
        except Unauthenticated as error:
            _fail(f"{error.message} (seattui login)")
        finally:
            await connector.close()
        if args.json:
            _say(balance.model_dump_json())
        else:
            from seattui.domain.money import format_credits

            _say(f"{balance.organization}: {format_credits(balance.balance)} {balance.unit}")
        return EXIT_OK

    return _run(work())


# -- seat reassignment from a plan file (#6) ---------------------------------------------


def cmd_reassign(args: argparse.Namespace) -> int:
    """Apply (or --dry-run) a CSV plan of seat moves whole: 0 applied (or a clean dry run),
    1 refused with a reason per row, 2 bad usage or an unreadable file."""
    from seattui.config import load_token
    from seattui.domain.csvfile import RowProblem
    from seattui.domain.errors import BatchRefused, Unauthenticated, ValidationFailed
    from seattui.domain.seating import MAX_MOVES, BatchOutcome, parse_plan, refused_moves
    from seattui.wiring import connector_for

    try:
        with open(args.plan, encoding="utf-8-sig", newline="") as plan_file:
            text = plan_file.read()
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"Cannot read {args.plan}: {getattr(error, 'strerror', None) or error}.", EXIT_USAGE)
    try:
        planned, problems = parse_plan(text)
    except ValidationFailed as error:
        _fail(f"{args.plan}: {error.message}", EXIT_USAGE)
    if not planned and not problems:
        _fail(f"{args.plan} has no moves under its header.", EXIT_USAGE)
    if len(planned) > MAX_MOVES:
        _fail(f"{args.plan} has {len(planned):,} moves; one batch, applied whole, takes at most {MAX_MOVES:,}. "
              "Split the plan into files of at most that many rows.", EXIT_USAGE)
    name, profile = _profile(args)
    token = load_token(name)
    if token is None:
        _fail(f"Profile {name!r} is not logged in: run seattui login first.", EXIT_USAGE)
    lines = [line for line, _ in planned]
    moves = [move for _, move in planned]
    dry_run = args.dry_run or bool(problems)  # a file with bad rows is only ever checked

    async def work() -> BatchOutcome | None:
        if not moves:
            return None
        connector = connector_for(profile)
        try:
            async with await connector.open(token) as client:
                return await client.reassign(moves, dry_run=dry_run)
        except BatchRefused as error:
            refused = refused_moves(error.details)
            return BatchOutcome(moves=refused)
        except Unauthenticated as error:
            _fail(f"{error.message} (seattui login)")
        finally:
            await connector.close()

    outcome = _run(work())
    refused = problems + [RowProblem(line=lines[move.index], reason=move.problem)
                          for move in (outcome.moves if outcome else []) if move.problem]
    refused.sort(key=lambda problem: problem.line)
    applied = outcome is not None and outcome.applied
    if args.json:
        import json

        _say(json.dumps(_plan_report(args.plan, dry_run, outcome, lines, refused)))
    else:
        _print_plan(args.plan, dry_run, outcome, lines, refused, total=len(moves) + len(problems))
    return EXIT_OK if applied or (args.dry_run and not refused) else EXIT_REFUSED


def _plan_report(plan: str, dry_run: bool, outcome: Any, lines: list[int], refused: list[Any]) -> dict[str, Any]:
    moves = [
        {"line": lines[move.index], "product": move.product_id or None, "from_email": move.from_email,
         "from_name": move.from_name, "to_email": move.to_email, "to_name": move.to_name, "problem": move.problem}
        for move in (outcome.moves if outcome else [])
    ]
    return {
        "plan": plan, "dry_run": dry_run, "applied": bool(outcome and outcome.applied),
        "batch_id": outcome.batch_id if outcome else None, "count": outcome.count if outcome and not refused else 0,
        "products": outcome.products if outcome and not refused else {}, "moves": moves,
        "refused": [{"line": problem.line, "reason": problem.reason} for problem in refused],
    }


def _print_plan(plan: str, dry_run: bool, outcome: Any, lines: list[int], refused: list[Any], *, total: int) -> None:
    if outcome is not None and outcome.applied:
        counts = ", ".join(f"{product} {count}" for product, count in outcome.products.items())
        _say(f"Applied {outcome.count} move(s) of {plan} in batch {outcome.batch_id} ({counts}).")
        _say("Undo it from the app: the employees screen (e), seat batches (b), u.")
        return
    for move in outcome.moves if outcome else []:
        if not move.problem:
            _say(f"line {lines[move.index]:>4}  {move.product_id:<12} {move.from_name} <{move.from_email}>"
                  f"  ->  {move.to_name} <{move.to_email}>")
    for problem in refused:
        _say(f"line {problem.line:>4}  refused: {problem.reason}")
    if refused:
        _say(f"{len(refused)} of {total} row(s) refused; nothing was changed. Fix those rows and run it again.")
    elif dry_run:
        _say(f"Dry run: all {outcome.count if outcome else 0} move(s) would apply; nothing was changed.")


# -- license files: signing keys, files, offline activation, verification ----------------


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


def cmd_signing_key_rotate(args: argparse.Namespace) -> int:
    from seattui.portal.services import license_files

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            kid = await license_files.rotate(conn, portal.now())
        print(f"New signing key {kid}: license files are signed with it from now on. Files signed before stay "
              "valid until they expire; give the licensed software the new public keys (seattui signing-key public).")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_signing_key_public(args: argparse.Namespace) -> int:
    if args.db:
        from seattui.domain.license_file import keyring_text
        from seattui.portal.services import license_files

        async def work(portal: Any) -> int:
            async with portal.store.write() as conn:
                await license_files.ensure_signing_key(conn, portal.now())
                print(keyring_text(await license_files.public_keys(conn)), end="")
            return EXIT_OK

        return _run(_with_portal(args.db, work))

    async def fetch(client: Any) -> Any:
        return await client.signing_keys()

    published = _run(_on_portal(args, fetch, session=False))
    print(published.model_dump_json() if args.json else published.text, end="\n" if args.json else "")
    return EXIT_OK


def _chosen_license(detail: Any, product_id: str, machine: str | None) -> Any:
    """The key's license of the product a file is for: the one on the machine, else a live
    permanent one before a trial or a seat plan, newest first."""
    from seattui.domain.licensing import LicenseStatus, Term

    found = [license for license in detail.licenses if license.product_id == product_id]
    if machine is not None:
        on_machine = [license for license in found if license.device and license.device.fingerprint == machine]
        found = on_machine or found
    live = (LicenseStatus.ASSIGNED, LicenseStatus.ACTIVATED)
    return min(found, key=lambda license: (license.status not in live, license.term is not Term.PERMANENT,
                                           -license.id), default=None)


def cmd_license_file(args: argparse.Namespace) -> int:
    from seattui.domain.keys import InvalidActivationKey, parse_key

    try:
        key = parse_key(args.key)
    except InvalidActivationKey as error:
        _fail(str(error), EXIT_USAGE)

    async def work(client: Any) -> tuple[str, str]:
        match = next((item for item in (await client.keys(query=key, limit=5)).items if item.key == key), None)
        if match is None:
            _fail(f"There is no activation key {key} in your organization.")
        detail = await client.key(match.id)
        license = _chosen_license(detail, args.product, args.machine)
        if license is not None:
            return await client.license_file(license.id, machine=args.machine), f"license {license.id}"
        subscription = next((s for s in detail.subscriptions if s.product_id == args.product), None)
        if subscription is None:
            products = sorted({item.product_id for item in [*detail.licenses, *detail.subscriptions]})
            _fail(f"The key {key} holds no license of {args.product}"
                  + (f" (it holds {', '.join(products)})." if products else "; it holds nothing yet."))
        if args.machine:
            _fail("A subscription's file is not bound to a machine; leave out --machine.", EXIT_USAGE)
        return await client.subscription_file(subscription.id), f"subscription {subscription.id}"

    text, what = _run(_on_portal(args, work))
    if args.output:
        _write_text(args.output, text, "license file")
        print(f"Wrote the file of {what} on {key} ({args.product}) to {args.output}.")
    else:
        print(text, end="")
    return EXIT_OK


def _offline(args: argparse.Namespace, deactivate: bool) -> int:
    request = _read_text(args.request, "request file")

    async def work(client: Any) -> Any:
        return await (client.offline_deactivate(request) if deactivate else client.offline_activate(request))

    answer = _run(_on_portal(args, work))
    _write_text(args.output, answer.file, "release receipt" if deactivate else "machine file")
    machine = f"{answer.hostname} ({answer.fingerprint})" if answer.hostname else answer.fingerprint
    if deactivate:
        print(f"Released license {answer.license_id} on {answer.key} ({answer.product_id}) from machine {machine}; "
              f"the signed release receipt is {args.output}.")
    else:
        print(f"Activated license {answer.license_id} on {answer.key} ({answer.product_id}) on machine {machine}; "
              f"its machine file is {args.output}: give it to that machine.")
    return EXIT_OK


def cmd_license_offline_activate(args: argparse.Namespace) -> int:
    return _offline(args, deactivate=False)


def cmd_license_offline_deactivate(args: argparse.Namespace) -> int:
    return _offline(args, deactivate=True)


def cmd_license_request(args: argparse.Namespace) -> int:
    from seattui.domain.license_file import DeviceFileRequest, device_request_text

    text = device_request_text(DeviceFileRequest(
        action="deactivate" if args.deactivate else "activate", key=args.key.upper(), product_id=args.product,
        fingerprint=args.fingerprint, hostname=args.hostname or ""))
    if args.output:
        _write_text(args.output, text, "request file")
        print(f"Wrote the request to {args.output}; the portal's administrator answers it with "
              f"seattui license offline-{'deactivate' if args.deactivate else 'activate'}.")
    else:
        print(text, end="")
    return EXIT_OK


def cmd_license_verify(args: argparse.Namespace) -> int:
    """0: the file is authentic and valid now (and current, with --online); 1: refused, saying
    why; 2: a file that cannot be read."""
    from datetime import UTC, datetime

    from seattui.domain.license_file import (
        LicenseFileRefused,
        describe,
        parse_keyring,
        read_license_file,
        verify_license_file,
    )

    text = _read_text(args.file, "license file")
    if args.public_key:
        try:
            keys = parse_keyring(_read_text(args.public_key, "public keys file"))
        except LicenseFileRefused as refused:
            _fail(f"{args.public_key}: {refused.message}", EXIT_USAGE)
    else:
        async def fetch(client: Any) -> Any:
            return await client.signing_keys()

        keys = parse_keyring(_run(_on_portal(args, fetch, session=False)).text)
    try:
        kind = read_license_file(text, keys).facts.kind
        facts = verify_license_file(text, keys, now=datetime.now(UTC), machine=args.machine,
                                    product_id=args.product, kind=kind)
    except LicenseFileRefused as refused:
        _fail(f"{args.file} is not valid: {refused.message}")
    if args.online:
        async def check(client: Any) -> Any:
            return await client.check_license_file(text)

        verdict = _run(_on_portal(args, check, session=False))
        if verdict.verdict.value != "current":
            fetch = (f" Write the new one with: seattui license file {facts.key} --product {facts.product_id}"
                     + (f" --machine {facts.machine}" if facts.machine else "") + " -o FILE.") if verdict.file else ""
            _fail(f"{args.file} verifies, but the portal says: {verdict.message}{fetch}")
    print(f"{args.file}: valid, signed by the portal" + (" and current" if args.online else "") + ".")
    print(describe(facts))
    return EXIT_OK


# -- the parser ---------------------------------------------------------------------------


# -- invoices and billing ------------------------------------------------------------------


def cmd_terms_set(args: argparse.Namespace) -> int:
    """The operator sets an organization's payment terms, directly on the portal's database."""
    from seattui.domain.billing import DEFAULT_DUE_DAYS, MAX_DUE_DAYS, BillingTerms, PaymentTerms
    from seattui.domain.money import parse_credits
    from seattui.portal.context import Tx
    from seattui.portal.services import accounts, billing

    if args.terms == "prepaid":
        if args.credit_limit is not None or args.due_days is not None:
            _fail("prepaid takes neither --credit-limit nor --due-days.", EXIT_USAGE)
        terms = BillingTerms()
    else:
        if args.credit_limit is None:
            _fail("monthly needs --credit-limit AMOUNT (what may stay unpaid, like 5000).", EXIT_USAGE)
        try:
            limit = parse_credits(args.credit_limit)
        except ValueError as error:
            _fail(str(error), EXIT_USAGE)
        due_days = DEFAULT_DUE_DAYS if args.due_days is None else args.due_days
        if limit < 0 or not 0 <= due_days <= MAX_DUE_DAYS:
            _fail(f"Give a credit limit of 0 or more and --due-days from 0 to {MAX_DUE_DAYS}.", EXIT_USAGE)
        terms = BillingTerms(terms=PaymentTerms.MONTHLY, credit_limit=limit, due_days=due_days)

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            org = await accounts.organization_by_name(conn, args.org)
            await billing.set_terms(Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now()), terms)
        print(f"{args.org}: {billing.terms_words(terms)}.")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_billing_run(args: argparse.Namespace) -> int:
    from datetime import date

    from seattui.portal.billing_run import run_billing

    as_of: date | None = None
    if args.as_of:
        try:
            as_of = date.fromisoformat(args.as_of)
        except ValueError:
            _fail(f"--as-of takes a date like 2026-12-01, not {args.as_of!r}.", EXIT_USAGE)

    async def work(portal: Any) -> int:
        report = await run_billing(portal.store, as_of or portal.now().date(), portal.now)
        if args.json:
            print(report.model_dump_json())
            return EXIT_OK
        closed = ", ".join(report.periods) or "no new month"
        print(f"Billing run as of {report.as_of}: closed {closed}; finalized {len(report.finalized)} invoices"
              + (f" ({report.finalized[0]} to {report.finalized[-1]})" if report.finalized else "") + ".")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


async def _client_work(args: argparse.Namespace, work: Callable[[Any], Awaitable[int]]) -> int:
    """Run `work(client)` with the profile's logged-in client."""
    from seattui.config import load_token
    from seattui.domain.errors import Unauthenticated
    from seattui.wiring import connector_for

    name, profile = _profile(args)
    token = load_token(name)
    if token is None:
        _fail(f"Profile {name!r} is not logged in: run seattui login first.")
    connector = connector_for(profile)
    try:
        async with await connector.open(token) as client:
            return await work(client)
    except Unauthenticated as error:
        _fail(f"{error.message} (seattui login)")
    finally:
        await connector.close()


def _invoice_row(invoice: Any) -> str:
    from seattui.domain.money import format_credits

    number = invoice.number or f"draft {invoice.id}"
    period = f"{invoice.period_start} to {invoice.period_end}"
    due = f"due {invoice.due_on}" if invoice.due_on and invoice.status.value == "open" else invoice.status.value
    return (f"{number:<16} {invoice.kind.value:<8} {period:<25} {format_credits(invoice.total):>12}  "
            f"{due}{'  OVERDUE' if invoice.overdue else ''}")


def cmd_invoices(args: argparse.Namespace) -> int:
    import json

    async def work(client: Any) -> int:
        page = await client.invoices(unpaid=args.unpaid)
        found = list(page.items)
        while page.next_cursor:
            page = await client.invoices(cursor=page.next_cursor)
            found.extend(page.items)
        if args.json:
            print(json.dumps([invoice.model_dump(mode="json", exclude={"lines"}) for invoice in found]))
        elif not found:
            print("No unpaid invoices." if args.unpaid else "No invoices yet.")
        else:
            for invoice in found:
                print(_invoice_row(invoice))
        return EXIT_OK

    return _run(_client_work(args, work))


def cmd_invoice_show(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        from seattui.domain.money import format_credits

        invoice = await client.invoice(args.number)
        if args.json:
            print(invoice.model_dump_json())
            return EXIT_OK
        print(_invoice_row(invoice))
        for line in invoice.lines:
            period = f" ({line.service_start} to {line.service_end})" if line.service_start else ""
            print(f"  {line.quantity:>5} x {format_credits(line.unit_price):>10}  {format_credits(line.amount):>12}  "
                  f"{line.description}{period}")
        print(f"  total {format_credits(invoice.total)}, paid {format_credits(invoice.paid)}, "
              f"due {format_credits(invoice.due)}")
        return EXIT_OK

    return _run(_client_work(args, work))


def cmd_invoice_pay(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        from seattui.domain.money import format_credits

        invoice = await client.invoice(args.number)
        balance = (await client.balance()).balance
        if not args.yes:
            if not sys.stdin.isatty():
                _fail("Paying debits credits: confirm with --yes when there is no terminal to ask.", EXIT_USAGE)
            answer = input(f"Pay {invoice.number or invoice.id} ({format_credits(invoice.due)} credits; balance "
                           f"after {format_credits(balance - invoice.due)})? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing was paid.")
                return EXIT_REFUSED
        paid = await client.pay_invoice(args.number)
        after = (await client.balance()).balance
        print(f"Paid {paid.number}: {format_credits(invoice.due)} credits, balance {format_credits(after)}.")
        return EXIT_OK

    return _run(_client_work(args, work))


def _add_billing_commands(commands: Any, db_help: str) -> None:
    terms = commands.add_parser("terms", help="set an organization's payment terms (portal operator)",
                                description="How an organization pays, set directly on the portal's database.")
    terms_commands = terms.add_subparsers(title="commands", metavar="COMMAND", required=True)
    terms_set = terms_commands.add_parser(
        "set", help="prepaid, or monthly invoice with a credit limit",
        description="prepaid: orders are paid from credits at once. monthly: orders go on the month's invoice, "
                    "refused past --credit-limit unpaid; the invoice is due --due-days after it is issued.")
    terms_set.add_argument("terms", choices=["prepaid", "monthly"])
    terms_set.add_argument("--org", required=True, help="the organization's name")
    terms_set.add_argument("--credit-limit", help="monthly: what may stay unpaid, like 5000 or 2500.50")
    terms_set.add_argument("--due-days", type=int, help="monthly: days to pay an invoice (default: 30)")
    terms_set.add_argument("--db", help=db_help)
    terms_set.set_defaults(handler=cmd_terms_set)

    billing = commands.add_parser("billing", help="the billing run (portal operator)",
                                  description="Billing jobs, directly on the portal's database.")
    billing_commands = billing.add_subparsers(title="commands", metavar="COMMAND", required=True)
    run = billing_commands.add_parser(
        "run", help="finalize the invoices of months that have ended",
        description="Finalize every monthly invoice of a month before --as-of's month. Safe to run again, "
                    "or from two places at once: each month is billed once.")
    run.add_argument("--as-of", help="the date to bill as of, like 2026-12-01 (default: today)")
    run.add_argument("--json", action="store_true", help='print {"as_of", "periods", "finalized", "already_billed"}')
    run.add_argument("--db", help=db_help)
    run.set_defaults(handler=cmd_billing_run)

    invoices = commands.add_parser("invoices", help="list the organization's invoices",
                                   description="Unpaid invoices first (drafts of this month included), then the rest.")
    invoices.add_argument("--unpaid", action="store_true", help="only drafts and finalized, unpaid invoices")
    invoices.add_argument("--json", action="store_true", help="print a JSON array of invoices (see the README)")
    invoices.set_defaults(handler=cmd_invoices)

    invoice = commands.add_parser("invoice", help="show or pay one invoice",
                                  description="One invoice, by number (INV-2026-000123) or a draft's id.")
    invoice_commands = invoice.add_subparsers(title="commands", metavar="COMMAND", required=True)
    show = invoice_commands.add_parser("show", help="the invoice with its lines")
    show.add_argument("number", metavar="NUMBER")
    show.add_argument("--json", action="store_true", help="print the invoice with its lines (see the README)")
    show.set_defaults(handler=cmd_invoice_show)
    pay = invoice_commands.add_parser("pay", help="pay the invoice from credits")
    pay.add_argument("number", metavar="NUMBER")
    pay.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    pay.set_defaults(handler=cmd_invoice_pay)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seattui",
        description="Software-license operations from the terminal. Without a command, opens the terminal app.",
    )
    parser.add_argument("--profile", help="the profile to use (default: the config's default profile)")
    parser.set_defaults(handler=cmd_app)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    db_help = "a SQLAlchemy URL (sqlite:///PATH, postgresql://USER@HOST/DB) or a SQLite file path"

    serve = commands.add_parser("serve", help="run the license portal for a team", description="Run the portal's API with uvicorn.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--db", help=f"{db_help}; default: a SQLite file under the data dir")
    serve.add_argument("--catalog", help="a product catalog TOML file instead of the default one")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                       help="a reverse proxy (IP address or network) whose X-Forwarded-For names the client; "
                            "repeatable; by default no forwarded header is believed")
    _add_mail_arguments(serve)
    _add_operations_arguments(serve)
    serve.set_defaults(handler=cmd_serve)

    waiting = commands.add_parser("outbox", help="list the mail waiting to be sent or given up on (operator)",
                                  description="List the portal's mail that is waiting for the SMTP server or "
                                              "failed, with the last error of each.")
    waiting.add_argument("--json", action="store_true", help="print a JSON list (fields as in the README)")
    waiting.add_argument("--retry-failed", action="store_true",
                         help="put the failed mail back in line (after fixing the SMTP settings or an address)")
    waiting.add_argument("--db", help=f"{db_help}; default: the embedded portal's")
    waiting.set_defaults(handler=cmd_outbox)

    init = commands.add_parser("init", help="create the first organization and its owner",
                               description="Create the vendor and a reseller organization with its owner.")
    init.add_argument("--db", help=db_help)
    init.add_argument("--org", required=True, help="the organization's name")
    init.add_argument("--login", required=True, help="the owner's login")
    init.add_argument("--name", help="the owner's display name")
    init.add_argument("--credits", default="1000.00", help="opening credits (default: 1000.00)")
    init.add_argument("--password-stdin", action="store_true", help="read the owner's password from standard input")
    init.set_defaults(handler=cmd_init)

    demo = commands.add_parser("demo", help="seed a demo database and open the app on it",
                               description="Seed a new database with demo data, print its login, open the app.")
    demo.add_argument("--db", help="the demo's SQLite file (default: demo.db under the data dir)")
    demo.add_argument("--seed-only", action="store_true", help="seed and print the login, do not open the app")
    demo.set_defaults(handler=cmd_demo)

    login = commands.add_parser("login", help="log in and keep the token in the profile",
                                description="Log in to a portal and store the session token in the profile.")
    login.add_argument("--portal", help="'embedded' or the portal's URL (default: the profile's)")
    login.add_argument("--login", help="your login (default: the profile's)")
    login.add_argument("--db", help="embedded only: the portal's database")
    login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    login.set_defaults(handler=cmd_login)

    logout = commands.add_parser("logout", help="revoke the profile's token", description="Log out: revoke and forget the token.")
    logout.set_defaults(handler=cmd_logout)

    credits = commands.add_parser("credits", help="print the credit balance",
                                  description="Print the organization's credit balance.")
    credits.add_argument("--json", action="store_true",
                         help='print {"organization", "balance", "unit"}; balance is a decimal string')
    credits.set_defaults(handler=cmd_credits)

    grant = commands.add_parser("grant", help="add credits to an organization (portal operator)",
                                description="Add credits to an organization, directly on the portal's database.")
    grant.add_argument("amount", help="credits to add, like 500 or 1250.50")
    grant.add_argument("--org", required=True, help="the organization's name")
    grant.add_argument("--memo", help="why (kept in the ledger)")
    grant.add_argument("--db", help=db_help)
    grant.set_defaults(handler=cmd_grant)

    useradd = commands.add_parser("useradd", help="add a user to an organization (portal operator)",
                                  description="Add a user with a role, directly on the portal's database.")
    useradd.add_argument("--org", required=True, help="the organization's name")
    useradd.add_argument("--login", required=True)
    useradd.add_argument("--role", required=True, choices=["owner", "admin", "operator", "viewer"])
    useradd.add_argument("--name", help="display name")
    useradd.add_argument("--db", help=db_help)
    useradd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    useradd.set_defaults(handler=cmd_useradd)

    reassign = commands.add_parser(
        "reassign", help="move seats between employees from a CSV plan",
        description="Move seats from a CSV plan with the columns from_email,to_email,product (product empty: "
                    "every seat of from_email). The plan is applied whole or not at all. Exit codes: 0 applied "
                    "(or a clean dry run), 1 refused with a reason per row, 2 bad usage or an unreadable file.")
    reassign.add_argument("plan", metavar="PLAN.csv", help="the plan file")
    reassign.add_argument("--dry-run", action="store_true", help="check the plan and print every move; change nothing")
    reassign.add_argument("--json", action="store_true",
                          help='print {"applied", "dry_run", "batch_id", "count", "products", "moves", "refused"}')
    reassign.set_defaults(handler=cmd_reassign)

    signing = commands.add_parser(
        "signing-key", help="the portal's license-file signing keys",
        description="The Ed25519 keys that sign license files. The private keys never leave the portal.")
    signing_commands = signing.add_subparsers(title="commands", metavar="COMMAND", required=True)
    rotate = signing_commands.add_parser(
        "rotate", help="sign with a new key from now on (portal operator)",
        description="Add a new signing key, directly on the portal's database. Files signed with the old keys "
                    "stay valid until they expire.")
    rotate.add_argument("--db", help=db_help)
    rotate.set_defaults(handler=cmd_signing_key_rotate)
    public = signing_commands.add_parser(
        "public", help="print the public keys (for the licensed software)",
        description="Print the portal's public signing keys, current first, as the file that the licensed "
                    "software and `seattui license verify --public-key` read.")
    public.add_argument("--db", help=f"{db_help}; default: ask the profile's portal")
    public.add_argument("--json", action="store_true", help='print {"current", "keys", "text"}')
    public.set_defaults(handler=cmd_signing_key_public)

    license = commands.add_parser("license", help="license files and offline activation",
                                  description="Signed license files, offline activation, and verification.")
    license_commands = license.add_subparsers(title="commands", metavar="COMMAND", required=True)
    file = license_commands.add_parser(
        "file", help="write the signed file of a license (or subscription)",
        description="Write the signed file of the key's license of a product: valid 30 days (or to the license's "
                    "end); with --machine, a machine file for the machine that holds the activation.")
    file.add_argument("key", metavar="KEY", help="the activation key")
    file.add_argument("--product", required=True, metavar="ID", help="the product's id, like remotedesk")
    file.add_argument("-o", "--output", metavar="FILE", help="write it here (default: print it)")
    file.add_argument("--machine", metavar="FINGERPRINT", help="bind the file to this machine")
    file.set_defaults(handler=cmd_license_file)
    for action in ("activate", "deactivate"):
        offline = license_commands.add_parser(
            f"offline-{action}", help=f"{action} a machine that cannot reach the portal, from its request file",
            description=(f"{action.capitalize()} the machine of a request file exactly as an online "
                         f"{action[:-1]}ion would, and write "
                         + ("its machine file." if action == "activate" else "the signed release receipt.")))
        offline.add_argument("request", metavar="REQUEST", help="the request file the licensed software wrote")
        offline.add_argument("-o", "--output", required=True, metavar="RESPONSE",
                             help="where to write the " + ("machine file" if action == "activate" else "receipt"))
        offline.set_defaults(handler=cmd_license_offline_activate if action == "activate"
                             else cmd_license_offline_deactivate)
    request = license_commands.add_parser(
        "request", help="write a request file, as the licensed software does",
        description="Write an offline activation (or deactivation) request file for a machine.")
    request.add_argument("--key", required=True)
    request.add_argument("--product", required=True, metavar="ID")
    request.add_argument("--fingerprint", required=True)
    request.add_argument("--hostname")
    request.add_argument("--deactivate", action="store_true", help="ask for the machine's release instead")
    request.add_argument("-o", "--output", metavar="FILE", help="write it here (default: print it)")
    request.set_defaults(handler=cmd_license_request)
    verify = license_commands.add_parser(
        "verify", help="check a license file's signature, expiry and machine",
        description="Check a license file (or release receipt) and print its facts. Exit codes: 0 valid, "
                    "1 not valid (the reason is printed), 2 a file that cannot be read.")
    verify.add_argument("file", metavar="FILE")
    verify.add_argument("--public-key", metavar="FILE",
                        help="the public keys (seattui signing-key public); default: ask the profile's portal")
    verify.add_argument("--machine", metavar="FINGERPRINT", help="refuse a machine file for another machine")
    verify.add_argument("--product", metavar="ID", help="refuse a file for another product")
    verify.add_argument("--online", action="store_true",
                        help="also ask the portal whether the file is current (not made stale by a change)")
    verify.set_defaults(handler=cmd_license_verify)
    _add_data_commands(commands, db_help)
    _add_billing_commands(commands, db_help)
    return parser


def _add_mail_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--smtp", metavar="URL",
                       help="deliver the outbox to this SMTP server: smtp://[USER@]HOST[:PORT], smtps:// for TLS; "
                            "the password in the URL or SEATTUI_SMTP_PASSWORD (default: mail waits in the outbox)")
    serve.add_argument("--smtp-starttls", action="store_true", help="switch the smtp:// connection to TLS (STARTTLS)")
    serve.add_argument("--mail-from", metavar="ADDRESS", help="the sender address of the portal's mail")


def _add_operations_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--log-format", default="text", choices=["text", "json"],
                       help="text lines, or one JSON object a line (default: text)")
    serve.add_argument("--access-log", action="store_true", help="a line for every request (no query strings)")
    serve.add_argument("--metrics", action=argparse.BooleanOptionalAction, default=True,
                       help="Prometheus metrics at /metrics (default: on)")
    serve.add_argument("--metrics-port", type=int, metavar="PORT",
                       help="serve /metrics on this port instead of the API's")
    serve.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                       help="the address of --metrics-port (default: 127.0.0.1, this machine only)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    _configurable(serve)


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
