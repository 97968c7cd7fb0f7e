"""The `seattui` commands of one area: subscriptions and seat plans."""

from __future__ import annotations

import argparse
from typing import Any

from seattui.cli.common import EXIT_OK, EXIT_USAGE, _fail, _on_portal, _run, _say

# What of each change can come back, said with every quote (the catalog's refund policy of seat
# plans is "never"; the portal's rules: services/seat_plans.py, subscriptions.py).
NOT_REFUNDABLE = {
    "cap": "Not refundable: seat-days used are billed at the end of the month, whatever the cap.",
    "seats": "Not refundable: the seats stay on the contract until its renewal and are never refunded.",
    "renewal": "Not refundable: a renewed term is billed in full and never refunded.",
    "cancel": "Not refundable: the month paid stays paid, also when cancelled at once.",
    "convert": "Not refundable: a flexible month is billed by the seat-day; an annual contract is billed in full "
               "and never refunded.",
}


def _print_quote(quote: Any, what: str) -> None:
    from seattui.domain.money import format_credits

    for line in quote.lines:
        _say(f"  {format_credits(line.amount):>12}  {line.description}")
    _say(f"Cost: {format_credits(quote.cost)} credits.")
    if quote.payment is not None:
        _say(("Nothing is charged now." if not quote.cost else quote.payment.summary + "."))
    if not quote.affordable:
        _say(f"Not enough: {format_credits(quote.shortfall)} short; nothing would be charged.")
    _say(NOT_REFUNDABLE[what])


def _row(item: Any, *, cost: bool = True) -> str:
    from seattui.domain.money import format_credits

    size = (f"{item.assigned}/{item.size}" if item.assigned is not None else f"{item.size}")
    if item.contract_max:
        size += f" (max {item.contract_max})"
    renews = f"renews {item.next_renewal}" if item.next_renewal else "no renewal"
    if item.renewal:
        renews += f" ({item.renewal.value})"
    row = (f"{item.kind.value:<8} {item.id:>6}  {item.product_name[:20]:<20} {item.key}  {item.plan:<8} "
           f"{size:<16} {renews:<28} {item.status:<10}")
    return f"{row} {format_credits(item.monthly_cost):>10}/month" if cost else row.rstrip()


def cmd_subscriptions(args: argparse.Namespace) -> int:
    import json

    async def work(client: Any) -> int:
        from seattui.domain.roles import Role

        found = await client.subscriptions()
        # A customer's own login is not told what the organization pays (it reads 0.00).
        customer = not args.json and (await client.me()).user.role is Role.CUSTOMER
        if args.json:
            print(json.dumps([item.model_dump(mode="json") for item in found]))
        elif not found:
            _say("You have no subscriptions or seat plans." if customer else
                 "No subscriptions or seat plans yet: the wizard (g a) starts one.")
        else:
            for item in found:
                _say(_row(item, cost=not customer))
        return EXIT_OK

    return _run(_on_portal(args, work))


def _seat_plan_change(args: argparse.Namespace, what: str, change: Any) -> int:
    async def work(client: Any) -> int:
        quote = await client.quote_seat_plan(args.id, change)
        if args.json and args.dry_run:
            print(quote.model_dump_json())
            return EXIT_OK
        if not args.json:
            _print_quote(quote, what)
        if args.dry_run:
            return EXIT_OK
        changed = await client.change_seat_plan(args.id, change)
        if args.json:
            print(changed.model_dump_json())
        elif what == "cap":
            _say(f"License {changed.id}: the cap is {changed.seat_cap} seats.")
        elif what == "seats":
            _say(f"License {changed.id}: {changed.quantity} seats to {changed.term_ends_on}.")
        elif what == "convert":
            until = f", the term to {changed.term_ends_on}" if changed.term_ends_on else ""
            _say(f"License {changed.id}: a {changed.term.value} plan of {changed.quantity} seats{until}.")
        else:
            _say(f"License {changed.id}: renewal {changed.renewal.value if changed.renewal else 'same'}.")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_cap(args: argparse.Namespace) -> int:
    from seattui.domain.seat_plans import MAX_SEATS, CapChange

    if not 1 <= args.cap <= MAX_SEATS:
        _fail(f"The cap is a number of seats from 1 to {MAX_SEATS:,}.", EXIT_USAGE)
    return _seat_plan_change(args, "cap", CapChange(cap=args.cap))


def cmd_seats(args: argparse.Namespace) -> int:
    from seattui.domain.seat_plans import MAX_SEATS, SeatAddition

    text = args.seats.strip()
    if not text.startswith("+") or not text[1:].isdigit() or not 1 <= int(text[1:]) <= MAX_SEATS:
        _fail("Give the seats to add as +N (like +5): an annual contract's seats only grow during its term.",
              EXIT_USAGE)
    return _seat_plan_change(args, "seats", SeatAddition(seats=int(text[1:])))


