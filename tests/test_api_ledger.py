"""The ledger and the orders as lists of any length: newest first, filtered by days, kind and
text in the portal, paged by keyset, every filter answered by an index."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from seattui.domain.billing import OrderFilter, OrderKind
from seattui.domain.credits import LedgerFilter, LedgerReason
from seattui.domain.errors import ValidationFailed
from seattui.domain.licensing import LicenseUpgrade
from seattui.portal.services import billing, credits

from harness import PortalHarness
from test_api_billing import a_key, permanent


async def three_orders(harness: PortalHarness) -> Any:
    """A purchase on 2 March, an upgrade on 10 March, another purchase on 20 March."""
    owner = await harness.login("acme-owner")
    first = await owner.create_license(permanent(await a_key(harness), quantity=2, reference_name="Front desk"))
    harness.clock.advance(days=8)
    await owner.upgrade_license(first.id, LicenseUpgrade(quantity=4, po_number="PO-2026-17"))
    harness.clock.advance(days=10)
    await owner.create_license(permanent(await a_key(harness), quantity=1))
    return owner


async def all_pages(fetch: Any, wanted: Any, limit: int) -> list[Any]:
    items, cursor = [], None
    while True:
        page = await fetch(wanted, cursor=cursor, limit=limit)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


async def test_orders_newest_first_filtered_by_days_kind_and_text(harness: PortalHarness) -> None:
    owner = await three_orders(harness)
    every = await all_pages(owner.orders, OrderFilter(), limit=1)
    assert [(order.kind, order.placed_at.date()) for order in every] == [
        (OrderKind.PURCHASE, date(2026, 3, 20)), (OrderKind.UPGRADE, date(2026, 3, 10)),
        (OrderKind.PURCHASE, date(2026, 3, 2))]

    async def shown(**wanted: Any) -> list[date]:
        return [order.placed_at.date() for order in await all_pages(owner.orders, OrderFilter(**wanted), limit=1)]

    assert await shown(since=date(2026, 3, 10), until=date(2026, 3, 10)) == [date(2026, 3, 10)]  # both days included
    assert await shown(since=date(2026, 3, 3)) == [date(2026, 3, 20), date(2026, 3, 10)]
    assert await shown(until=date(2026, 3, 19)) == [date(2026, 3, 10), date(2026, 3, 2)]
    assert await shown(kind=OrderKind.PURCHASE) == [date(2026, 3, 20), date(2026, 3, 2)]
    assert await shown(kind=OrderKind.PURCHASE, since=date(2026, 3, 3)) == [date(2026, 3, 20)]
    assert await shown(q="front DESK") == [date(2026, 3, 2)]  # the reference name, whatever the case
    assert await shown(q="po-2026") == [date(2026, 3, 10)]  # the PO number
    assert await shown(q="1 user") == [date(2026, 3, 20)]  # a line's description
    assert await shown(q="100%") == []  # a wildcard is a character like any other


async def test_ledger_newest_first_filtered_by_days_reason_and_text(harness: PortalHarness) -> None:
    owner = await three_orders(harness)
    every = await all_pages(owner.ledger, LedgerFilter(), limit=2)
    assert [entry.reason for entry in every] == [LedgerReason.LICENSE, LedgerReason.UPGRADE, LedgerReason.LICENSE,
                                                 LedgerReason.GRANT]
    assert every[0].balance_after == (await owner.balance()).balance

    async def reasons(**wanted: Any) -> list[LedgerReason]:
        return [entry.reason for entry in await all_pages(owner.ledger, LedgerFilter(**wanted), limit=1)]

    assert await reasons(reason=LedgerReason.LICENSE) == [LedgerReason.LICENSE, LedgerReason.LICENSE]
    assert await reasons(since=date(2026, 3, 5), until=date(2026, 3, 15)) == [LedgerReason.UPGRADE]
    assert await reasons(reason=LedgerReason.LICENSE, since=date(2026, 3, 5)) == [LedgerReason.LICENSE]
    assert await reasons(q="acme-owner") == [LedgerReason.LICENSE, LedgerReason.UPGRADE, LedgerReason.LICENSE]
    assert await reasons(q="no such words") == []


async def test_a_range_backwards_or_an_unknown_kind_is_refused_in_plain_words(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    token = owner.token
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://p",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        backwards = await http.get("/api/v1/orders", params={"since": "2026-03-10", "until": "2026-03-01"})
        assert backwards.status_code == 422
        assert "on or before" in backwards.text
        for path, params in (("/api/v1/orders", {"kind": "gift"}), ("/api/v1/credits/ledger", {"reason": "gift"}),
                             ("/api/v1/credits/ledger", {"since": "yesterday"}),
                             ("/api/v1/orders", {"q": "x" * 101}), ("/api/v1/orders", {"q": "\x1b[2J"}),
                             ("/api/v1/credits/ledger", {"cursor": "not-a-cursor"})):
            answer = await http.get(path, params=params)
            assert answer.status_code == 422, (path, params, answer.text)
    with pytest.raises(ValidationFailed):
        await owner.orders(cursor="AAAA")


FILTERS: list[dict[str, Any]] = [{}, {"since": date(2026, 3, 1)}, {"since": date(2026, 3, 1), "until": date(2026, 3, 31)},
                                 {"q": "desk"}]


async def test_every_filter_of_the_ledger_and_orders_walks_an_index(harness_sqlite: PortalHarness) -> None:
    engine = harness_sqlite.portal.store.engine.sync_engine
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    async with harness_sqlite.as_org("Acme") as tx:
        event.listen(engine, "before_cursor_execute", capture)
        for wanted in FILTERS:
            for reason in (None, LedgerReason.LICENSE):
                ledger_filter = LedgerFilter(**wanted, reason=reason)
                page = await credits.ledger(tx, cursor=None, limit=1, wanted=ledger_filter)
                if page.next_cursor:
                    await credits.ledger(tx, cursor=page.next_cursor, limit=1, wanted=ledger_filter)
            for kind in (None, OrderKind.PURCHASE):
                order_filter = OrderFilter(**wanted, kind=kind)
                page = await billing.list_orders(tx, cursor=None, limit=1, wanted=order_filter)
                if page.next_cursor:
                    await billing.list_orders(tx, cursor=page.next_cursor, limit=1, wanted=order_filter)
        event.remove(engine, "before_cursor_execute", capture)
        # The pages themselves (a page's lines are then read by order id: a few rows, sorted).
        pages = [(statement, parameters) for statement, parameters in statements if "LIMIT" in statement]
        assert len(pages) >= 24
        for statement, parameters in pages:
            plan = " / ".join(row[3] for row in (await tx.conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters)).all())
            assert "TEMP B-TREE" not in plan, f"{plan}\n{statement}"
            assert "SCAN ledger_entries" not in plan and "SCAN orders" not in plan, f"{plan}\n{statement}"


@pytest.fixture
async def harness_sqlite(sqlite_url: str) -> Any:
    from harness import running_portal

    async with running_portal(sqlite_url) as running:
        await three_orders(running)
        yield running
