"""`seattui backup` and `seattui restore`: a SQLite portal backed up while writes go on gives
one self-contained file that passes SQLite's integrity check and holds every row committed
before the backup began; restoring it brings exactly those rows back. PostgreSQL goes
through pg_dump, or the command says what to run."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from seattui import cli
from seattui.portal.store import Store

from cli_helpers import seattui
from harness import PortalHarness


def committed_rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return [row[0] for row in conn.execute(
            "SELECT hits FROM rate_counters WHERE bucket LIKE 'backup-test:%' ORDER BY hits")]


def test_a_backup_taken_while_writes_continue_restores_every_committed_row(
        tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "portal.db"
    shutil.copyfile(sqlite_template, database)
    committed: list[int] = []
    stop = threading.Event()

    def write_until_stopped() -> None:
        # Another process's portal would do the same: small transactions, WAL, one at a time.
        conn = sqlite3.connect(database, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        number = 0
        while not stop.is_set():
            conn.execute("INSERT INTO rate_counters (bucket, window_start, hits) VALUES (?, ?, ?)",
                         (f"backup-test:{number}", "2026-03-02 09:30:00.000000", number))
            conn.commit()
            committed.append(number)
            number += 1
        conn.close()

    writer = threading.Thread(target=write_until_stopped)
    writer.start()
    try:
        while len(committed) < 50:  # the WAL holds commits no checkpoint has written yet
            stop.wait(0.01)
        before = len(committed)
        backup = tmp_path / "backups" / "portal-monday.db"
        done = seattui("backup", "--db", f"sqlite:///{database}", "-o", str(backup), timeout=120)
        after = len(committed)
    finally:
        stop.set()
        writer.join()
    assert done.returncode == 0, done.stderr
    assert "integrity checked" in done.stdout
    assert after > before  # the writes really went on during the backup
    rows = committed_rows(backup)
    assert rows == list(range(len(rows)))  # one snapshot: a prefix of the commits, no gaps
    assert before <= len(rows) <= after
    assert sorted(path.name for path in backup.parent.iterdir()) == ["portal-monday.db"]  # no -wal beside it
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    restored = tmp_path / "restored" / "portal.db"
    done = seattui("restore", str(backup), "--db", str(restored), timeout=120)
    assert done.returncode == 0, done.stderr
    assert committed_rows(restored) == rows
    refused = seattui("restore", str(backup), "--db", str(database), timeout=120)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert len(committed_rows(database)) == len(committed)  # refused: left as it was
    done = seattui("restore", str(backup), "--db", str(database), "--force", timeout=120)
    assert done.returncode == 0, done.stderr
    assert committed_rows(database) == rows  # the later commits, WAL and all, are gone

    async def readiness() -> bool:
        store = Store(database)
        try:
            return (await store.readiness()).ready
        finally:
            await store.dispose()

    assert asyncio.run(readiness())


def test_backup_refuses_to_overwrite_and_restore_refuses_what_is_not_a_backup(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "taken.db"
    existing.write_text("an earlier backup")
    assert cli.main(["backup", "--db", str(tmp_path / "missing.db"), "-o", str(tmp_path / "x.db")]) == 1
    assert "does not exist" in capsys.readouterr().err
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello " * 1000)
    assert cli.main(["restore", str(not_a_backup), "--db", str(tmp_path / "portal.db")]) == 1
    assert "is not a SQLite database" in capsys.readouterr().err
    assert not (tmp_path / "portal.db").exists()
    assert cli.main(["restore", str(not_a_backup), "--db", "postgresql://db.internal/portal"]) == 2
    assert "pg_restore" in capsys.readouterr().err


def test_without_pg_dump_the_backup_says_what_to_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on it
    code = cli.main(["backup", "--db", "postgresql://seattui:secret@db.internal/portal", "-o", "portal.dump"])
    err = capsys.readouterr().err
    assert code == 1
    assert "pg_dump is not installed" in err
    assert "pg_dump --format=custom" in err and "db.internal/portal" in err
    assert "secret" not in err


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_postgresql_portal_is_dumped_by_pg_dump(harness: PortalHarness, tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    dump = tmp_path / "portal.dump"
    url = harness.portal.store.url
    code = await asyncio.to_thread(cli.main, ["backup", "--db", url, "-o", str(dump)])
    assert code == 0
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True)
    assert "TABLE DATA public ledger_entries" in listing.stdout
    assert "TABLE DATA public organizations" in listing.stdout


@pytest.mark.parametrize(("command", "words"), [
    (["backup"], "while the portal runs"), (["restore"], "stop the portal first"), (["db", "copy"], "--from URL"),
])
def test_the_data_commands_explain_themselves(
        command: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([*command, "--help"])
    assert done.value.code == 0
    assert words in " ".join(capsys.readouterr().out.split())
