"""The store under the license lists: migration 0002 fills what it adds, and on SQLite (which
cannot reflect indexes on expressions, so test_store.py cannot compare them) every sort and
filter of the lists is answered from an index, never by sorting or scanning the table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, insert, select, text

from seattui.domain.licensing import LicenseFilter, LicenseSort, LicenseStatus, Term
from seattui.domain.roles import OrgKind
from seattui.portal.catalog import load_catalog
from seattui.portal.context import Tx
from seattui.portal.services import accounts, licenses
from seattui.portal.store import Store
from seattui.portal.store.migrate import alembic_config
from seattui.portal.store.tables import activation_keys, license_search, organizations
from seattui.portal.store.tables import licenses as licenses_table

NOW = datetime(2026, 3, 2, tzinfo=UTC)


async def test_migration_0002_gives_existing_licenses_their_key_and_search_text(tmp_path: Any) -> None:
    store = Store(tmp_path / "old.db")
    async with store.write() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0001"))
        await conn.execute(text("INSERT INTO organizations (id, name, kind, created_at) VALUES (1, 'O', 'reseller', '2026-01-01')"))
        await conn.execute(text("INSERT INTO activation_keys (id, org_id, key, name, created_at) "
                                "VALUES (7, 1, 'ABCD-EFGH-JKLM-NPQR', '', '2026-01-01')"))
        await conn.execute(text(
            "INSERT INTO licenses (org_id, key_id, product_id, term, quantity, customer_email, comment, created_at, "
            "updated_at) VALUES (1, 7, 'remotedesk', 'permanent', 3, 'IT@Contoso.example', 'PO 12', '2026-01-01', "
            "'2026-01-01')"))
    await store.migrate()
    async with store.read() as conn:
        assert (await conn.execute(select(licenses_table.c.key))).scalar_one() == "ABCD-EFGH-JKLM-NPQR"
        assert (await conn.execute(select(license_search.c.text))).scalar_one() == "abcd-efgh-jklm-npqr it@contoso.example po 12"
    await store.dispose()


@pytest.fixture
async def store(sqlite_url: str) -> Any:
    store = Store(sqlite_url)
    async with store.write() as conn:
        org = (await conn.execute(insert(organizations).values(name="P", kind="reseller", created_at=NOW)
                                  .returning(organizations.c.id))).scalar_one()
        key = (await conn.execute(insert(activation_keys).values(org_id=org, key="AAAA-BBBB-CCCC-DDDD", created_at=NOW)
                                  .returning(activation_keys.c.id))).scalar_one()
        await conn.execute(insert(licenses_table), [
            {"org_id": org, "key_id": key, "key": "AAAA-BBBB-CCCC-DDDD", "product_id": "remotedesk",
             "edition_id": "standard", "term": "permanent", "quantity": i % 5 + 1, "created_at": NOW,
             "updated_at": NOW, "support_ends_on": date(2026, 1, 1 + i % 28)} for i in range(50)])
    yield store, org
    await store.dispose()


FILTERS = [LicenseFilter(), LicenseFilter(q="contoso"), LicenseFilter(product_id="mailguard"),
           LicenseFilter(edition_id="basic"), LicenseFilter(term=Term.TRIAL),
           LicenseFilter(status=LicenseStatus.ACTIVATED), LicenseFilter(support="expired"),
           LicenseFilter(support_from=date(2026, 1, 1), support_to=date(2026, 2, 1)), LicenseFilter(trial_ending=True),
           LicenseFilter(expired=True), LicenseFilter(term=Term.PERMANENT, support_ending_days=90)]


@pytest.mark.parametrize("sort", list(LicenseSort))
async def test_every_sort_and_filter_of_the_list_uses_an_index(store: Any, sort: LicenseSort) -> None:
    store, org = store
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
    async with store.read() as conn:
        tx = Tx(conn=conn, actor=accounts.system_actor(org, "P", OrgKind.RESELLER), catalog=load_catalog(None), now=NOW)
        for wanted in FILTERS:
            for descending in (False, True):
                await licenses.list_licenses(tx, wanted, sort=sort, descending=descending, cursor=None, limit=10)
        event.remove(store.engine.sync_engine, "before_cursor_execute", capture)
        for statement, parameters in statements:
            plan = " / ".join(row[3] for row in (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                             parameters)).all())
            assert "TEMP B-TREE" not in plan and "SCAN licenses" not in plan, f"{plan}\n{statement}"
