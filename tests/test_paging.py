"""Keyset pagination: any sort, either direction, pages without gaps or repeats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, literal_column, select

from seattui.portal.paging import keyset_page
from seattui.portal.store import Store
from seattui.portal.store.tables import activation_keys, licenses, organizations

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def seed(store: Store, count: int) -> int:
    async with store.write() as conn:
        org = (await conn.execute(insert(organizations).values(name="P", kind="reseller", created_at=NOW)
                                  .returning(organizations.c.id))).scalar_one()
        key = (await conn.execute(insert(activation_keys).values(org_id=org, key="AAAA-BBBB-CCCC-DDDD",
                                                                 created_at=NOW).returning(activation_keys.c.id))).scalar_one()
        rows = [
            {"org_id": org, "key_id": key, "key": "AAAA-BBBB-CCCC-DDDD", "product_id": "p", "term": "permanent", "quantity": 1 + i % 7,
             "support_ends_on": None if i % 5 == 0 else date(2026, 1, 1) + timedelta(days=i % 40),
             "customer_email": f"c{i % 13}@x.example", "created_at": NOW, "updated_at": NOW}
            for i in range(count)
        ]
        await conn.execute(insert(licenses), rows)
    return org


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("column", ["support_ends_on", "quantity", "customer_email"])
async def test_pages_follow_the_sort_without_gaps_or_repeats(database_url: str, column: str, descending: bool) -> None:
    store = Store(database_url)
    org = await seed(store, 300)
    # As the lists' sorts are (tables._never_null): the sentinel is SQL text. Bound, 9999-12-31
    # would reach PostgreSQL as 'infinity' (asyncpg's date.max), a day no cursor names.
    sentinel = {"support_ends_on": "'9999-12-31'", "quantity": "0", "customer_email": "''"}[column]
    sort = func.coalesce(licenses.c[column], literal_column(sentinel))
    query = select(licenses.c.id).where(licenses.c.org_id == org)
    seen: list[tuple[object, int]] = []
    cursor = None
    async with store.read() as conn:
        expected = [(row[0], row[1]) for row in (await conn.execute(
            select(sort, licenses.c.id).where(licenses.c.org_id == org))).all()]
        while True:
            page = await keyset_page(
                conn, query, sort=sort, id_column=licenses.c.id, descending=descending, cursor=cursor, limit=37,
                convert=lambda row: (row._sort_value, row.id),
                count=select(func.count()).where(licenses.c.org_id == org),
            )
            if cursor is None:
                assert page.total == 300
            seen.extend(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    await store.dispose()
    assert seen == sorted(expected, reverse=descending)
