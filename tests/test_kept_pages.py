"""The unfiltered licenses page is written once and answered again while its rows are as they
were (services/licenses.py, paging.KeptPages): whatever changes them, through the services or
not, the next page asked for is the page written afresh, on both stores."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from seattui.domain.licensing import LicenseFilter, LicenseSort
from seattui.domain.roles import OrgKind
from seattui.portal import paging
from seattui.portal.catalog import load_catalog
from seattui.portal.context import Tx
from seattui.portal.queries.licenses import count_licenses
from seattui.portal.services import accounts, licenses
from seattui.portal.store import Store
from seattui.portal.store.tables import activation_keys, organizations
from seattui.portal.store.tables import licenses as licenses_table

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
CATALOG = load_catalog(None)


async def _organization(store: Store, name: str, count: int) -> int:
    async with store.write() as conn:
        org = (await conn.execute(insert(organizations).values(name=name, kind="reseller", created_at=NOW)
                                  .returning(organizations.c.id))).scalar_one()
        key = f"KEPT-{org:04d}-CCCC-DDDD"
        key_id = (await conn.execute(insert(activation_keys).values(org_id=org, key=key, name="first name",
                                                                    created_at=NOW)
                                     .returning(activation_keys.c.id))).scalar_one()
        await conn.execute(insert(licenses_table), [
            {"org_id": org, "key_id": key_id, "key": key, "product_id": "remotedesk", "edition_id": "standard",
             "term": "trial" if n == 0 else "permanent", "quantity": n + 1, "comment": f"license {n}",
             "trial_ends_on": date(2026, 3, 2) if n == 0 else None, "created_at": NOW, "updated_at": NOW}
            for n in range(count)])
        await count_licenses(conn, org, count)
    return org


async def _page(store: Store, org: int, *, cursor: str | None = None, now: datetime = NOW) -> bytes:
    async with store.point_read() as conn:
        tx = Tx(conn=conn, actor=accounts.system_actor(org, "P", OrgKind.RESELLER), catalog=CATALOG, now=now)
        return await licenses.license_page_json(tx, LicenseFilter(), sort=LicenseSort.KEY, descending=False,
                                                cursor=cursor, limit=5)


async def _afresh(store: Store, org: int, **options: Any) -> bytes:
    paging._KEPT.clear()
    return await _page(store, org, **options)


async def _change(store: Store, statement: str, **values: Any) -> None:
    async with store.write() as conn:
        await conn.execute(text(statement), values)


async def test_a_kept_page_is_answered_until_anything_on_it_changes(database_url: str) -> None:
    store = Store(database_url)
    await store.migrate()
    try:
        org = await _organization(store, "P", 12)
        other = await _organization(store, "Q", 3)
        first = await _page(store, org)
        cursor = json.loads(first)["next_cursor"]
        second = await _page(store, org, cursor=cursor)
        async with store.point_read() as conn:
            pages = paging.kept_pages(conn)  # this database's (other tests' may still be about)
        answered = pages.answered
        assert await _page(store, org) == first and await _page(store, org, cursor=cursor) == second
        assert pages.answered == answered + 2
        # Another organization's page is its own, never the kept one.
        assert json.loads(await _page(store, other))["total"] == 3

        changes = [
            ("UPDATE licenses SET comment = 'edited by hand' WHERE org_id = :org AND quantity = 2", "edited by hand"),
            ("UPDATE activation_keys SET name = 'renamed key' WHERE org_id = :org", "renamed key"),
            ("UPDATE licenses SET device_fingerprint = 'fp-1', device_hostname = 'host-1', "
             "activated_at = '2026-03-01 10:00:00' WHERE org_id = :org AND quantity = 3", "host-1"),
            ("UPDATE license_counts SET licenses = 99 WHERE org_id = :org", '"total":99'),
            ("DELETE FROM licenses WHERE org_id = :org AND quantity = 1", None),
        ]
        for statement, shown in changes:
            before = await _page(store, org)
            await _change(store, statement, org=org)
            after = await _page(store, org)
            assert after != before, statement
            assert after == await _afresh(store, org), statement
            if shown is not None:
                assert shown in after.decode(), statement
        # A license that now sorts first; then one of the next page's edited.
        async with store.write() as conn:
            await conn.execute(insert(licenses_table).values(
                org_id=org, key_id=(await conn.execute(text("SELECT id FROM activation_keys WHERE org_id = :org"),
                                                       {"org": org})).scalar_one(),
                key="AAAA-0000-CCCC-DDDD", product_id="remotedesk", edition_id="standard", term="permanent",
                quantity=7, created_at=NOW, updated_at=NOW))
        added = await _page(store, org)
        assert json.loads(added)["items"][0]["key"] == "AAAA-0000-CCCC-DDDD" and added == await _afresh(store, org)
        before_next = await _page(store, org, cursor=cursor)
        await _change(store, "UPDATE licenses SET comment = 'on the next page' WHERE id = :id",
                      id=json.loads(before_next)["items"][0]["id"])
        after_next = await _page(store, org, cursor=cursor)
        assert "on the next page" in after_next.decode() and after_next == await _afresh(store, org, cursor=cursor)
        # The next day a trial that ended yesterday says so: the day is part of what was asked.
        today = await _page(store, other)
        tomorrow = await _page(store, other, now=NOW + timedelta(days=1))
        assert '"status":"trial_ended"' in tomorrow.decode() and '"status":"trial_ended"' not in today.decode()
    finally:
        paging._KEPT.clear()
        await store.dispose()


def test_kept_pages_keep_the_most_recently_used() -> None:
    pages = paging.KeptPages(2)
    pages.keep("a", 1, b"A")
    pages.keep("b", 1, b"B")
    assert pages.get("a", 1) == b"A"  # used: "b" is now the oldest
    pages.keep("c", 1, b"C")
    assert (pages.get("a", 1), pages.get("b", 1), pages.get("c", 1)) == (b"A", None, b"C")
    assert pages.get("a", 2) is None  # another state: written again
    assert pages.answered == 3
