"""`seattui reassign PLAN.csv [--dry-run] [--json]` as a person runs it: the preview, the
batch applied whole, refusals with their lines, and the exit codes 0, 1, 2 and 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seattui.domain.seating import MAX_MOVES

from harness import PASSWORD, running_portal
from cli_helpers import seattui
from seat_support import staff

HEADER = "from_email,to_email,product\n"


def person(n: int) -> str:
    return f"person{n:06d}@acme.example"


@pytest.fixture
async def portal_file(tmp_path: Path, sqlite_template: Path) -> Path:
    """A portal database where Acme's person000000..02 hold workspace seats and 03..05 do not,
    and a profile logged in to it as acme-op."""
    database = tmp_path / "portal.db"
    database.write_bytes(sqlite_template.read_bytes())
    async with running_portal(f"sqlite:///{database}") as harness:
        await staff(harness, 6, 3)
    done = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "acme-op", "--password-stdin",
                   stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    return database


def write(tmp_path: Path, body: str) -> str:
    plan = tmp_path / "plan.csv"
    plan.write_text(HEADER + body)
    return str(plan)


def seat_holders(database: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT e.email FROM seats s JOIN employees e ON e.id = s.employee_id")
        return {email for (email,) in rows}


def test_a_dry_run_previews_then_the_plan_applies_whole(tmp_path: Path, portal_file: Path) -> None:
    plan = write(tmp_path, f"{person(0)},{person(3)},workspace\n{person(1)},{person(4)},\n")
    preview = seattui("reassign", plan, "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert "line    2  workspace    " in preview.stdout and f"<{person(0)}>  ->  " in preview.stdout
    assert "all 2 move(s) would apply; nothing was changed" in preview.stdout
    assert seat_holders(portal_file) == {person(0), person(1), person(2)}

    applied = seattui("reassign", plan, "--json")
    assert applied.returncode == 0, applied.stderr
    report = json.loads(applied.stdout)
    assert (report["applied"], report["dry_run"], report["count"], report["products"], report["refused"]) == (
        True, False, 2, {"workspace": 2}, [])
    assert report["batch_id"]
    assert seat_holders(portal_file) == {person(2), person(3), person(4)}


def test_a_refused_plan_names_every_bad_line_and_changes_nothing(tmp_path: Path, portal_file: Path) -> None:
    plan = write(tmp_path, (
        f"{person(0)},{person(3)},workspace\n"   # 2: fine
        f"{person(1)},{person(2)},workspace\n"   # 3: person 2 holds a seat already
        f",{person(5)},workspace\n"              # 4: no giver
        f"{person(2)},nobody@acme.example,\n"     # 5: unknown receiver
        f"{person(2)}\n"                          # 6: a value short
    ))
    done = seattui("reassign", plan, "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert not report["applied"] and report["batch_id"] is None
    reasons = {row["line"]: row["reason"] for row in report["refused"]}
    assert sorted(reasons) == [3, 4, 5, 6]
    assert "already holds a workspace seat" in reasons[3] and "from_email empty" in reasons[4]
    assert "no employee nobody@acme.example" in reasons[5] and "1 values where the header has 3" in reasons[6]
    assert seat_holders(portal_file) == {person(0), person(1), person(2)}

    text = seattui("reassign", write(tmp_path, f"{person(1)},{person(2)},workspace\n"))
    assert text.returncode == 1
    assert "line    2  refused:" in text.stdout and "nothing was changed" in text.stdout


def test_a_plan_from_standard_input(tmp_path: Path, portal_file: Path) -> None:
    plan = HEADER + f"{person(0)},{person(3)},workspace\r\n"  # as a Windows editor saves it
    preview = seattui("reassign", "-", "--dry-run", stdin=plan)
    assert preview.returncode == 0, preview.stderr
    assert f"<{person(0)}>  ->  " in preview.stdout and seat_holders(portal_file) == {person(0), person(1), person(2)}
    applied = seattui("reassign", "-", "--json", stdin=plan)
    assert applied.returncode == 0, applied.stderr
    assert (json.loads(applied.stdout)["plan"], json.loads(applied.stdout)["count"]) == ("-", 1)
    assert seat_holders(portal_file) == {person(1), person(2), person(3)}
    empty = seattui("reassign", "-", stdin="")
    assert empty.returncode == 2 and "the plan on standard input" in empty.stderr


def test_bad_usage_and_unreadable_files_exit_with_2(tmp_path: Path) -> None:
    missing = seattui("reassign", str(tmp_path / "nowhere.csv"))
    assert missing.returncode == 2 and "Cannot read" in missing.stderr
    headless = tmp_path / "headless.csv"
    headless.write_text("a@x.example,b@x.example,workspace\n")
    wrong = seattui("reassign", str(headless))
    assert wrong.returncode == 2 and "from_email, to_email, product" in wrong.stderr
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert seattui("reassign", str(binary)).returncode == 2
    logged_out = seattui("reassign", write(tmp_path, "a@x.example,b@x.example,\n"))
    assert logged_out.returncode == 3 and "seattui login" in logged_out.stderr
    too_long = seattui("reassign", write(tmp_path, "a@x.example,b@x.example,\n" * (MAX_MOVES + 1)))
    assert too_long.returncode == 2 and f"has {MAX_MOVES + 1:,} moves" in too_long.stderr
    assert f"takes at most {MAX_MOVES:,}" in too_long.stderr


def test_a_name_with_terminal_escapes_is_printed_harmlessly(tmp_path: Path, portal_file: Path) -> None:
    """A name stored before the portal refused control characters: the preview shows it with
    visible stand-ins, and no ESC or BEL reaches the administrator's terminal."""
    import sqlite3

    hostile = "M\u001b]0;PWNED\u0007\u001b[2J"
    with sqlite3.connect(portal_file) as connection:
        connection.execute("UPDATE employees SET name = ? WHERE email = ?", (hostile, person(0)))
    plan = write(tmp_path, f"{person(0)},{person(3)},workspace\n{person(0)},{person(4)},workspace\n")
    preview = seattui("reassign", plan, "--dry-run")
    assert preview.returncode == 1, preview.stderr
    output = preview.stdout + preview.stderr
    assert "\x1b" not in output and "\x07" not in output
    assert "M␛]0;PWNED␇␛[2J <person000000@acme.example>  ->  " in preview.stdout
