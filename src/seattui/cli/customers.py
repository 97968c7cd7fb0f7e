"""`seattui customers`: the organization's customers, listed or exported to CSV;
`seattui customer ...`: one customer's own login (invite, a code for a new password, disable,
enable); and `seattui customer-mail`: whether they are mailed their keys."""

from __future__ import annotations

import argparse
import sys
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


async def _customer_named(client: Any, wanted: str) -> Any:
    """A customer by their id or their email (case aside)."""
    from seattui.domain.customers import MAX_CUSTOMER_FILTER

    cleaned = wanted.strip()
    if cleaned.isdigit():
        from seattui.domain.errors import NotFound

        try:
            return (await client.customer(int(cleaned))).customer
        except NotFound:
            pass
    else:
        # The filter finds the email's words; the exact email is among what it finds.
        async for customer in _every_customer(client, cleaned[:MAX_CUSTOMER_FILTER]):
            if customer.email.casefold() == cleaned.casefold():
                return customer
    _fail(f"There is no customer {wanted!r} (seattui customers lists them).")


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def cmd_customer_show(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        detail = await client.customer((await _customer_named(client, args.customer)).id)
        if args.json:
            print(detail.model_dump_json())
            return EXIT_OK
        customer = detail.customer
        who = " · ".join(part for part in (customer.name, customer.company) if part)
        _say(f"{customer.email}{f'  ({who})' if who else ''}: {customer.licenses} licenses, "
             f"{customer.subscriptions} subscriptions.")
        _say(f"Own login: {_login_state(detail)}.")
        return EXIT_OK

    return _run(_on_portal(args, work))


def _login_state(detail: Any) -> str:
    waiting = f"; a code waits until {_when(detail.invited_until)}" if detail.invited_until else ""
    if detail.login is None:
        return ("none yet" + (f", invited until {_when(detail.invited_until)}" if detail.invited_until
                              else " (seattui customer invite EMAIL mails them a code)"))
    if detail.login_disabled_at is not None:
        return f"{detail.login}, disabled since {_when(detail.login_disabled_at)}"
    return detail.login + waiting


def _code_sent(invitation: Any, what: str) -> None:
    _say(f"Mailed {invitation.email} {what}; it works once, until {_when(invitation.expires_at)}.")
    _say(f"If the mail does not arrive, give them this code (shown only now): {invitation.token}")


def cmd_customer_invite(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        customer = await _customer_named(client, args.customer)
        _code_sent(await client.invite_customer(customer.id), "a code into their own account (a code mailed "
                                                              "before stops working)")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_customer_password_code(args: argparse.Namespace) -> int:
    async def work(client: Any) -> int:
        customer = await _customer_named(client, args.customer)
        _code_sent(await client.send_customer_password_code(customer.id),
                   "a code for a new password (their password works until they set the new one)")
        return EXIT_OK

    return _run(_on_portal(args, work))


def _customer_login_switch(args: argparse.Namespace, enabled: bool) -> int:
    async def work(client: Any) -> int:
        customer = await _customer_named(client, args.customer)
        if not enabled and not args.yes and sys.stdin.isatty():
            answer = input(f"Disable the login of {customer.email}? They can no longer log in, and every session "
                           "of theirs ends at once. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                _say("Nothing was changed.")
                return EXIT_OK
        changed = await client.set_customer_login_enabled(customer.id, enabled)
        if args.json:
            print(changed.model_dump_json())
        elif enabled:
            _say(f"The login {changed.login} of {customer.email} is enabled: they log in again with their password.")
        else:
            _say(f"The login {changed.login} of {customer.email} is disabled since {_when(changed.disabled_at)}: "
                 "it no longer logs in, and its sessions have ended.")
        return EXIT_OK

    return _run(_on_portal(args, work))


def cmd_customer_disable(args: argparse.Namespace) -> int:
    return _customer_login_switch(args, False)


def cmd_customer_enable(args: argparse.Namespace) -> int:
    return _customer_login_switch(args, True)


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

    one = commands.add_parser("customer", help="one customer: their own login (invite, password code, disable, "
                                               "enable)",
                              description="One customer, named by email or id: show them, or control their own "
                                          "login. Owners, admins and operators.")
    one_commands = one.add_subparsers(title="commands", metavar="COMMAND", required=True)
    show = one_commands.add_parser("show", help="the customer and their own login",
                                   description="The customer, their counts, and their own login: none yet, "
                                               "invited, theirs, or disabled.")
    show.add_argument("customer", metavar="CUSTOMER", help="email or id")
    show.add_argument("--json", action="store_true", help="print the customer's detail as JSON (GET "
                                                          "/api/v1/customers/{id})")
    show.set_defaults(handler=cmd_customer_show)
    invite = one_commands.add_parser("invite", help="mail a code into their own account (until they have a login)",
                                     description="Mail the customer a one-time code that makes their own login "
                                                 "(a code mailed before stops working). Refused once they have it.")
    invite.add_argument("customer", metavar="CUSTOMER", help="email or id")
    invite.set_defaults(handler=cmd_customer_invite)
    code = one_commands.add_parser("password-code", help="mail a code for a new password (a lost password)",
                                   description="Mail a customer who has their login a one-time code that sets a "
                                               "new password, with their login. Their password works until they "
                                               "set the new one; a code mailed before stops working.")
    code.add_argument("customer", metavar="CUSTOMER", help="email or id")
    code.set_defaults(handler=cmd_customer_password_code)
    for name, handler, what in (("disable", cmd_customer_disable, ("their login no longer logs in and every session "
                                                                   "of theirs ends at once (asks first on a "
                                                                   "terminal)")),
                                ("enable", cmd_customer_enable, "their login logs in again with its password")):
        switch = one_commands.add_parser(name, help=f"{name} their own login", description=f"{name.title()} the "
                                         f"customer's own login: {what}.")
        switch.add_argument("customer", metavar="CUSTOMER", help="email or id")
        switch.add_argument("--json", action="store_true", help='print {"login", "disabled_at"}')
        if name == "disable":
            switch.add_argument("--yes", action="store_true", help="do not ask")
        switch.set_defaults(handler=handler)

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
