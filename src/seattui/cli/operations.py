"""The `seattui` commands of one area."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from seattui.cli.common import (
    EXIT_OK, EXIT_USAGE, _fail, _read_password,
    _run, _say, _started_portal, _with_portal,
)


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
        from seattui.portal.server import PortTakenError, run_workers

        try:
            run_workers("seattui.portal.app:create_app", args.workers, serving)
        except PortTakenError as error:
            _fail(str(error), EXIT_USAGE)
    else:
        uvicorn.run(app, **serving)
    return EXIT_OK


async def _ready_to_serve(settings: Any) -> None:
    """Migrate and check the database before uvicorn starts, so a failure is one line."""
    portal = await _started_portal(settings)
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
    from seattui.cli.session import run_terminal_app

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
    serve.add_argument("--activation-limit", type=int, metavar="N",
                       help="device activation calls an activation key may get a minute (default: 30)")
    serve.add_argument("--activation-address-limit", type=int, metavar="N",
                       help="device activation calls a client address may make a minute (default: as per key, "
                            "30); raise it for fleets behind one NAT address")
    serve.add_argument("--activation-check-share", type=float, metavar="SECONDS",
                       help="how often an instance shares the device checks it counted in memory (default: 0.25); "
                            "across instances the limits can be passed by about one interval's checks of each; "
                            "0 counts each check in the shared counters before answering it")
    _configurable(serve)



def add_commands(commands: Any, db_help: str) -> None:
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

    _add_data_commands(commands, db_help)
