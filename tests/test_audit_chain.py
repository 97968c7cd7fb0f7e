"""The audit log's hash chain: every entry holds the hash of the one before it in its
organization, `seattui audit verify` walks the chains, and an entry edited or deleted in the
store is reported at the first broken link. Concurrent writers, on one portal or two
instances sharing the database, still make one unbroken chain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import delete, event, func, insert, select, text, update

from seattui.cli import main
from seattui.client import PortalClient
from seattui.domain.audit import AuditFilter
from seattui.domain.roles import OrgKind, Role
from seattui.portal.app import create_app
from seattui.portal.catalog import load_catalog
from seattui.portal.context import Actor, Tx
from seattui.portal.services import audit
from seattui.portal.store import Store
from seattui.portal.store.migrate import alembic_config
from seattui.portal.store.tables import audit_chains, audit_entries, organizations

from harness import PortalHarness
from harness import test_settings as settings_for  # not collected as a test


async def some_changes(harness: PortalHarness, count: int = 4) -> list[int]:
    """Changes of Acme's owner; the ids of the audit entries they wrote, oldest first."""
    owner = await harness.login("acme-owner")
    for n in range(count):
        await owner.create_key(f"Customer {n}")
    async with harness.portal.store.read() as conn:
        return list((await conn.execute(
            select(audit_entries.c.id).where(audit_entries.c.org_id == harness.world.org_ids["Acme"])
            .order_by(audit_entries.c.id))).scalars())


async def check(harness: PortalHarness) -> audit.ChainCheck:
    async with harness.portal.store.read() as conn:
        return await audit.verify_chains(conn)


async def test_entries_are_chained_in_the_order_they_were_written(harness: PortalHarness) -> None:
    ids = await some_changes(harness)
    async with harness.portal.store.read() as conn:
        rows = (await conn.execute(select(audit_entries).where(audit_entries.c.id.in_(ids))
                                   .order_by(audit_entries.c.id))).all()
    assert [row.chain_seq for row in rows] == list(range(1, len(rows) + 1))
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in zip(rows, rows[1:]))
    result = await check(harness)
    assert result.broken is None
    assert result.entries >= len(ids)


async def test_an_entry_edited_in_the_store_is_reported(harness: PortalHarness) -> None:
    ids = await some_changes(harness)
    async with harness.portal.store.write() as conn:
        await conn.execute(update(audit_entries).where(audit_entries.c.id == ids[2])
                           .values(summary="Created nothing at all"))
    broken = (await check(harness)).broken
    assert broken is not None
    assert broken.entry_id == ids[2]
    assert broken.organization == "Acme"
    assert "changed" in broken.reason


async def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link(harness: PortalHarness) -> None:
    from seattui.portal.store.audit_chain import entry_hash

    ids = await some_changes(harness)
    async with harness.portal.store.write() as conn:
        row = (await conn.execute(select(audit_entries).where(audit_entries.c.id == ids[1]))).mappings().one()
        forged = dict(row) | {"actor": "someone-else"}
        await conn.execute(update(audit_entries).where(audit_entries.c.id == ids[1])
                           .values(actor="someone-else", entry_hash=entry_hash(forged)))
    broken = (await check(harness)).broken
    assert broken is not None and broken.entry_id == ids[2]
    assert "does not link" in broken.reason


async def test_a_deleted_entry_is_reported_where_it_is_missing(harness: PortalHarness) -> None:
    ids = await some_changes(harness)
    async with harness.portal.store.write() as conn:
        place = await conn.scalar(select(audit_entries.c.chain_seq).where(audit_entries.c.id == ids[1]))
        await conn.execute(delete(audit_entries).where(audit_entries.c.id == ids[1]))
    broken = (await check(harness)).broken
    assert broken is not None
    assert broken.place == place and broken.entry_id == ids[2]
    assert "missing (deleted)" in broken.reason


async def test_the_last_entry_deleted_is_reported(harness: PortalHarness) -> None:
    ids = await some_changes(harness)
    async with harness.portal.store.write() as conn:
        await conn.execute(delete(audit_entries).where(audit_entries.c.id == ids[-1]))
    broken = (await check(harness)).broken
    assert broken is not None and broken.entry_id is None
    assert "last entries were deleted" in broken.reason


async def test_seattui_audit_verify_says_intact_or_the_first_broken_link(
    harness: PortalHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = await some_changes(harness, 2)
    database = harness.portal.settings.database_url
    assert await asyncio.to_thread(main, ["audit", "verify", "--db", database]) == 0
    assert "The audit log is intact" in capsys.readouterr().out
    async with harness.portal.store.write() as conn:
        await conn.execute(update(audit_entries).where(audit_entries.c.id == ids[0]).values(object_id=999))
    assert await asyncio.to_thread(main, ["audit", "verify", "--db", database]) == 1
    said = capsys.readouterr().err
    assert f"entry #{ids[0]} was changed" in said and "The audit log of Acme is broken" in said


@asynccontextmanager
async def second_instance(harness: PortalHarness) -> AsyncIterator[httpx.ASGITransport]:
    """Another portal on the same database, with its own engine and pool (a second `serve`)."""
    app = create_app(settings_for(harness.portal.settings.database_url, harness.clock))
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app, raise_app_exceptions=False)


