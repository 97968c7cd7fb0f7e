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
    import logging

    from seattui.config import ConfigError, data_dir, load_config

    try:
        config = load_config()
    except ConfigError as error:
        _fail(str(error), EXIT_USAGE)
    log_file = data_dir() / "seattui.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=log_file, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from seattui.tui.app import SeattuiApp
    from seattui.wiring import connector_for

    SeattuiApp(connector_for, profile_name=profile_name, config=config).run()
    return EXIT_OK


# -- portal operations --------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from seattui.config import default_database
    from seattui.portal.app import create_app
    from seattui.wiring import portal_settings

    database = args.db or str(default_database())
    overrides: dict[str, Any] = {}
    if args.catalog:
        overrides["catalog_path"] = args.catalog
    try:
        app = create_app(portal_settings(database, **overrides))
    except Exception as error:  # a bad catalog or database URL: say it and stop
        _fail(str(error), EXIT_USAGE)
    print(f"seattui portal on http://{args.host}:{args.port} (database: {database})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return EXIT_OK


async def _with_portal(database: str | None, work: Callable[[Any], Awaitable[int]]) -> int:
    """Run an administration command directly on a portal's database."""
    from seattui.portal.runtime import Portal
    from seattui.wiring import portal_settings

    portal = Portal(portal_settings(database))
    await portal.start()
    try:
        return await work(portal)
    finally:
        await portal.close()


def cmd_init(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from seattui.domain.accounts import NewOrganization
    from seattui.domain.money import format_credits, parse_credits
    from seattui.portal.services import accounts

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
        print(f"Created {new.organization_name} with its owner {new.owner_login.lower()} "
              f"and {format_credits(opening)} credits.")
        print("Next: seattui serve, then seattui login --portal http://HOST:PORT --login "
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
        print(f"{args.org}: +{format_credits(amount)} credits, balance {format_credits(balance)}.")
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
        print(f"Added {args.login.lower()} to {args.org} as {args.role}.")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_demo(args: argparse.Namespace) -> int:
    from seattui.config import Profile, data_dir, save_profile
    from seattui.portal.seed import DEMO_LOGIN, DEMO_PASSWORD, seed_demo

    database = args.db or str(data_dir() / "demo.db")

    async def work(portal: Any) -> int:
        seeded = await seed_demo(portal)
        if seeded is None:
            print(f"The demo database {database} has data already; it was left as it is.", file=sys.stderr)
        return EXIT_OK

    _run(_with_portal(database, work))
    print(f"login: {DEMO_LOGIN}")
    print(f"password: {DEMO_PASSWORD}", flush=True)
    # The app's screen hides what was printed: the login screen says it again.
    note = f"Demo data: log in as {DEMO_LOGIN}, password {DEMO_PASSWORD}"
    save_profile("demo", Profile(portal="embedded", login=DEMO_LOGIN, database=database, note=note))
    if args.seed_only:
        return EXIT_OK
    return run_terminal_app("demo")


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
        print(f"Logged in to {connector.description} as {me.user.login} ({me.user.role.value}) "
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
        print(f"Profile {name!r} is not logged in.")
        return EXIT_OK

    async def work() -> int:
        connector = connector_for(profile)
        try:
            async with await connector.open(token) as client:
                await client.logout()
        except SeattuiError as error:
            print(f"The portal did not confirm the logout ({error.message}); the token is forgotten here.",
                  file=sys.stderr)
        finally:
            await connector.close()
        return EXIT_OK

    code = asyncio.run(work())
    save_token(name, None)
    print(f"Logged out of profile {name!r}.")
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
            print(balance.model_dump_json())
        else:
            from seattui.domain.money import format_credits

            print(f"{balance.organization}: {format_credits(balance.balance)} {balance.unit}")
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

        print(json.dumps(_plan_report(args.plan, dry_run, outcome, lines, refused)))
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
        print(f"Applied {outcome.count} move(s) of {plan} in batch {outcome.batch_id} ({counts}).")
        print("Undo it from the app: the employees screen (e), seat batches (b), u.")
        return
    for move in outcome.moves if outcome else []:
        if not move.problem:
            print(f"line {lines[move.index]:>4}  {move.product_id:<12} {move.from_name} <{move.from_email}>"
                  f"  ->  {move.to_name} <{move.to_email}>")
    for problem in refused:
        print(f"line {problem.line:>4}  refused: {problem.reason}")
    if refused:
        print(f"{len(refused)} of {total} row(s) refused; nothing was changed. Fix those rows and run it again.")
    elif dry_run:
        print(f"Dry run: all {outcome.count if outcome else 0} move(s) would apply; nothing was changed.")


# -- the parser ---------------------------------------------------------------------------


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
    serve.set_defaults(handler=cmd_serve)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except CommandError as error:
        print(f"seattui: {error}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print("seattui: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
