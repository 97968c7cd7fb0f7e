"""The `seattui` commands of one area: reseller discounts and coupons (portal operator)."""

from __future__ import annotations

import argparse
from typing import Any

from seattui.cli.common import EXIT_OK, EXIT_USAGE, _fail, _run, _say, _with_portal


def _percent(text: str) -> Any:
    from decimal import Decimal, InvalidOperation

    try:
        percent = Decimal(text.strip().rstrip("%"))
    except InvalidOperation:
        _fail(f"Give a percentage like 10 or 12.5, not {text!r}.", EXIT_USAGE)
    if not percent.is_finite() or not 0 < percent <= 100 or percent != percent.quantize(Decimal("0.01")):
        _fail("A percentage is more than 0 and at most 100, with at most two decimals (like 12.5).", EXIT_USAGE)
    return percent


def _date(text: str | None, option: str) -> Any:
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{option} takes a date like 2026-12-31, not {text!r}.", EXIT_USAGE)


def _scope(product_id: str | None) -> str:
    return product_id or "every product"


def cmd_discount_set(args: argparse.Namespace) -> int:
    """The operator gives an organization a percentage off its orders, directly on the database."""
    from seattui.portal.context import Tx
    from seattui.portal.services import accounts, discounts

    percent = _percent(args.percent)

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            org = await accounts.organization_by_name(conn, args.org)
            set_to = await discounts.set_reseller(
                Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now()), args.product, percent)
        _say(f"{args.org}: {set_to.percent.normalize():f}% off {_scope(args.product)}, from its next order.")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_discount_clear(args: argparse.Namespace) -> int:
    from seattui.portal.context import Tx
    from seattui.portal.services import accounts, discounts

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            org = await accounts.organization_by_name(conn, args.org)
            cleared = await discounts.clear_reseller(
                Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now()), args.product)
        _say(f"{args.org}: " + (f"no more discount on {_scope(args.product)}." if cleared
                                else f"had no discount on {_scope(args.product)}; nothing changed."))
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_discount_list(args: argparse.Namespace) -> int:
    from seattui.portal.services import accounts, discounts

    async def work(portal: Any) -> int:
        async with portal.store.read() as conn:
            org_id = (await accounts.organization_by_name(conn, args.org)).org_id if args.org else None
            found = await discounts.list_reseller(conn, org_id)
        if args.json:
            print("[" + ",".join(item.model_dump_json() for item in found) + "]")
        elif not found:
            print("No reseller discounts: give one with seattui discount set --org NAME PERCENT.")
        else:
            width = max(len(item.org) for item in found)
            for item in found:
                _say(f"{item.org:<{width}}  {item.percent.normalize():f}% off {_scope(item.product_id)}")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_coupon_create(args: argparse.Namespace) -> int:
    from seattui.domain.discounts import OncePer
    from seattui.domain.money import parse_credits
    from seattui.portal.services import discounts

    percent = _percent(args.percent) if args.percent is not None else None
    amount = None
    if args.amount is not None:
        try:
            amount = parse_credits(args.amount)
        except ValueError as error:
            _fail(f"--amount: {error}", EXIT_USAGE)
    valid_from, valid_until = _date(args.valid_from, "--from"), _date(args.valid_until, "--until")

    async def work(portal: Any) -> int:
        async with portal.store.write() as conn:
            coupon = await discounts.create_coupon(
                conn, portal.catalog, portal.now(), args.code, percent=percent, amount=amount,
                product_ids=args.product or [], valid_from=valid_from, valid_until=valid_until,
                max_redemptions=args.max_redemptions, months=args.months, once_per=OncePer(args.once_per))
        _say(f"Coupon {coupon.code}: {coupon.words()}.")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def cmd_coupon_list(args: argparse.Namespace) -> int:
    from seattui.portal.services import discounts

    async def work(portal: Any) -> int:
        async with portal.store.read() as conn:
            found = await discounts.list_coupons(conn)
        if args.json:
            print("[" + ",".join(coupon.model_dump_json() for coupon in found) + "]")
        elif not found:
            print("No coupons: create one with seattui coupon create CODE --percent P.")
        for coupon in [] if args.json else found:
            uses = f"{coupon.redeemed} of {coupon.max_redemptions} used" if coupon.max_redemptions else f"{coupon.redeemed} used"
            days = (f", from {coupon.valid_from}" if coupon.valid_from else "") + (
                f", until {coupon.valid_until}" if coupon.valid_until else "")
            once = "; once per customer" if coupon.once_per.value == "customer" else ""
            _say(f"{coupon.code:<14}  {coupon.words()}{days}; {uses}{once}")
        return EXIT_OK

    return _run(_with_portal(args.db, work))


def add_commands(commands: Any, db_help: str) -> None:
    discount = commands.add_parser("discount", help="reseller discounts of organizations (portal operator)",
                                   description="A percentage off an organization's orders, overall or per product, "
                                               "shown as its own line on every quote, order and invoice.")
    discount_commands = discount.add_subparsers(title="commands", metavar="COMMAND", required=True)
    set_parser = discount_commands.add_parser("set", help="give an organization a percentage off")
    set_parser.add_argument("percent", help="like 10 or 12.5")
    set_parser.add_argument("--org", required=True, help="the organization's name")
    set_parser.add_argument("--product", help="only this product (its catalog id); else every product")
    set_parser.add_argument("--db", help=db_help)
    set_parser.set_defaults(handler=cmd_discount_set)
    clear = discount_commands.add_parser("clear", help="take a discount away")
    clear.add_argument("--org", required=True, help="the organization's name")
    clear.add_argument("--product", help="the product's discount; else the overall one")
    clear.add_argument("--db", help=db_help)
    clear.set_defaults(handler=cmd_discount_clear)
    listing = discount_commands.add_parser("list", help="the discounts, of every organization or one")
    listing.add_argument("--org", help="the organization's name")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--db", help=db_help)
    listing.set_defaults(handler=cmd_discount_list)

    coupon = commands.add_parser("coupon", help="coupons (portal operator)",
                                 description="Codes that take a percentage or an amount off an order (or, with "
                                             "--months, off a subscription's first months); each organization, or "
                                             "each customer, uses a coupon once.")
    coupon_commands = coupon.add_subparsers(title="commands", metavar="COMMAND", required=True)
    create = coupon_commands.add_parser("create", help="a new coupon")
    create.add_argument("code", help="letters, digits, - and _ (upper-cased)")
    off = create.add_mutually_exclusive_group(required=True)
    off.add_argument("--percent", help="percentage off, like 10")
    off.add_argument("--amount", help="credits off, like 50 or 12.50")
    create.add_argument("--product", action="append", help="only for this product (repeat for more); else every product")
    create.add_argument("--from", dest="valid_from", help="first day it may be used, like 2026-12-01")
    create.add_argument("--until", dest="valid_until", help="last day it may be used, like 2026-12-31")
    create.add_argument("--max-redemptions", type=int, help="uses in all (each organization at most once)")
    create.add_argument("--months", type=int, metavar="M",
                        help="also off the renewals of the subscription or seat plan it is used on, for M months "
                             "from its use (default: once, on the order)")
    create.add_argument("--once-per", choices=("organization", "customer"), default="organization",
                        help="used at most once per organization (default), or once per customer of the order")
    create.add_argument("--db", help=db_help)
    create.set_defaults(handler=cmd_coupon_create)
    coupon_list = coupon_commands.add_parser("list", help="the coupons and their uses")
    coupon_list.add_argument("--json", action="store_true", help="print JSON")
    coupon_list.add_argument("--db", help=db_help)
    coupon_list.set_defaults(handler=cmd_coupon_list)
