"""Fixtures shared by every test: databases (SQLite always, PostgreSQL when CI gives one),
a running portal, and an environment that keeps the developer's own config out."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from pathlib import Path

import pytest
import pytest_textual_snapshot

from seattui.portal.store import Store

from harness import PortalHarness, copy_sqlite, running_portal

POSTGRES_ENV = "SEATTUI_TEST_POSTGRES_URL"
# `SEATTUI_TEST_NO_COLOR=1 pytest tests/test_tui_*.py` runs the app's tests with NO_COLOR set
# (the snapshots are drawn in colour, so not those).
NO_COLOR_RUN = "SEATTUI_TEST_NO_COLOR"
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def run_apart(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion on its own loop in another thread: session fixtures are
    first requested from inside a test's running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


class _SnapshotsFolder(pytest_textual_snapshot.SVGImageExtension):
    """Snapshot SVGs live in the top-level snapshots/ folder, one sub-folder per test module."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(SNAPSHOTS / test_location.basename)


# snap_compare looks the extension up on the module when it runs (plugin pinned exactly).
pytest_textual_snapshot.SVGImageExtension = _SnapshotsFolder


@pytest.fixture(autouse=True)
def _steady_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cursor that does not blink, so a screenshot never catches it half-way."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the developer's profiles, tokens or data."""
    monkeypatch.setenv("SEATTUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("SEATTUI_DATA_DIR", str(tmp_path / "data"))
    for name in list(os.environ):
        if (name.startswith("TEXTUAL_") and name != "TEXTUAL_SNAPSHOT_TEMPDIR") or name == "NO_COLOR":
            monkeypatch.delenv(name, raising=False)
    if os.environ.get(NO_COLOR_RUN) == "1":  # the app's tests once more as a NO_COLOR terminal shows it
        monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "portal.db"

    async def migrate() -> None:
        store = Store(path)
        await store.migrate()
        await store.dispose()

    run_apart(migrate())
    return path


def postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"{POSTGRES_ENV} is not set: no PostgreSQL to test against"
        if ON_CI:
            pytest.fail(f"{message}, and CI must run the PostgreSQL tests.")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database; each test clones it (CREATE DATABASE ... TEMPLATE)."""

    admin = postgres_admin_url()
    name = f"seattui_template_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        store = Store(await create_database(admin, name))
        await store.migrate()
        await store.dispose()

    run_apart(create())
    yield name
    run_apart(_drop_database(admin, name))


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


async def create_database(admin: str, name: str, template: str | None = None) -> str:
    """A new PostgreSQL database (a copy of `template`, if named); its URL."""
    import asyncpg

    conn = await asyncpg.connect(admin.replace("+asyncpg", ""))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()
    return _with_database(admin, name)


async def _drop_database(admin: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin.replace("+asyncpg", ""))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database: a SQLite file, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield copy_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "portal.db")
        return

    template = request.getfixturevalue("postgres_template")
    admin = postgres_admin_url()
    name = f"seattui_test_{uuid.uuid4().hex[:10]}"
    yield await create_database(admin, name, template)
    await _drop_database(admin, name)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """For tests of the app: the portal's behaviour on both stores is covered by the API tests."""
    return copy_sqlite(sqlite_template, tmp_path / "portal.db")


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[PortalHarness]:
    async with running_portal(database_url) as running:
        yield running