@pytest.mark.parametrize("instances", [1, 2])
async def test_concurrent_writers_make_one_unbroken_chain(harness: PortalHarness, instances: int) -> None:
    writers = 12
    token = (await harness.login("acme-owner")).token
    async with second_instance(harness) as other:
        clients = [harness.client(token) if n % instances == 0 else PortalClient(transport=other, token=token)
                   for n in range(writers)]
        try:
            await asyncio.gather(*(client.create_key(f"Concurrent {n}") for n, client in enumerate(clients)))
        finally:
            for client in clients:
                await client.aclose()
    acme = harness.world.org_ids["Acme"]
    async with harness.portal.store.read() as conn:
        places = list((await conn.execute(select(audit_entries.c.chain_seq).where(audit_entries.c.org_id == acme)
                                          .order_by(audit_entries.c.chain_seq))).scalars())
        head = await conn.scalar(select(audit_chains.c.seq).where(audit_chains.c.org_id == acme))
        keys = await conn.scalar(select(func.count()).select_from(audit_entries)
                                 .where(audit_entries.c.org_id == acme, audit_entries.c.action == "key.create"))
    assert keys == writers
    assert places == list(range(1, len(places) + 1)) and head == len(places)
    assert (await check(harness)).broken is None


async def test_the_chain_migration_chains_the_entries_already_written(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    before = ScriptDirectory.from_config(alembic_config()).get_revision("0017").down_revision
    store = Store(tmp_path / "old.db")
    async with store.write() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), str(before)))
        for org in (1, 2):
            await conn.execute(text(f"INSERT INTO organizations (id, name, kind, created_at) "
                                    f"VALUES ({org}, 'O{org}', 'reseller', '2026-01-01 00:00:00.000000')"))
        for org, summary in ((1, "first"), (2, "other"), (1, "second"), (1, "third")):
            await conn.execute(text(
                "INSERT INTO audit_entries (org_id, at, actor, action, object_type, summary, details) VALUES "
                f"({org}, '2026-01-02 10:00:00.123456', 'alice', 'key.create', 'activation_key', '{summary}', "
                """'{"name": "x", "n": [1, 2]}')"""))
    await store.migrate()
    async with store.read() as conn:
        rows = (await conn.execute(select(audit_entries.c.org_id, audit_entries.c.chain_seq)
                                   .order_by(audit_entries.c.id))).all()
        assert [tuple(row) for row in rows] == [(1, 1), (2, 1), (1, 2), (1, 3)]
        assert (await audit.verify_chains(conn)).broken is None
    # The portal goes on from where the migration left each chain.
    async with store.write() as conn:
        actor = Actor(user_id=None, login="portal", display_name="", role=Role.OWNER, org_id=1, org_name="O1",
                      org_kind=OrgKind.RESELLER)
        await audit.record(Tx(conn=conn, actor=actor, catalog=load_catalog(None), now=datetime.now(UTC)),
                           "key.create", "activation_key", 7, "after the migration")
    async with store.read() as conn:
        result = await audit.verify_chains(conn)
    await store.dispose()
    assert result.broken is None and result.entries == 5


AUDIT_FILTERS = [AuditFilter(), AuditFilter(user="alice"), AuditFilter(kind="license"),
                 AuditFilter(kind="license.create"), AuditFilter(object_type="license", object_id=3),
                 AuditFilter(object_type="employee"), AuditFilter(since=date(2026, 1, 1), until=date(2026, 2, 1)),
                 AuditFilter(user="alice", kind="key", since=date(2026, 1, 1)), AuditFilter(batch_id="b-1")]


async def test_every_filter_of_the_log_walks_an_index_newest_first(sqlite_url: str) -> None:
    """At any size: no filter of the audit screen makes SQLite sort the matches or scan the table."""
    store = Store(sqlite_url)
    now = datetime(2026, 1, 15, tzinfo=UTC)
    async with store.write() as conn:
        org = (await conn.execute(insert(organizations).values(name="P", kind="reseller", created_at=now)
                                  .returning(organizations.c.id))).scalar_one()
        actor = Actor(user_id=None, login="alice", display_name="", role=Role.OWNER, org_id=org, org_name="P",
                      org_kind=OrgKind.RESELLER)
        tx = Tx(conn=conn, actor=actor, catalog=load_catalog(None), now=now)
        await audit.record_many(tx, [{"action": f"{kind}.create", "object_type": kind, "object_id": n,
                                      "summary": f"{kind} {n}"} for n in range(40) for kind in ("license", "key")])
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
    async with store.read() as conn:
        tx = Tx(conn=conn, actor=actor, catalog=load_catalog(None), now=now)
        first = await audit.list_entries(tx, AuditFilter(), cursor=None, limit=10)
        for wanted in AUDIT_FILTERS:
            await audit.list_entries(tx, wanted, cursor=None, limit=10)
            await audit.list_entries(tx, wanted, cursor=first.next_cursor, limit=10)
        event.remove(store.engine.sync_engine, "before_cursor_execute", capture)
        for statement, parameters in statements:
            plan = " / ".join(row[3] for row in (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                             parameters)).all())
            assert "TEMP B-TREE" not in plan and "SCAN audit_entries" not in plan, f"{plan}\n{statement}"
    await store.dispose()


async def test_a_change_made_with_an_api_token_is_chained_with_its_name(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    made = await owner.create_api_token("ci-deploy")
    assert made.token
    robot = harness.client(made.token)
    key = await robot.create_key("From CI")
    async with harness.portal.store.read() as conn:
        row = (await conn.execute(select(audit_entries).where(audit_entries.c.object_id == key.id,
                                                              audit_entries.c.action == "key.create"))).one()
    assert row.token_name == "ci-deploy"
    assert (await check(harness)).broken is None
    async with harness.portal.store.write() as conn:  # who made it, rewritten
        await conn.execute(update(audit_entries).where(audit_entries.c.id == row.id).values(token_name=None))
    broken = (await check(harness)).broken
    assert broken is not None and broken.entry_id == row.id
