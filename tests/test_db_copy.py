"""`seattui db copy`: a portal's data moved to another database (the embedded SQLite portal to
PostgreSQL), every table with its ids, sequences past them, checked by row counts and ledger
sums; the copy then answers every read as the original did, and takes new writes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from seattui.client import PortalClient
from seattui.portal.seed import DEMO_LOGIN, DEMO_PASSWORD, seed_demo
from seattui.portal.store.copy import CopyRefused, copy_database

from cli_helpers import seattui
from conftest import _drop_database, create_database, postgres_admin_url
from harness import running_portal

# Every read of the API that takes no id; those that do are read for every id listed.
READS = ["/auth/me", "/setup", "/catalog", "/credits/balance", "/credits/ledger", "/dashboard", "/keys",
         "/licenses", "/licenses/facets", "/licenses/ids", "/employees", "/employees/departments",
         "/employees/ids", "/seats/pools", "/seat-batches", "/audit"]


@pytest.fixture
async def empty_postgres() -> AsyncIterator[str]:
    admin = postgres_admin_url()
    name = f"seattui_copy_{uuid.uuid4().hex[:10]}"
    yield await create_database(admin, name)
    await _drop_database(admin, name)


async def get_json(client: PortalClient, path: str, **params: object) -> object:
    answer = await client.request("GET", f"/api/v1{path}", params=params or None)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


async def read_everything(client: PortalClient) -> dict[str, object]:
    seen: dict[str, object] = {path: await get_json(client, path) for path in READS}
    seen["/credits/ledger?limit=500"] = await get_json(client, "/credits/ledger", limit=500)
    seen["/audit?limit=500"] = await get_json(client, "/audit", limit=500)
    license_ids = (await get_json(client, "/licenses/ids"))["ids"]  # type: ignore[index]
    employee_ids = (await get_json(client, "/employees/ids"))["ids"]  # type: ignore[index]
    keys = (await get_json(client, "/keys", limit=500))["items"]  # type: ignore[index]
    for license_id in license_ids:
        seen[f"/licenses/{license_id}"] = await get_json(client, f"/licenses/{license_id}")
    for employee_id in employee_ids[:60]:
        seen[f"/employees/{employee_id}"] = await get_json(client, f"/employees/{employee_id}")
    for key in keys:
        detail = await get_json(client, f"/keys/{key['id']}")
        seen[f"/keys/{key['id']}"] = detail
        for subscription in detail.get("subscriptions", []):  # type: ignore[union-attr]
            path = f"/subscriptions/{subscription['id']}"
            seen[path] = await get_json(client, path)
    assert license_ids and employee_ids and keys
    return seen


@pytest.mark.postgres
async def test_the_demo_database_copied_to_postgresql_reads_the_same_and_takes_writes(
        sqlite_url: str, empty_postgres: str) -> None:
    async with running_portal(sqlite_url, world=False) as source:
        assert await seed_demo(source.portal) is not None
    report = await copy_database(sqlite_url, empty_postgres)
    assert report.rows["licenses"] > 0 and report.rows["ledger_entries"] > 0 and report.rows["seats"] > 0
    assert report.ledger

    async with running_portal(sqlite_url, world=False) as source, \
            running_portal(empty_postgres, world=False) as copy:
        assert copy.portal.store.engine.dialect.name == "postgresql"
        original = await source.login(DEMO_LOGIN, DEMO_PASSWORD)
        copied = await copy.login(DEMO_LOGIN, DEMO_PASSWORD)
        expected, found = await read_everything(original), await read_everything(copied)
        differing = [path for path in expected if expected[path] != found.get(path)]
        assert differing == []
        assert len(expected) > 100
        # Sequences were set past the copied ids: new rows get new ids, not a collision.
        keys = (await get_json(copied, "/keys", limit=500))["items"]  # type: ignore[index]
        keys_before = (await copied.dashboard()).keys
        created = await copied.create_key("after the move")
        assert created.id > max(key["id"] for key in keys)
        # The kept figures came across whole, and their triggers count again after the copy.
        from test_license_tally import assert_tally_is_a_recount

        assert (await copied.dashboard()).keys == keys_before + 1
        await assert_tally_is_a_recount(copy)
        balance = await copied.balance()
        assert balance == await original.balance()

    with pytest.raises(CopyRefused, match="holds data already"):
        await copy_database(sqlite_url, empty_postgres)


def test_the_command_copies_once_and_refuses_a_target_that_holds_data(tmp_path: Path, sqlite_url: str) -> None:
    demo = tmp_path / "demo.db"
    assert seattui("demo", "--db", str(demo), "--seed-only").returncode == 0
    target = f"sqlite:///{tmp_path / 'moved.db'}"
    done = seattui("db", "copy", "--from", str(demo), "--to", target)
    assert done.returncode == 0, done.stderr
    assert "row counts and the ledgers of 1 organization(s) match" in done.stdout
    assert "ledger_entries" in done.stdout
    again = seattui("db", "copy", "--from", str(demo), "--to", target)
    assert again.returncode == 1
    assert "holds data already" in again.stderr and "Traceback" not in again.stderr
    blank = tmp_path / "blank.db"
    blank.touch()
    unmigrated = seattui("db", "copy", "--from", str(blank), "--to", f"sqlite:///{tmp_path / 'other.db'}")
    assert unmigrated.returncode == 1
    assert "not ready to copy" in unmigrated.stderr