def cmd_renewal(args: argparse.Namespace) -> int:
    from seattui.domain.seat_plans import Renewal, RenewalChange

    return _seat_plan_change(args, "renewal", RenewalChange(renewal=Renewal(args.renewal)))


def cmd_convert(args: argparse.Namespace) -> int:
    from seattui.domain.catalog import SeatPlan
    from seattui.domain.seat_plans import MAX_SEATS, PlanConversion

    if not 1 <= args.seats <= MAX_SEATS:
        _fail(f"The seats are a number from 1 to {MAX_SEATS:,}.", EXIT_USAGE)
    return _seat_plan_change(args, "convert", PlanConversion(plan=SeatPlan(args.plan), seats=args.seats))


def cmd_cancel(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        quote = await client.quote_cancel(args.id, at_once=args.now)
        _print_quote(quote, "cancel")
        if args.dry_run:
            return EXIT_OK
        cancelled = await client.cancel_subscription(args.id, at_once=args.now)
        _say(f"Subscription {cancelled.id} " + (f"ended today, {cancelled.ended_on}." if args.now
                                                 else f"ends on {cancelled.period_ends_on}."))
        return EXIT_OK

    return _run(_on_portal(args, work))


def add_commands(commands: Any, db_help: str) -> None:
    listing = commands.add_parser(
        "subscriptions", help="every seat plan and channel subscription",
        description="Seat plans (kind seats: the id is the license's) and channel subscriptions (kind channels), "
                    "with assigned / cap or contract, the next renewal, the status and the monthly cost.")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=cmd_subscriptions)

    one = commands.add_parser("subscription", help="change a seat plan or a channel subscription",
                              description="Each change prints its quote first (cost, how it is paid, what is "
                                          "not refundable); --dry-run stops there.")
    actions = one.add_subparsers(title="commands", metavar="COMMAND", required=True)
    cap = actions.add_parser("cap", help="raise or lower a flexible plan's purchase cap",
                             description="Never below the seats assigned now, at most the catalog's maximum. "
                                         "Nothing is charged now: seats are billed by the day they are assigned.")
    cap.add_argument("id", type=int, help="the seat plan's id (its license's, from seattui subscriptions)")
    cap.add_argument("cap", type=int, metavar="N", help="the new cap, in seats")
    cap.set_defaults(handler=cmd_cap)
    seats = actions.add_parser("seats", help="add seats to an annual contract for the rest of its term",
                               description="Charged now for the days left of the term; not refundable; seats "
                                           "cannot be removed until renewal.")
    seats.add_argument("id", type=int, help="the seat plan's id")
    seats.add_argument("seats", metavar="+N", help="how many seats to add, like +5")
    seats.set_defaults(handler=cmd_seats)
    renewal = actions.add_parser("renewal", help="what an annual contract does on its renewal date",
                                 description="same: renew with the contract's seats; assigned: with the seats "
                                             "assigned that day; end: end at term end. The billing run applies it.")
    renewal.add_argument("id", type=int, help="the seat plan's id")
    renewal.add_argument("renewal", choices=["same", "assigned", "end"])
    renewal.set_defaults(handler=cmd_renewal)
    convert = actions.add_parser(
        "convert", help="make a seat trial a flexible plan or an annual contract",
        description="flexible: the seats are its purchase cap, billed by the day from today; annual: the seats "
                    "for 12 months from today, paid now. The trial's assigned seats stay; never below them.")
    convert.add_argument("id", type=int, help="the trial's id (its license's, from seattui subscriptions)")
    convert.add_argument("plan", choices=["flexible", "annual"])
    convert.add_argument("seats", type=int, metavar="N", help="the cap (flexible) or the contract's seats (annual)")
    convert.set_defaults(handler=cmd_convert)
    cancel = actions.add_parser("cancel", help="cancel a channel subscription",
                                description="At the end of its paid month, or at once with --now; nothing is refunded.")
    cancel.add_argument("id", type=int, help="the channel subscription's id")
    cancel.add_argument("--now", action="store_true", help="end it today (the month paid is not refunded)")
    cancel.set_defaults(handler=cmd_cancel)
    for command in (cap, seats, renewal, convert, cancel):
        command.add_argument("--dry-run", action="store_true", help="print the quote; change nothing")
    for command in (cap, seats, renewal, convert):
        command.add_argument("--json", action="store_true",
                             help="print the changed seat plan (with --dry-run, the quote) as the API's JSON")
