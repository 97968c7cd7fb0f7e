"""`seattui serve` (and the commands that open the database) that cannot start say why in one
or two lines and exit non-zero: no traceback for a dead server, a bad URL, a newer schema."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from cli_helpers import free_port, seattui
from conftest import postgres_admin_url


def assert_short_failure(done: object, *words: str) -> None:
    stderr = done.stderr  # type: ignore[attr-defined]
    assert done.returncode != 0, stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) <= 2, stderr
    for word in words:
        assert word in stderr


def test_an_unreachable_database_is_one_line() -> None:
    done = seattui("serve", "--db", f"postgresql://seattui:secret@127.0.0.1:{free_port()}/portal", timeout=60)
    assert_short_failure(done, "Cannot reach the database", "host, port")
    assert "secret" not in done.stderr


def test_a_bad_database_url_is_one_line_and_a_usage_error() -> None:
    done = seattui("serve", "--db", "postgresql://seattui:secret@db.internal:port/portal", timeout=60)
    assert_short_failure(done, "is not a database URL")
    assert done.returncode == 2
    assert "secret" not in done.stderr
    done = seattui("serve", "--db", "mysql://db.internal/portal", timeout=60)
    assert_short_failure(done, "Unsupported database 'mysql'")


def test_a_schema_newer_than_this_portal_is_refused(tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "portal.db"
    shutil.copyfile(sqlite_template, database)
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    for command in (["serve", "--db", str(database)], ["grant", "10", "--org", "Acme", "--db", str(database)]):
        done = seattui(*command, timeout=60)
        assert_short_failure(done, "0999", "newer than this seattui", "upgrade seattui")
    with sqlite3.connect(database) as conn:  # and nothing was changed
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0999",)


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_named() -> None:
    missing = postgres_admin_url().rpartition("/")[0] + "/seattui_no_such_database"
    done = seattui("serve", "--db", missing, timeout=60)
    assert_short_failure(done, "seattui_no_such_database", "does not exist")
