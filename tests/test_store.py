"""The store: migrations give exactly the tables the code declares, on SQLite and PostgreSQL,
and the ledger refuses a negative balance whatever the code does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from seattui.portal.store import DatabaseUrlError, Store, database_url
from seattui.portal.store.tables import ledger_entries, metadata, organizations


async def test_migrations_match_the_declared_tables(database_url: str) -> None:
    store = Store(database_url)
    await store.migrate()  # already at head: a no-op that must not fail
    async with store.read() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
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
            await conn.execute(
                insert(ledger_entries).values(org_id=org_id, at=now, amount=-100, balance_after=-100, reason="license")
            )
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
