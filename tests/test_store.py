"""The store: migrations give exactly the tables the code declares, on SQLite and PostgreSQL,
and the ledger refuses a negative balance, or two entries in the same place, whatever the code
does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from seattui.portal.store import DatabaseUrlError, Store, database_url
from seattui.portal.store.migrate import alembic_config
from seattui.portal.store.tables import UNDECLARED_NAMES, ledger_entries, metadata, organizations


def _declared(name: str | None, kind: str, parent: object) -> bool:
    # The filter's trigram index is the database's own kind of object (an FTS5 table, a GIN
    # index), made by its migration and not declared as a table; SQLite's license versions are
    # kept by triggers that exist there alone.
    return name not in UNDECLARED_NAMES


async def test_migrations_match_the_declared_tables(database_url: str) -> None:
    store = Store(database_url)
    await store.migrate()  # already at head: a no-op that must not fail
    async with store.read() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"include_name": _declared}), metadata)
        )
    await store.dispose()
    assert differences == []


async def test_the_ledger_refuses_a_negative_running_balance(database_url: str) -> None:
    store = Store(database_url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(IntegrityError):
        async with store.write() as conn:
            org_id = (
                await conn.execute(
                    insert(organizations).values(name="X", kind="reseller", created_at=now).returning(organizations.c.id)
                )
            ).scalar_one()
            await conn.execute(insert(ledger_entries).values(
                org_id=org_id, sequence=1, at=now, amount=-100, balance_after=-100, reason="license"))
    await store.dispose()


async def test_the_ledger_refuses_two_entries_with_the_same_number(database_url: str) -> None:
    """What two debits that read the same last entry would write: the second is refused."""
    store = Store(database_url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with store.write() as conn:
        org_id = (await conn.execute(
            insert(organizations).values(name="X", kind="reseller", created_at=now).returning(organizations.c.id)
        )).scalar_one()
        await conn.execute(insert(ledger_entries).values(
            org_id=org_id, sequence=1, at=now, amount=100, balance_after=100, reason="grant"))
    with pytest.raises(IntegrityError):
        async with store.write() as conn:
            await conn.execute(insert(ledger_entries).values(
                org_id=org_id, sequence=2, at=now, amount=-60, balance_after=40, reason="license"))
            await conn.execute(insert(ledger_entries).values(
                org_id=org_id, sequence=2, at=now, amount=-60, balance_after=40, reason="license"))
    async with store.read() as conn:
        assert (await conn.execute(select(ledger_entries.c.amount))).scalars().all() == [100]
    await store.dispose()


async def test_migration_0005_numbers_the_existing_entries_of_each_organization(tmp_path: Any) -> None:
    store = Store(tmp_path / "old.db")
    async with store.write() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0004"))
        for org in (1, 2):
            await conn.execute(text(f"INSERT INTO organizations (id, name, kind, created_at) "
                                    f"VALUES ({org}, 'O{org}', 'reseller', '2026-01-01')"))
        for org, balance in ((1, 100), (2, 50), (1, 70), (1, 90), (2, 20)):
            await conn.execute(text(f"INSERT INTO ledger_entries (org_id, at, amount, balance_after, reason, memo) "
                                    f"VALUES ({org}, '2026-01-01', 0, {balance}, 'grant', '')"))
    await store.migrate()
    async with store.read() as conn:
        rows = (await conn.execute(select(ledger_entries.c.org_id, ledger_entries.c.sequence,
                                          ledger_entries.c.balance_after).order_by(ledger_entries.c.id))).all()
        assert [tuple(row) for row in rows] == [(1, 1, 100), (2, 1, 50), (1, 2, 70), (1, 3, 90), (2, 2, 20)]
    await store.dispose()


def test_the_schema_head_constant_names_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    from seattui.portal.store import SCHEMA_HEAD
    from seattui.portal.store.migrate import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


async def test_a_database_at_the_head_is_reported_so(database_url: str) -> None:
    from seattui.portal.store import SCHEMA_HEAD

    store = Store(database_url)
    assert await store.schema_version() == SCHEMA_HEAD
    await store.dispose()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/var/lib/seattui/portal.db", "sqlite+aiosqlite:////var/lib/seattui/portal.db"),
        ("sqlite:////tmp/p.db", "sqlite+aiosqlite:////tmp/p.db"),
        ("postgresql://postgres@127.0.0.1/test", "postgresql+asyncpg://postgres@127.0.0.1/test"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_and_plain_paths_are_understood(typed: str, expected: str) -> None:
    assert database_url(typed) == expected


def test_an_unsupported_database_is_refused_with_what_to_use() -> None:
    with pytest.raises(DatabaseUrlError, match="postgresql://"):
        database_url("mysql://root@localhost/db")


async def test_a_freshly_migrated_postgresql_database_has_planner_statistics() -> None:
    # Without them PostgreSQL guesses at every plan: a bulk-loaded database planned the first
    # licenses page as a nested loop, 200 times slower than after ANALYZE.
    import uuid

    from conftest import _drop_database, create_database, postgres_admin_url

    admin = postgres_admin_url()
    name = f"seattui_analyze_{uuid.uuid4().hex[:8]}"
    store = Store(await create_database(admin, name))
    try:
        await store.migrate()
        async with store.read() as conn:
            analyzed = await conn.scalar(text(
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('licenses', 'seats', 'employees') "
                "AND last_analyze IS NOT NULL"))
        assert analyzed == 3
    finally:
        await store.dispose()
        await _drop_database(admin, name)


async def test_a_sqlite_statement_is_one_trip_to_the_connections_thread(sqlite_url: str, monkeypatch: Any) -> None:
    # aiosqlite's adapter made four (cursor, execute, fetch, close); under 32 requests at once
    # each trip waited for the GIL, and they were most of a point request's time.
    import aiosqlite

    store = Store(sqlite_url)
    try:
        async with store.read() as conn:
            await conn.execute(select(organizations.c.id))  # the connection and its transaction are open
            trips: list[Any] = []
            run = aiosqlite.Connection._execute

            async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
                trips.append(fn)
                return await run(self, fn, *args, **kwargs)

            monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
            rows = (await conn.execute(select(organizations.c.id, organizations.c.name))).all()
            await conn.execute(text("SELECT 1 WHERE 0"))
            assert len(trips) == 2, trips
        assert rows == []
    finally:
        await store.dispose()


async def test_the_customers_migration_makes_a_customer_of_every_email_on_file(tmp_path: Any) -> None:
    from alembic.script import ScriptDirectory

    from seattui.portal.store.tables import customers, licenses, subscriptions

    before = ScriptDirectory.from_config(alembic_config()).get_revision("0010").down_revision
    store = Store(tmp_path / "old.db")
    async with store.write() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), str(before)))
        await conn.execute(text("INSERT INTO organizations (id, name, kind, created_at) VALUES "
                                "(1, 'Acme', 'reseller', '2026-01-01'), (2, 'Globex', 'reseller', '2026-01-01')"))
        for org in (1, 2):
            await conn.execute(text(f"INSERT INTO activation_keys (id, org_id, key, name, created_at) "
                                    f"VALUES ({org}, {org}, 'KEY{org}', '', '2026-01-01')"))
        for n, (org, email) in enumerate(((1, "Ada@Example.org"), (1, "ada@example.org"), (1, None), (2, "ada@example.org"))):
            await conn.execute(text(
                "INSERT INTO licenses (org_id, key_id, key, product_id, term, quantity, customer_email, created_at, "
                f"updated_at) VALUES ({org}, {org}, 'KEY{org}', 'p{n}', 'permanent', 1, :email, '2026-01-0{n + 1}', "
                "'2026-01-01')"), {"email": email})
        await conn.execute(text(
            "INSERT INTO subscriptions (org_id, key_id, product_id, channels, started_on, period_ends_on, "
            "customer_email, created_at) VALUES (1, 1, 's', 1, '2026-01-01', '2026-02-01', 'Bob@Example.org', "
            "'2026-01-05')"))
    await store.migrate()
    async with store.read() as conn:
        made = {(row.org_id, row.email): row.id for row in await conn.execute(select(customers))}
        assert sorted(made) == [(1, "ada@example.org"), (1, "bob@example.org"), (2, "ada@example.org")]
        linked = [(row.org_id, row.customer_id) for row in await conn.execute(
            select(licenses.c.org_id, licenses.c.customer_id).order_by(licenses.c.id))]
        assert linked == [(1, made[1, "ada@example.org"]), (1, made[1, "ada@example.org"]), (1, None),
                          (2, made[2, "ada@example.org"])]
        assert (await conn.execute(select(subscriptions.c.customer_id))).scalar_one() == made[1, "bob@example.org"]
    await store.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgresql_point_reads_keep_their_connections_and_replace_one_the_server_closed(
        database_url: str) -> None:
    import asyncio

    import asyncpg

    store = Store(database_url)
    admin = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        async def backend() -> int:
            async with store.point_read() as conn:
                return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())

        first = await backend()
        assert await backend() == first  # kept: no ping, no new login
        # More reads at once than the point reads have connections: they take turns, none waits
        # for ever on a pool that never gets its kept connections back.
        async def slow() -> int:
            async with store.point_read() as conn:
                return int((await conn.execute(text("SELECT 1 FROM pg_sleep(0.02)"))).scalar_one())

        assert await asyncio.wait_for(asyncio.gather(*(slow() for _ in range(40))), 30) == [1] * 40
        # A restart's closing of the connections: the next read opens another.
        database = database_url.rsplit("/", 1)[1]
        others = "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
        await admin.execute(f"SELECT pg_terminate_backend(pid) {others}", database)
        while await admin.fetchval(f"SELECT count(*) {others}", database):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the closed sockets reach the event loop, as they would long before a next read
        assert await backend() not in (first, 0)
    finally:
        await admin.close()
        await store.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgresql_connections_the_server_closed_are_replaced_without_a_ping(database_url: str) -> None:
    import asyncio

    import asyncpg

    store = Store(database_url)
    admin = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        async def backends(how: Any) -> set[int]:
            async def one() -> int:
                async with how() as conn:
                    return int((await conn.execute(text("SELECT pg_backend_pid() FROM pg_sleep(0.01)"))).scalar_one())

            return set(await asyncio.gather(*(one() for _ in range(4))))

        before = await backends(store.write) | await backends(store.read)
        assert await backends(store.read) <= before  # the pool's own
        database = database_url.rsplit("/", 1)[1]
        others = "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
        await admin.execute(f"SELECT pg_terminate_backend(pid) {others}", database)
        while await admin.fetchval(f"SELECT count(*) {others}", database):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the closed sockets reach the event loop
        after = await backends(store.write) | await backends(store.read)  # no error: replaced
        assert not after & before
    finally:
        await admin.close()
        await store.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_store_reads_by_key_again_in_another_event_loop(database_url: str) -> None:
    # A store used in one asyncio.run after another, disposed in each (as the CLI does): the
    # kept asyncpg connections and the turns the reads waited in belong to the loop that made them.
    import asyncio

    store = Store(database_url)

    async def reads() -> list[int]:
        async def read() -> int:
            async with store.point_read() as conn:  # more at once than there are connections: some wait
                return int((await conn.execute(text("SELECT 42 FROM pg_sleep(0.01)"))).scalar_one())

        try:
            return await asyncio.gather(*(read() for _ in range(20)))
        finally:
            await store.dispose()

    assert asyncio.run(reads()) == [42] * 20
    assert asyncio.run(reads()) == [42] * 20
