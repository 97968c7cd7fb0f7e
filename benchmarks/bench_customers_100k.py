"""The customers screen with 100,000 customers, against Textual's DataTable holding the same
rows (the method and figures of list_screen.py). Each customer holds a license bought this
year, so every row's licenses, subscriptions and spend this year are figures the portal works
out; the filter looks in the email, name and company. Targets: rows visible within 300 ms, a
filter keystroke within 150 ms, a cursor move within 50 ms at the 95th percentile."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from list_screen import ListScreen, Row, measure

CUSTOMERS = 100_000
CURSOR_MOVES = 200
OPENINGS = 3
SMOKE = {"customers": 2_000, "cursor_moves": 20, "openings": 1}
COMPANIES = ["Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Proseware", "Woodgrove", "Relecloud",
             "Adatum", "Lamna", "Fourth Coffee", "Coho", "Wingtip", "Alpine", "Humongous", "Margie"]
FIRST = ["Ada", "Ben", "Chloe", "Dev", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kira", "Luis", "Mina", "Nils"]


SCREEN = ListScreen(
    screen_id="customers",
    table=lambda screen: table.first() if (table := screen.query("#customers-table")) else None,
    typed="wingtip 042",
    columns=("Email", "Licenses", "Subscriptions", "Spend", "Name", "Company"),
    searched=lambda row: (row[0], row[4], row[5]),
)


async def seed(database: Path, count: int) -> str:
    """`count` licenses (benchmarks/license_data.py), each its own customer's, each bought this
    year on an order of 100 lines; returns a session token of the owner."""
    from sqlalchemy import bindparam, insert, select, update

    from license_data import LOGIN, NOW, PASSWORD
    from license_data import seed as seed_licenses
    from seattui.domain.accounts import Credentials
    from seattui.portal.runtime import Portal
    from seattui.portal.services import auth
    from seattui.portal.store.tables import customers, invoices, licenses, order_lines, orders
    from seattui.wiring import portal_settings

    await seed_licenses(database, count)
    this_year = datetime(datetime.now(UTC).year, 1, 2, 9, 0, tzinfo=UTC)  # "spend this year" counts it
    portal = Portal(portal_settings(database))
    await portal.start()
    try:
        async with portal.store.write() as conn:
            org_id, paid = zip(*(await conn.execute(select(licenses.c.org_id, licenses.c.paid)
                                                    .order_by(licenses.c.id))).all(), strict=True)
            await conn.execute(insert(customers), [
                {"id": number, "org_id": org_id[0],
                 "email": f"{FIRST[number % len(FIRST)].lower()}.{number:06d}@{COMPANIES[number % 16].lower().replace(' ', '')}.example",
                 "name": f"{FIRST[number % len(FIRST)]} {number:06d}", "company": COMPANIES[number % 16],
                 "created_at": NOW, "updated_at": NOW} for number in range(1, count + 1)])
            await conn.execute(update(licenses).where(licenses.c.id == bindparam("license")).values(
                customer_id=bindparam("customer")),
                [{"license": number, "customer": number} for number in range(1, count + 1)])
            invoice_id = (await conn.execute(insert(invoices).values(
                org_id=org_id[0], kind="order", status="paid", period_start=this_year.date(),
                period_end=this_year.date(), total=sum(paid), paid=sum(paid), created_at=this_year,
            ).returning(invoices.c.id))).scalar_one()
            orders_count = (count + 99) // 100
            await conn.execute(insert(orders), [
                {"id": number, "org_id": org_id[0], "kind": "purchase", "placed_at": this_year, "placed_by": LOGIN,
                 "paid_with": "credits", "total": sum(paid[(number - 1) * 100:number * 100]), "invoice_id": invoice_id}
                for number in range(1, orders_count + 1)])
            await conn.execute(insert(order_lines), [
                {"order_id": (number - 1) // 100 + 1, "position": (number - 1) % 100 + 1, "description": "License",
                 "quantity": 1, "unit_price": paid[number - 1], "amount": paid[number - 1],
                 "object_type": "license", "object_id": number} for number in range(1, count + 1)])
        await portal.store.analyze()
        return (await auth.login(portal, Credentials(login=LOGIN, password=PASSWORD))).token
    finally:
        await portal.close()


async def _rows(database: Path) -> list[Row]:
    from sqlalchemy import func, select

    from seattui.portal.store import Store
    from seattui.portal.store.tables import customers, licenses, order_lines

    store = Store(database)
    try:
        async with store.read() as conn:
            held = dict((await conn.execute(select(licenses.c.customer_id, func.count())
                                            .group_by(licenses.c.customer_id))).all())
            spent = dict((await conn.execute(select(order_lines.c.object_id, order_lines.c.amount))).all())
            result = await conn.execute(select(customers).order_by(customers.c.email, customers.c.id))
            return [(r.email, str(held.get(r.id, 0)), "0", f"{spent.get(r.id, 0) / 100:,.2f}", r.name, r.company)
                    for r in result]
    finally:
        await store.dispose()


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    size = SMOKE if smoke else {"customers": CUSTOMERS, "cursor_moves": CURSOR_MOVES, "openings": OPENINGS}

    async def seeded(database: Path) -> tuple[str, str]:
        from license_data import LOGIN

        return LOGIN, await seed(database, size["customers"])

    yield from measure(SCREEN, seeded, _rows, cursor_moves=size["cursor_moves"], openings=size["openings"])
