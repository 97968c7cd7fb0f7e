"""`seattui customers`: the organization's customers, listed or exported to CSV; and
`seattui customer-mail`: whether they are mailed their keys."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from typing import Any

from seattui.cli.common import EXIT_OK, EXIT_USAGE, _fail, _on_portal, _run, _say


async def _every_customer(client: Any, text: str) -> AsyncIterator[Any]:
    """Every matching customer, a page at a time (the list may be long)."""
    from seattui.domain.customers import CustomerFilter

    chosen, cursor = CustomerFilter(text=text), None
    while True:
        page = await client.customers(chosen, cursor=cursor, limit=500)
        for customer in page.items:
            yield customer
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def cmd_customers(args: argparse.Namespace) -> int:
    import json

    from seattui.domain.money import format_credits

    async def work(client: Any) -> int:
        found = [customer async for customer in _every_customer(client, args.filter)]
        if args.json:
            print(json.dumps([customer.model_dump(mode="json") for customer in found]))
        elif not found:
            _say("No customers match." if args.filter else
                 "No customers yet: assigning a license to an email makes its customer.")
        else:
            width = min(40, max(len(customer.email) for customer in found))
            for customer in found:
                who = " · ".join(part for part in (customer.name, customer.company) if part)
                _say(f"{customer.email:<{width}}  {customer.licenses:>4} lic  {customer.subscriptions:>3} sub  "
                     f"{format_credits(customer.spend_this_year):>12}  {who}")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_customers_export(args: argparse.Namespace) -> int:
    import csv
    import io
    import sys

    from seattui.domain.customers import CSV_COLUMNS, csv_row

    async def work(client: Any) -> int:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        count = 0
        async for customer in _every_customer(client, args.filter):
            writer.writerow(csv_row(customer))
            count += 1
        if args.output in (None, "-"):
            sys.stdout.write(buffer.getvalue())
            return EXIT_OK
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as target:
                target.write(buffer.getvalue())
        except OSError as error:
            _fail(f"Cannot write {args.output}: {error.strerror or error}.", EXIT_USAGE)
        _say(f"Wrote {count} customer{'s' if count != 1 else ''} to {args.output}.")
        return EXIT_OK

    return _run(_on_portal(args, work))


def _described(chosen: Any) -> str:
    if not chosen.mail:
        return "Customers are not mailed when a license or subscription is assigned to them."
    return ("Customers are mailed the product, the activation key and how to activate it when a license or "
            "subscription is assigned to them, " + ("with the signed license file attached." if chosen.attach_file
                                                    else "without the license file."))


def cmd_customer_mail(args: argparse.Namespace) -> int:
    import json

    from seattui.domain.customers import CustomerMailChange

    def chosen(value: str | None) -> bool | None:
        return None if value is None else value == "on"

    async def work(client: Any) -> int:
        change = CustomerMailChange(mail=chosen(args.mail), attach_file=chosen(args.attach_file))
        if change.mail is None and change.attach_file is None:
            settings = await client.customer_mail()
        else:
            settings = await client.set_customer_mail(change)
        if args.json:
            print(json.dumps(settings.model_dump(mode="json")))
        else:
            _say(_described(settings))
        return EXIT_OK

    return _run(_on_portal(args, work))


def add_commands(commands: Any, db_help: str) -> None:
    listed = commands.add_parser(
        "customers", help="list the organization's customers, or export them to CSV",
        description="The organization's customers with their license and subscription counts and this year's "
                    "spend. Assigning a license or subscription to an email makes its customer.")
    listed.add_argument("--filter", default="", metavar="TEXT", help="words found in the email, name or company")
    listed.add_argument("--json", action="store_true",
                        help='print a JSON list of {"id", "email", "name", "company", "address", "notes", '
                             '"licenses", "subscriptions", "spend_this_year", "created_at"}')
    listed.set_defaults(handler=cmd_customers)
    actions = listed.add_subparsers(title="commands", metavar="COMMAND")
    export = actions.add_parser("export", help="write the customers (or the filtered part) as CSV",
                                description="Write the customers as CSV with the columns "
                                            "email,name,company,address,licenses,subscriptions,spend_this_year,"
                                            "notes,created_at (the same filter as the list).")
    export.add_argument("-o", "--output", metavar="FILE.csv", help="write here (default: standard output)")
    export.add_argument("--filter", default="", metavar="TEXT", help="words found in the email, name or company")
    export.set_defaults(handler=cmd_customers_export)

    mail = commands.add_parser(
        "customer-mail", help="show or set whether customers are mailed their keys",
        description="When a license or subscription is assigned to a customer's email (bought for them, or "
                    "moved to them), the portal mails them the product, the activation key and how to activate "
                    "it, once per key and customer; --attach-file on adds the signed license file. Without "
                    "arguments, shows the settings; owners and admins change them.")
    mail.add_argument("mail", nargs="?", choices=("on", "off"), help="mail customers (default: on)")
    mail.add_argument("--attach-file", choices=("on", "off"),
                      help="attach the signed license file to the mail (default: off)")
    mail.add_argument("--json", action="store_true", help='print {"mail", "attach_file"}')
    mail.set_defaults(handler=cmd_customer_mail)
