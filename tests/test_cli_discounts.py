"""The operator's discount and coupon commands, on a portal's database, and an order that
carries both."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from seattui.domain.licensing import LicenseOrder, NewActivationKey, Term
from seattui.portal.context import Tx
from seattui.portal.runtime import Portal
from seattui.portal.services import accounts, billing, keys, licenses
from seattui.portal.settings import PortalSettings

from cli_helpers import seattui
from test_cli_billing import init


def order_total(database: Path, coupon: str | None) -> str:
    async def order() -> str:
        portal = Portal(PortalSettings(database_url=f"sqlite:///{database}"))
        try:
            async with portal.store.write() as conn:
                actor = await accounts.organization_by_name(conn, "Initech")
                tx = Tx(conn=conn, actor=actor, catalog=portal.catalog, now=portal.now())
                key = (await keys.create(tx, NewActivationKey(name="cli"))).key
                await licenses.create(tx, LicenseOrder(key=key, product_id="remotedesk", edition_id="standard",
                                                       term=Term.PERMANENT, quantity=10, coupon=coupon))
                [placed] = (await billing.list_orders(tx, cursor=None, limit=1)).items
                return f"{placed.total}"
        finally:
            await portal.close()

    return asyncio.run(order())


def test_discounts_and_coupons_from_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    init(database)
    db = ("--db", str(database))
    assert seattui("discount", "list", *db).stdout.startswith("No reseller discounts")
    done = seattui("discount", "set", "--org", "Initech", "10", *db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Initech: 10% off every product, from its next order."
    assert seattui("discount", "set", "--org", "Initech", "--product", "remotedesk", "12.5", *db).returncode == 0
    refused = seattui("discount", "set", "--org", "Initech", "--product", "nosuch", "5", *db)
    assert refused.returncode != 0 and "no product 'nosuch'" in refused.stderr
    assert seattui("discount", "set", "--org", "Initech", "150", *db).returncode == 2
    listed = json.loads(seattui("discount", "list", "--org", "Initech", "--json", *db).stdout)
    assert [(item["product_id"], item["percent"]) for item in listed] == [(None, "10.00"), ("remotedesk", "12.50")]

    created = seattui("coupon", "create", "launch", "--amount", "28.75", "--product", "remotedesk",
                      "--until", "2099-12-31", "--max-redemptions", "3", *db)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "Coupon LAUNCH: 28.75 credits off remotedesk."
    both = seattui("coupon", "create", "X", "--percent", "5", "--amount", "5", *db)
    assert both.returncode == 2
    bad_day = seattui("coupon", "create", "Y", "--percent", "5", "--until", "soon", *db)
    assert bad_day.returncode == 2 and "2026-12-31" in bad_day.stderr

    # 490 less 12.5% (61.25) is 428.75, less the coupon's 28.75: 400.00.
    assert order_total(database, "launch") == "400.00"
    [coupon] = json.loads(seattui("coupon", "list", "--json", *db).stdout)
    assert (coupon["code"], coupon["redeemed"], coupon["max_redemptions"]) == ("LAUNCH", 1, 3)
    assert "LAUNCH" in seattui("coupon", "list", *db).stdout and "1 of 3 used" in seattui("coupon", "list", *db).stdout

    assert seattui("discount", "clear", "--org", "Initech", "--product", "remotedesk", *db).returncode == 0
    assert order_total(database, None) == "441.00"  # the overall 10% is left


def test_a_coupon_for_the_first_months_and_once_per_customer_from_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    init(database)
    db = ("--db", str(database))
    created = seattui("coupon", "create", "quarter", "--percent", "50", "--months", "3", "--once-per", "customer", *db)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "Coupon QUARTER: 50% off, for 3 months."
    too_long = seattui("coupon", "create", "ever", "--percent", "5", "--months", "40", *db)
    assert too_long.returncode != 0 and "1 to 36 months" in too_long.stderr
    [coupon] = json.loads(seattui("coupon", "list", "--json", *db).stdout)
    assert (coupon["code"], coupon["months"], coupon["once_per"]) == ("QUARTER", 3, "customer")
    assert "once per customer" in seattui("coupon", "list", *db).stdout
