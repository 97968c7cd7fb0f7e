"""The `seattui` commands of one area."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from seattui.cli.common import (
    EXIT_OK, EXIT_REFUSED, EXIT_USAGE, _fail, _on_portal, _run, _say, _with_portal,
)


# -- invoices and billing ------------------------------------------------------------------


def cmd_terms_set(args: argparse.Namespace) -> int:
    """The operator sets an organization's payment terms, directly on the portal's database."""
    from seattui.domain.billing import DEFAULT_DUE_DAYS, DEFAULT_GRACE_DAYS, MAX_DUE_DAYS, MAX_GRACE_DAYS, BillingTerms, PaymentTerms
    from seattui.domain.money import parse_credits
    from seattui.portal.context import Tx
    from seattui.portal.services import accounts, billing

    grace_days = DEFAULT_GRACE_DAYS if args.grace_days is None else args.grace_days
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        _fail(f"Give --grace-days from 0 to {MAX_GRACE_DAYS}.", EXIT_USAGE)
    if args.terms == "prepaid":
        if args.credit_limit is not None or args.due_days is not None:
            _fail("prepaid takes neither --credit-limit nor --due-days.", EXIT_USAGE)
        terms = BillingTerms(grace_days=grace_days)
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
        terms = BillingTerms(terms=PaymentTerms.MONTHLY, credit_limit=limit, due_days=due_days, grace_days=grace_days)

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
        report = await run_billing(portal.store, as_of or portal.now().date(), portal.now, catalog=portal.catalog)
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
    return await _on_portal(args, work)


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


def _write_new(path: str, data: bytes, replace: bool) -> None:
    """Write a file; an existing one only with `replace` (an admin keeps last month's copy)."""
    try:
        with open(path, "wb" if replace else "xb") as target:
            target.write(data)
    except FileExistsError:
        _fail(f"{path} exists already: give another file with -o FILE, or --force to replace it.", EXIT_USAGE)
    except OSError as error:
        _fail(f"Cannot write {path}: {error.strerror or error}.", EXIT_USAGE)


def cmd_invoice_pdf(args: argparse.Namespace) -> int:
    import json

    from seattui.domain.billing import invoice_filename

    async def work(client: Any) -> tuple[str, bytes]:
        invoice = await client.invoice(args.number)
        if invoice.number is None:
            _fail(f"The {invoice.period_start:%B %Y} invoice is still a draft: its PDF exists once the month "
                  "is billed (at the start of the next month).")
        return invoice.number, await client.invoice_pdf(invoice.number)

    number, pdf = _run(_client_work(args, work))
    path = args.output or invoice_filename(number)
    _write_new(path, pdf, args.force)
    if args.json:
        print(json.dumps({"invoice": number, "file": path, "bytes": len(pdf)}))
    else:
        _say(f"Wrote invoice {number} to {path} ({len(pdf):,} bytes).")
    return EXIT_OK


def cmd_invoice_email(args: argparse.Namespace) -> int:
    async def work(client: Any) -> Any:
        return await client.email_invoice(args.number, args.to)

    mailed = _run(_client_work(args, work))
    if args.json:
        print(mailed.model_dump_json())
    else:
        _say(f"Invoice {mailed.invoice} is on its way to {mailed.to}, its PDF attached "
             "(the portal's mail task sends it; seattui outbox shows what waits).")
    return EXIT_OK


def cmd_billing_email(args: argparse.Namespace) -> int:
    if args.clear and args.address:
        _fail("Give an ADDRESS or --clear, not both.", EXIT_USAGE)

    async def work(client: Any) -> Any:
        if args.clear or args.address:
            return await client.set_billing_contact(None if args.clear else args.address)
        return await client.billing_contact()

    contact = _run(_client_work(args, work))
    if args.json:
        print(contact.model_dump_json())
    elif contact.billing_email:
        _say(f"Invoices are emailed to {contact.billing_email}.")
    else:
        print("No billing address: set one with seattui billing-email ADDRESS.")
    return EXIT_OK


def add_commands(commands: Any, db_help: str) -> None:
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
    terms_set.add_argument("--grace-days", type=int,
                           help="prepaid: days a subscription whose renewal is unpaid runs before it is suspended "
                                "(default: 7)")
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

    invoice = commands.add_parser("invoice", help="show, pay, write or email one invoice",
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
    pdf = invoice_commands.add_parser(
        "pdf", help="write the invoice's PDF to a file",
        description="Write a finalized invoice's PDF, by default to NUMBER.pdf in the current directory. "
                    "An existing file is never replaced silently: pass --force to replace it.")
    pdf.add_argument("number", metavar="NUMBER")
    pdf.add_argument("-o", "--output", metavar="FILE", help="the file to write (default: NUMBER.pdf, like "
                     "INV-2026-000123.pdf, here)")
    pdf.add_argument("--force", action="store_true", help="replace FILE if it exists")
    pdf.add_argument("--json", action="store_true", help='print {"invoice", "file", "bytes"}')
    pdf.set_defaults(handler=cmd_invoice_pdf)
    email = invoice_commands.add_parser(
        "email", help="email the invoice's PDF",
        description="Have the portal email a finalized invoice with its PDF attached, to the organization's "
                    "billing address (seattui billing-email) or to --to. The mail goes through the portal's outbox.")
    email.add_argument("number", metavar="NUMBER")
    email.add_argument("--to", metavar="ADDRESS", help="send it here instead of the billing address")
    email.add_argument("--json", action="store_true", help='print {"invoice", "to", "message_id"}')
    email.set_defaults(handler=cmd_invoice_email)

    contact = commands.add_parser(
        "billing-email", help="show or set where invoices are emailed",
        description="The organization's billing address: invoices are emailed there unless another address is "
                    "given. Without ADDRESS, shows it; owners and admins set or --clear it.")
    contact.add_argument("address", metavar="ADDRESS", nargs="?")
    contact.add_argument("--clear", action="store_true", help="remove the billing address")
    contact.add_argument("--json", action="store_true", help='print {"billing_email"}')
    contact.set_defaults(handler=cmd_billing_email)
