"""Customers of the organization: the list (filter as you type, keyset pages, counts and this
year's spend), one customer with what they hold and were charged for, adding and editing.
Licenses and subscriptions link themselves to a customer as they are assigned to an email
(queries/customers.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError

from seattui.domain.customers import (
    Customer,
    CustomerDetail,
    CustomerDetails,
    CustomerFilter,
    CustomerLicense,
    CustomerOrderLine,
    CustomerSort,
    NewCustomer,
)
from seattui.domain.errors import Conflict, NotFound
from seattui.domain.licensing import Term
from seattui.domain.money import from_hundredths
from seattui.domain.paging import Page
from seattui.domain.roles import Permission
from seattui.portal.context import Tx
from seattui.portal.paging import along_the_sort, containing, keyset_page
from seattui.portal.queries.licenses import status_of
from seattui.portal.queries.subscriptions import subscription_query
from seattui.portal.queries.invitations import customer_invited_until, customer_user
from seattui.portal.services import audit
from seattui.portal.store.sets import among
from seattui.portal.store.tables import customers, invoices, licenses, order_lines, orders, subscriptions
from seattui.portal.trigrams import few_candidates

SORT_COLUMNS = {
    CustomerSort.EMAIL: customers.c.email,
    CustomerSort.NAME: customers.c.name,
    CustomerSort.COMPANY: customers.c.company,
    CustomerSort.CREATED: customers.c.id,
}
SEARCHED = (customers.c.email, customers.c.name, customers.c.company)
MAX_HOLDINGS, MAX_LINES = 200, 100


def _year_start(tx: Tx) -> datetime:
    return datetime(tx.today.year, 1, 1, tzinfo=timezone.utc)


async def _figures(tx: Tx, ids: Sequence[int]) -> dict[int, tuple[int, int, Decimal]]:
    """Per customer: licenses, subscriptions, and the sum of this year's order lines for them
    (refund lines are negative, so a refund takes back what it returned)."""
    figures = {customer_id: [0, 0, 0] for customer_id in ids}
    if not ids:
        return {}
    for position, table in ((0, licenses), (1, subscriptions)):
        rows = await tx.conn.execute(
            select(table.c.customer_id, func.count()).where(
                table.c.org_id == tx.org_id, among(tx.conn, table.c.customer_id, ids)).group_by(table.c.customer_id))
        for customer_id, count in rows:
            figures[customer_id][position] = count
    held = union_all(*(
        select(table.c.id.label("object_id"), literal(kind).label("object_type"), table.c.customer_id)
        .where(table.c.org_id == tx.org_id, among(tx.conn, table.c.customer_id, ids))
        for kind, table in (("license", licenses), ("subscription", subscriptions))
    )).subquery()
    rows = await tx.conn.execute(
        select(held.c.customer_id, func.sum(order_lines.c.amount))
        .select_from(held.join(order_lines, (order_lines.c.object_type == held.c.object_type)
                               & (order_lines.c.object_id == held.c.object_id))
                     .join(orders, orders.c.id == order_lines.c.order_id))
        # From each object to its lines and each line to its order by the order's id: SQLite, left
        # to itself, walked every order of the year for each object (half a second a page at 100,000).
        .where(along_the_sort(orders.c.org_id == tx.org_id), along_the_sort(orders.c.placed_at >= _year_start(tx)))
        .group_by(held.c.customer_id))
    for customer_id, spent in rows:
        figures[customer_id][2] = int(spent or 0)
    return {customer_id: (held_licenses, held_subscriptions, from_hundredths(spent))
            for customer_id, (held_licenses, held_subscriptions, spent) in figures.items()}


def _customer(row: Any, figures: tuple[int, int, Decimal]) -> Customer:
    return Customer(id=row.id, email=row.email, name=row.name, company=row.company, address=row.address,
                    notes=row.notes, licenses=figures[0], subscriptions=figures[1], spend_this_year=figures[2],
                    created_at=row.created_at)


async def _with_figures(tx: Tx, rows: Sequence[Any]) -> list[Customer]:
    figures = await _figures(tx, [row.id for row in rows])
    return [_customer(row, figures[row.id]) for row in rows]


def _conditions(tx: Tx, chosen: CustomerFilter) -> list[Any]:
    return [customers.c.org_id == tx.org_id, *(containing(tx.conn, SEARCHED, word) for word in chosen.text.split())]


# Up to this many customers matching a filter are gathered by one pass over the customers, and
# their page read by id; past it a page walks the sort's index checking each row, and stops early.
FEW_MATCHES = 2_000


async def list_page(tx: Tx, chosen: CustomerFilter, *, sort: CustomerSort, descending: bool, cursor: str | None,
                    limit: int) -> Page[Customer]:
    conditions = _conditions(tx, chosen)
    count: Any = select(func.count()).select_from(customers).where(*conditions)
    words = chosen.text.split()
    if words:
        # On SQLite the trigram index names the candidates of every word (portal/trigrams.py):
        # without it, a rare word read every customer of the organization, for each keystroke.
        named = await few_candidates(tx.conn, "customer_trigrams", *words)
        if named is not None:
            conditions.append(customers.c.id.in_(named))
            count = select(func.count()).select_from(customers).where(*conditions)
        # This pass stops at FEW_MATCHES: a rare word read through the sort's index walked all
        # 100,000 rows (a second, and a count's pass besides).
        few = list((await tx.conn.execute(select(customers.c.id).where(*conditions).limit(FEW_MATCHES + 1))).scalars())
        if len(few) <= FEW_MATCHES:
            # Read by id. The organization's index on (org_id, the sort) would serve the order, so
            # SQLite walked all of it checking each row against the ids: 60 ms for a handful of
            # 100,000, against 0.3 looking each up and sorting them. `+ 0` keeps it off that index.
            conditions = [customers.c.org_id + 0 == tx.org_id, among(tx.conn, customers.c.id, few)]
            count = len(few)
    page = await keyset_page(
        tx.conn, select(customers).where(*conditions), sort=SORT_COLUMNS[sort], id_column=customers.c.id,
        descending=descending, cursor=cursor, limit=limit, convert=lambda row: row, count=count)
    return Page[Customer](items=await _with_figures(tx, page.items), next_cursor=page.next_cursor, total=page.total)


async def _row(tx: Tx, customer_id: int, *, lock: bool = False) -> Any:
    query = select(customers).where(customers.c.id == customer_id, customers.c.org_id == tx.org_id)
    row = (await tx.conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"There is no customer {customer_id} in your organization.", {"customer_id": customer_id})
    return row


async def get(tx: Tx, customer_id: int) -> Customer:
    return (await _with_figures(tx, [await _row(tx, customer_id)]))[0]


async def _holdings(tx: Tx, customer_id: int) -> list[CustomerLicense]:
    held: list[CustomerLicense] = []
    rows = await tx.conn.execute(
        select(licenses).where(licenses.c.org_id == tx.org_id, licenses.c.customer_id == customer_id)
        .order_by(licenses.c.id.desc()).limit(MAX_HOLDINGS))
    for row in rows:
        term = Term(row.term)
        status = status_of(term, row.trial_ends_on, row.term_ends_on, row.device_fingerprint is not None, tx.today)
        product = tx.catalog.find(row.product_id)
        name = product.name if product else row.product_id
        unit = product.unit.label(row.quantity) if product else "units"
        held.append(CustomerLicense(kind="license", id=row.id, key=row.key, product_id=row.product_id,
                                    what=f"{name} {term.value}, {row.quantity:,} {unit}", status=status.value))
    rows = await tx.conn.execute(
        subscription_query().where(subscriptions.c.org_id == tx.org_id, subscriptions.c.customer_id == customer_id)
        .order_by(subscriptions.c.id.desc()).limit(MAX_HOLDINGS))
    for row in rows:
        ended = row.period_ends_on < tx.today
        product = tx.catalog.find(row.product_id)
        held.append(CustomerLicense(kind="subscription", id=row.id, key=row.key, product_id=row.product_id,
                                    what=f"{product.name if product else row.product_id} subscription, "
                                         f"{row.channels:,} channel{'s' if row.channels != 1 else ''}",
                                    status="ended" if ended else "active"))
    return held[:MAX_HOLDINGS]


async def _lines(tx: Tx, customer_id: int) -> list[CustomerOrderLine]:
    held = union_all(*(
        select(table.c.id.label("object_id"), literal(kind).label("object_type"))
        .where(table.c.org_id == tx.org_id, table.c.customer_id == customer_id)
        for kind, table in (("license", licenses), ("subscription", subscriptions))
    )).subquery()
    rows = await tx.conn.execute(
        select(order_lines, orders.c.placed_at, invoices.c.number.label("invoice_number"))
        .select_from(held.join(order_lines, (order_lines.c.object_type == held.c.object_type)
                               & (order_lines.c.object_id == held.c.object_id))
                     .join(orders, orders.c.id == order_lines.c.order_id)
                     .join(invoices, invoices.c.id == orders.c.invoice_id))
        .where(orders.c.org_id == tx.org_id)
        .order_by(orders.c.placed_at.desc(), order_lines.c.id.desc()).limit(MAX_LINES))
    return [CustomerOrderLine(
        order_id=row.order_id, placed_at=row.placed_at, invoice_number=row.invoice_number,
        description=row.description, quantity=row.quantity, unit_price=from_hundredths(row.unit_price),
        discount=from_hundredths(row.discount), amount=from_hundredths(row.amount), service_start=row.service_start,
        service_end=row.service_end, object_type=row.object_type, object_id=row.object_id) for row in rows]


async def detail(tx: Tx, customer_id: int) -> CustomerDetail:
    customer = await get(tx, customer_id)
    user = await customer_user(tx, customer_id)
    return CustomerDetail(customer=customer, holdings=await _holdings(tx, customer_id),
                          lines=await _lines(tx, customer_id), login=user.login if user else None,
                          invited_until=await customer_invited_until(tx, customer_id),
                          login_disabled_at=user.disabled_at if user else None)


async def add(tx: Tx, new: NewCustomer) -> Customer:
    tx.actor.require(Permission.ASSIGN)
    taken = await tx.conn.scalar(select(customers.c.id).where(customers.c.org_id == tx.org_id,
                                                              customers.c.email == new.email))
    if taken is not None:
        raise Conflict(f"{new.email} is already customer {taken}; edit that one instead.", {"customer_id": taken})
    try:
        async with tx.conn.begin_nested():
            customer_id = (await tx.conn.execute(
                customers.insert().values(org_id=tx.org_id, email=new.email, name=new.name, company=new.company,
                                          address=new.address, notes=new.notes, created_at=tx.now,
                                          updated_at=tx.now).returning(customers.c.id))).scalar_one()
    except IntegrityError:  # added by someone else this very moment
        raise Conflict(f"{new.email} was just added as a customer; refresh the list.", {"email": new.email}) from None
    await audit.record(tx, "customer.add", "customer", customer_id, f"Added customer {new.email}",
                       new.model_dump(mode="json"))
    return await get(tx, customer_id)


async def edit(tx: Tx, customer_id: int, details: CustomerDetails) -> Customer:
    tx.actor.require(Permission.ASSIGN)
    before = await _row(tx, customer_id, lock=True)
    await tx.conn.execute(update(customers).where(customers.c.id == customer_id, customers.c.org_id == tx.org_id)
                          .values(**details.model_dump(), updated_at=tx.now))
    await audit.record(tx, "customer.edit", "customer", customer_id, f"Edited customer {before.email}",
                       {"before": {field: getattr(before, field) for field in CustomerDetails.model_fields},
                        "after": details.model_dump(mode="json")})
    return await get(tx, customer_id)
