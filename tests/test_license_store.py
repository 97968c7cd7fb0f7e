"""The store under the license lists: migration 0002 fills what it adds, and on SQLite (which
cannot reflect indexes on expressions, so test_store.py cannot compare them) every sort and
filter of the lists is answered from an index, never by sorting or scanning the table."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, insert, select, text

from seattui.domain.licensing import LicenseFilter, LicenseSort, LicenseStatus, Term
from seattui.domain.roles import OrgKind, Role
from seattui.portal.catalog import load_catalog
from seattui.portal.context import Tx
from seattui.portal.queries import licenses as licenses_module
from seattui.portal.services import accounts, licenses
from seattui.portal.store import Store
from seattui.portal.store.migrate import alembic_config
from seattui.portal.store.tables import activation_keys, customers, license_search, organizations
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
                # The unfiltered page's kept statement (license_page_json), the first and the next.
                first = await licenses.list_licenses(tx, wanted, sort=sort, descending=descending, cursor=None, limit=2)
                for cursor in (None, first.next_cursor):
                    await licenses.license_page_json(tx, wanted, sort=sort, descending=descending, cursor=cursor,
                                                     limit=2)
        event.remove(store.engine.sync_engine, "before_cursor_execute", capture)
        for statement, parameters in statements:
            plan = " / ".join(row[3] for row in (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                             parameters)).all())
            assert "SCAN licenses" not in plan, f"{plan}\n{statement}"
            # A text filter's few matches (at most TEXT_TOTAL_CAP) are looked up by id and sorted.
            sorted_matches = "license_search" in statement and "IN (SELECT license_search.license_id" in statement
            assert "TEMP B-TREE" not in plan or sorted_matches, f"{plan}\n{statement}"


async def test_a_text_filter_counts_to_its_cap_and_finds_exactly_what_holds_the_text(database_url: str) -> None:
    store = Store(database_url)
    await store.migrate()
    comments = ["common note"] * 1_050 + ['rare "quoted" 50%_off'] * 30 + ["plain"] * 20
    async with store.write() as conn:
        orgs = [(await conn.execute(insert(organizations).values(name=name, kind="reseller", created_at=NOW)
                                    .returning(organizations.c.id))).scalar_one() for name in ("P", "Q")]
        for org, texts in ((orgs[0], comments), (orgs[1], ['rare "quoted" 50%_off'] * 5)):
            key = (await conn.execute(insert(activation_keys).values(org_id=org, key=f"AAAA-BBBB-CCCC-{org:04d}",
                                                                     created_at=NOW)
                                      .returning(activation_keys.c.id))).scalar_one()
            ids = (await conn.execute(insert(licenses_table).returning(licenses_table.c.id), [
                {"org_id": org, "key_id": key, "key": f"AAAA-BBBB-CCCC-{org:04d}", "product_id": "remotedesk",
                 "term": "permanent", "quantity": 1, "comment": comment, "created_at": NOW, "updated_at": NOW}
                for comment in texts])).scalars().all()
            await conn.execute(insert(license_search), [
                {"org_id": org, "license_id": license_id, "text": licenses_module.search_text("AAAA", None, comment)}
                for license_id, comment in zip(ids, texts, strict=True)])
    async with store.read() as conn:
        tx = Tx(conn=conn, actor=accounts.system_actor(orgs[0], "P", OrgKind.RESELLER), catalog=load_catalog(None),
                now=NOW)

        async def every(q: str) -> tuple[int | None, bool, list[str]]:
            first = await licenses.list_licenses(tx, LicenseFilter(q=q), sort=LicenseSort.KEY, descending=False,
                                                 cursor=None, limit=400)
            rows, cursor = list(first.items), first.next_cursor
            while cursor:
                page = await licenses.list_licenses(tx, LicenseFilter(q=q), sort=LicenseSort.KEY, descending=False,
                                                    cursor=cursor, limit=400)
                rows, cursor = rows + page.items, page.next_cursor
            return first.total, first.total_at_least, [row.comment for row in rows]

        total, at_least, found = await every("Common")
        assert (total, at_least, len(found), set(found)) == (1_000, True, 1_050, {"common note"})
        total, at_least, found = await every('"QUOTED" 50%_')  # quotes, % and _ are text, not syntax
        assert (total, at_least, found) == (30, False, ['rare "quoted" 50%_off'] * 30)
        assert (await every("o"))[:2] == (1_000, True)
        assert await every("zzzz") == (0, False, [])
        assert await every("50%x") == (0, False, [])
    async with store.write() as conn:
        # The trigram index follows license_search's changes.
        await conn.execute(license_search.update().where(license_search.c.text.like("%quoted%"),
                                                         license_search.c.org_id == orgs[0])
                           .values(text="aaaa  changed"))
    async with store.read() as conn:
        tx = Tx(conn=conn, actor=accounts.system_actor(orgs[0], "P", OrgKind.RESELLER), catalog=load_catalog(None),
                now=NOW)
        assert await every("quoted") == (0, False, [])
        assert (await every("changed"))[:2] == (30, False)
    await store.dispose()


async def test_the_list_page_written_from_rows_is_the_models_json(database_url: str) -> None:
    # The list endpoint answers with JSON written straight from the rows; it must be byte for
    # byte what the LicensePage model would give, for every kind of stored value.
    store = Store(database_url)
    try:
        async with store.write() as conn:
            org = (await conn.execute(insert(organizations).values(name="P", kind="reseller", created_at=NOW)
                                      .returning(organizations.c.id))).scalar_one()
            key = (await conn.execute(insert(activation_keys).values(
                org_id=org, key="AAAA-BBBB-CCCC-DDDD", name='Büro "Nord" \\ 🚀', created_at=NOW)
                .returning(activation_keys.c.id))).scalar_one()
            customer = (await conn.execute(insert(customers).values(
                org_id=org, email="c@x", created_at=NOW, updated_at=NOW).returning(customers.c.id))).scalar_one()
            base = {"org_id": org, "key_id": key, "key": "AAAA-BBBB-CCCC-DDDD", "product_id": "remotedesk",
                    "edition_id": "standard", "term": "permanent", "quantity": 1, "created_at": NOW, "updated_at": NOW}
            for row in [
                base | {"term": "trial", "edition_id": None, "trial_ends_on": date(2026, 2, 1), "paid": 0},
                base | {"term": "trial", "trial_ends_on": date(2026, 4, 1), "customer_email": None,
                        "comment": "line\u2028sep \x1b[31m ESC kept from before the rule"},
                base | {"addons": "archive,audit", "paid": 123456, "support_ends_on": date(2027, 3, 2),
                        "customer_email": "it@contoso.example", "comment": "PO «12» / 'x'",
                        "device_fingerprint": "fp-0001", "device_hostname": None,
                        "activated_at": datetime(2026, 3, 1, 8, 5, 7, 123456, tzinfo=UTC)},
                base | {"term": "annual", "term_ends_on": date(2026, 3, 1), "seat_cap": 40, "paid": 5,
                        "device_fingerprint": "fp-0002", "device_hostname": "pc-2",
                        "activated_at": datetime(2026, 3, 1, tzinfo=UTC),
                        "created_at": datetime(2025, 12, 31, 23, 59, 59, 1, tzinfo=UTC)},
                # Every control character PostgreSQL stores, kept from before the rules refused
                # them; a negative amount; an empty fingerprint (no device); zeros in a fraction.
                base | {"term": "annual", "term_ends_on": date(2027, 3, 1), "seat_cap": 9, "renewal": "end",
                        "paid": -7, "customer_email": "c\x01d\x7f@x", "customer_id": customer,
                        "comment": "".join(map(chr, range(1, 32))) + '\\ "q" \x7f \ud7ff \U0001f680',
                        "device_fingerprint": "", "device_hostname": "\t",
                        "created_at": datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)},
                base | {"paid": 100, "addons": "audit", "customer_id": customer, "device_fingerprint": "fp\n\"3\"",
                        "device_hostname": "pc\x1b[0m", "activated_at": datetime(2026, 3, 1, 0, 0, 0, 500, tzinfo=UTC)},
            ]:
                await conn.execute(insert(licenses_table).values(**row))
        async with store.read() as conn:
            tx = Tx(conn=conn, actor=accounts.system_actor(org, "P", OrgKind.RESELLER), catalog=load_catalog(None),
                    now=NOW)
            # Every sort both ways (the unfiltered page's statement is kept built, with the
            # cursor's row as parameters: a date, a text, a number), page by page to the end.
            for sort in LicenseSort:
                for descending in (False, True):
                    cursor = None
                    for _ in range(4):  # the first page (with the total), then on by the cursor
                        options: dict[str, Any] = {"sort": sort, "descending": descending, "cursor": cursor,
                                                   "limit": 2}
                        page = await licenses.list_licenses(tx, LicenseFilter(), **options)
                        written = await licenses.license_page_json(tx, LicenseFilter(), **options)
                        assert written == page.model_dump_json().encode(), (sort, descending)
                        cursor = page.next_cursor
                        if cursor is None:
                            break
            assert {license.status for license in page.items} <= set(LicenseStatus)
            # Filtered pages are built per request, from the same rows' JSON.
            for wanted in (LicenseFilter(q="x"), LicenseFilter(term=Term.ANNUAL), LicenseFilter(product_id="none")):
                options = {"sort": LicenseSort.KEY, "descending": False, "cursor": None, "limit": 10}
                page = await licenses.list_licenses(tx, wanted, **options)
                assert await licenses.license_page_json(tx, wanted, **options) == page.model_dump_json().encode()
            assert len(page.items) == 0
            # A customer's own login: their licenses alone, without the organization's price,
            # comment and name for the key.
            actor = dataclasses.replace(tx.actor, role=Role.CUSTOMER, customer_id=customer)
            as_customer = dataclasses.replace(tx, actor=actor)
            options = {"sort": LicenseSort.CREATED, "descending": True, "cursor": None, "limit": 10}
            page = await licenses.list_licenses(as_customer, LicenseFilter(), **options)
            blank = {"paid": Decimal("0.00"), "comment": "", "key_name": ""}
            seen = page.model_copy(update={"items": [item.model_copy(update=blank) for item in page.items]})
            assert len(seen.items) == 2
            assert await licenses.license_page_json(as_customer, LicenseFilter(), **options) \
                == seen.model_dump_json().encode()
    finally:
        await store.dispose()


def test_only_a_short_unfiltered_page_is_read_in_the_event_loops_thread() -> None:
    # A filtered page or a customer's (filtered to theirs) may walk past many rows, and 500
    # rows took 2 ms: those are read on a connection's thread, never holding the loop.
    owner = accounts.system_actor(1, "P", OrgKind.RESELLER)
    customer = dataclasses.replace(owner, role=Role.CUSTOMER, customer_id=7)
    assert licenses.page_is_point_read(owner, LicenseFilter(), 100)
    assert not licenses.page_is_point_read(owner, LicenseFilter(), 101)
    assert not licenses.page_is_point_read(customer, LicenseFilter(), 10)
    for wanted in FILTERS[1:]:
        assert not licenses.page_is_point_read(owner, wanted, 10), wanted
        # Known before the token is read, so a filtered page authenticates once, in its read.
        assert licenses.page_point_rule(wanted, 10) is False, wanted
    assert licenses.page_point_rule(LicenseFilter(), 101) is False
    rule = licenses.page_point_rule(LicenseFilter(), 100)
    assert callable(rule) and rule(owner) and not rule(customer)


async def test_the_annual_renewals_due_are_read_from_an_index(store: Any) -> None:
    # The billing run asks at every start and hourly, across organizations: it read every license.
    from seattui.portal.services import seat_plans

    store, org = store
    async with store.write() as conn:
        key = (await conn.execute(select(activation_keys.c.id))).scalar()
        await conn.execute(insert(licenses_table), [
            {"org_id": org, "key_id": key, "key": "AAAA-BBBB-CCCC-DDDD", "product_id": "workspace", "term": "annual",
             "quantity": 5, "created_at": NOW, "updated_at": NOW, "term_ends_on": ends_on, "renewal": "same"}
            for ends_on in (date(2026, 2, 1), date(2026, 3, 2), date(2026, 4, 1))])
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
    async with store.read() as conn:
        due = await seat_plans.annual_renewals_due(conn, NOW.date())
    event.remove(store.engine.sync_engine, "before_cursor_execute", capture)
    assert len(due) == 2  # the term that ended in February and the one ending today
    async with store.read() as conn:
        statement, parameters = next(s for s in statements if "term_ends_on" in s[0])
        plan = " / ".join(row[3] for row in (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                         parameters)).all())
    assert "ix_licenses_term_term_ends_on" in plan and "SCAN licenses" not in plan, plan
