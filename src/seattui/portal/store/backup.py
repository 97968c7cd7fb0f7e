"""Backups of a portal's database, taken while the portal runs.

A SQLite portal keeps recent commits in `portal.db-wal` until a checkpoint, so copying
`portal.db` alone loses them. SQLite's online backup API copies the database as one reader
sees it (one snapshot, writers carry on) into a single self-contained file, which is checked
before it takes the name asked for. PostgreSQL is dumped by its own `pg_dump`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from seattui.portal.store import SCHEMA_HEAD, DatabaseUrlError, database_url, shown_url


class BackupError(RuntimeError):
    """A backup or restore that did not happen; the message says what to do."""


@dataclass(frozen=True)
class SqliteCopy:
    path: Path
    size: int
    schema: str | None


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (or path), None for another database."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise DatabaseUrlError("An in-memory SQLite database has nothing to back up.")
    return Path(parsed.database)


def _schema_of(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


def _check(conn: sqlite3.Connection, what: str) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    if problems != ["ok"]:
        raise BackupError(f"{what} failed SQLite's integrity check: {'; '.join(problems[:3])}.")


def _copy(source: sqlite3.Connection, target_path: Path, journal_mode: str) -> None:
    target = sqlite3.connect(target_path, timeout=30)
    try:
        # pages=-1: the whole database in one step, so the copy is one snapshot of it.
        source.backup(target, pages=-1)
        target.execute(f"PRAGMA journal_mode={journal_mode}")
        _check(target, f"The copy {target_path}")
    except sqlite3.Error as error:
        raise BackupError(f"Cannot write {target_path}: {error}. If a portal has it open, stop it first.") from None
    finally:
        target.close()


def _open_existing(path: Path, what: str) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"{what} {path} does not exist.")
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        conn.close()
        raise BackupError(f"{what} {path} is not a SQLite database ({error}).") from None
    return conn


def backup_sqlite(database: Path, output: Path, *, replace: bool = False) -> SqliteCopy:
    """A consistent copy of a live SQLite portal in one file (no -wal beside it), checked."""
    if output.exists() and not replace:
        raise BackupError(f"{output} exists already: give another file, or --force to replace it.")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    partial.unlink(missing_ok=True)
    source = _open_existing(database, "The database")
    try:
        schema = _schema_of(source)
        _copy(source, partial, "DELETE")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(partial, output)
    return SqliteCopy(output, output.stat().st_size, schema)


def restore_sqlite(backup: Path, database: Path, *, replace: bool = False) -> SqliteCopy:
    """Put a backup in the place of a SQLite portal's database.

    Through the backup API again, so a database that exists is rewritten under SQLite's own
    locks (its -wal included) rather than swapped under a portal that might have it open.
    """
    copy = _open_existing(backup, "The backup")
    try:
        _check(copy, f"The backup {backup}")
        schema = _schema_of(copy)
        if schema is None:
            raise BackupError(f"{backup} is not a seattui portal's database (it has no schema version).")
        from seattui.portal.store.migrate import known_revision

        if schema != SCHEMA_HEAD and not known_revision(schema):
            raise BackupError(f"{backup} is at migration {schema}, newer than this seattui knows "
                              f"({SCHEMA_HEAD}): restore it with the seattui that made it.")
        if database.exists():
            if not replace:
                raise BackupError(f"{database} exists: stop the portal, then give --force to replace "
                                  "its data with the backup's.")
        database.parent.mkdir(parents=True, exist_ok=True)
        _copy(copy, database, "WAL")
    finally:
        copy.close()
    return SqliteCopy(database, database.stat().st_size, schema)


def pg_dump_command(url: str, output: Path) -> tuple[list[str], dict[str, str]]:
    """The command and its environment: the password goes in PGPASSWORD, out of `ps`'s sight."""
    libpq = make_url(database_url(url)).set(drivername="postgresql")
    env = dict(os.environ)
    if libpq.password:
        env["PGPASSWORD"] = str(libpq.password)
    plain = libpq.set(password=None).render_as_string(hide_password=False)
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={output}", f"--dbname={plain}"], env


def backup_postgresql(url: str, output: Path, *, replace: bool = False) -> Path:
    """`pg_dump` in its custom format (restore with `pg_restore`), or what to run instead."""
    if output.exists() and not replace:
        raise BackupError(f"{output} exists already: give another file, or --force to replace it.")
    command, env = pg_dump_command(url, output)
    shown = " ".join([*command[:3], f"--file='{output}'", f"--dbname='{shown_url(url)}'"])
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed here. Install PostgreSQL's client tools (Debian: "
                          f"apt-get install postgresql-client), or run where they are: {shown}")
    output.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        output.unlink(missing_ok=True)
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"pg_dump failed: {said}")
    return output
