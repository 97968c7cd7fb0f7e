"""The `seattui` commands of one area."""

from __future__ import annotations

import argparse
from typing import Any

from seattui.cli.common import (
    EXIT_OK, EXIT_REFUSED, EXIT_USAGE, _fail, _logged_in, _on_portal, _read_stdin, _run, _say,
)


# -- seat reassignment from a plan file ---------------------------------------------


def cmd_reassign(args: argparse.Namespace) -> int:
    """Apply (or --dry-run) a CSV plan of seat moves whole: 0 applied (or a clean dry run),
    1 refused with a reason per row, 2 bad usage or an unreadable file, 3 not logged in,
    4 portal unreachable."""
    from seattui.domain.csvfile import RowProblem
    from seattui.domain.errors import BatchRefused, ValidationFailed
    from seattui.domain.seating import MAX_MOVES, BatchOutcome, parse_plan, refused_moves

    text = _read_plan(args.plan)
    shown = "the plan on standard input" if args.plan == "-" else args.plan
    try:
        planned, problems = parse_plan(text)
    except ValidationFailed as error:
        _fail(f"{shown}: {error.message}", EXIT_USAGE)
    if not planned and not problems:
        _fail(f"{shown} has no moves under its header.", EXIT_USAGE)
    if len(planned) > MAX_MOVES:
        _fail(f"{shown} has {len(planned):,} moves; one batch, applied whole, takes at most {MAX_MOVES:,}. "
              "Split the plan into files of at most that many rows.", EXIT_USAGE)
    _logged_in(args)  # before anything is sent: not logged in exits 3
    lines = [line for line, _ in planned]
    moves = [move for _, move in planned]
    dry_run = args.dry_run or bool(problems)  # a file with bad rows is only ever checked

    async def work(client: Any) -> BatchOutcome:
        try:
            outcome: BatchOutcome = await client.reassign(moves, dry_run=dry_run)
            return outcome
        except BatchRefused as error:
            return BatchOutcome(moves=refused_moves(error.details))

    outcome = _run(_on_portal(args, work)) if moves else None
    refused = problems + [RowProblem(line=lines[move.index], reason=move.problem)
                          for move in (outcome.moves if outcome else []) if move.problem]
    refused.sort(key=lambda problem: problem.line)
    applied = outcome is not None and outcome.applied
    if args.json:
        import json

        _say(json.dumps(_plan_report(args.plan, dry_run, outcome, lines, refused)))
    else:
        _print_plan(shown, dry_run, outcome, lines, refused, total=len(moves) + len(problems))
    return EXIT_OK if applied or (args.dry_run and not refused) else EXIT_REFUSED


def _read_plan(path: str) -> str:
    """The plan file's text; `-` reads it from standard input."""
    if path == "-":
        return _read_stdin("plan")
    try:
        with open(path, encoding="utf-8-sig", newline="") as plan_file:
            return plan_file.read()
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"Cannot read {path}: {getattr(error, 'strerror', None) or error}.", EXIT_USAGE)


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
        _say("Undo it from the app: g e for the employees, b for the seat batches, then z on this one.")
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


def add_commands(commands: Any, db_help: str) -> None:
    reassign = commands.add_parser(
        "reassign", help="move seats between employees from a CSV plan",
        description="Move seats from a CSV plan with the columns from_email,to_email,product (product empty: "
                    "every seat of from_email). The plan is applied whole or not at all. Exit codes: 0 applied "
                    "(or a clean dry run), 1 refused with a reason per row, 2 bad usage or an unreadable file, 3 not "
                    "logged in, 4 portal unreachable.")
    reassign.add_argument("plan", metavar="PLAN.csv", help="the plan file; - reads it from standard input")
    reassign.add_argument("--dry-run", action="store_true", help="check the plan and print every move; change nothing")
    reassign.add_argument("--json", action="store_true",
                          help='print {"applied", "dry_run", "batch_id", "count", "products", "moves", "refused"}')
    reassign.set_defaults(handler=cmd_reassign)
