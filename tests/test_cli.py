"""The `seattui` command as a person runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from seattui.domain.seat_plans import flexible_month_amount, seat_days

from cli_helpers import seattui, serving

OWNER_PASSWORD = "owner password 123"
COMMANDS = ["serve", "init", "demo", "login", "logout", "credits", "grant", "useradd", "outbox"]


def test_every_command_has_help() -> None:
    assert "credits" in seattui("--help").stdout
    for command in COMMANDS:
        done = seattui(command, "--help")
        assert done.returncode == 0 and f"usage: seattui {command}" in done.stdout, command


def test_python_dash_m_is_the_same_command() -> None:
    script = Path(sys.executable).with_name("seattui")
    if not script.exists():
        pytest.skip("the seattui console script is not installed beside this Python")
    direct = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert direct.stdout == seattui("--help").stdout


def init(database: Path, credits: str = "1234.50") -> None:
    done = seattui("init", "--db", str(database), "--org", "Initech", "--login", "Peter", "--credits", credits,
                   "--password-stdin", stdin=OWNER_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "Created Initech" in done.stdout


def test_init_login_and_credits_on_an_embedded_portal(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    init(database)
    login = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                    stdin=OWNER_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    assert "as peter (owner) of Initech" in login.stdout
    done = seattui("credits", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"organization": "Initech", "balance": "1234.50", "unit": "credits"}
    assert seattui("credits").stdout.strip() == "Initech: 1,234.50 credits"


def test_serve_then_login_and_credits_from_other_processes(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    init(database, credits="777.25")
    with serving(database) as (url, _server):
        login = seattui("login", "--portal", url, "--login", "peter", "--password-stdin", stdin=OWNER_PASSWORD + "\n")
        assert login.returncode == 0, login.stderr
        done = seattui("credits", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["balance"] == "777.25"
        grant = seattui("grant", "22.75", "--org", "Initech", "--db", str(database))
        assert grant.returncode == 0 and "balance 800.00" in grant.stdout
        assert json.loads(seattui("credits", "--json").stdout)["balance"] == "800.00"
        logout = seattui("logout")
        assert logout.returncode == 0
    refused = seattui("credits")
    assert refused.returncode == 3 and "not logged in" in refused.stderr


def test_a_stopped_portal_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    init(database)
    with serving(database) as (url, _server):
        assert seattui("login", "--portal", url, "--login", "peter", "--password-stdin",
                       stdin=OWNER_PASSWORD + "\n").returncode == 0
    done = seattui("credits")
    assert done.returncode == 4
    assert "Cannot reach the portal at" in done.stderr and "Traceback" not in done.stderr


def test_a_wrong_password_is_a_message(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    init(database)
    done = seattui("login", "--portal", "embedded", "--db", str(database), "--login", "peter", "--password-stdin",
                   stdin="wrong password\n")
    assert done.returncode == 1 and "Wrong login or password" in done.stderr and "Traceback" not in done.stderr


def test_bad_input_to_init_says_what_to_do(tmp_path: Path) -> None:
    done = seattui("init", "--db", str(tmp_path / "p.db"), "--org", "X", "--login", "peter", "--credits", "ten",
                   "--password-stdin", stdin=OWNER_PASSWORD + "\n")
    assert done.returncode == 2 and "type a number like 1250.50" in done.stderr
    done = seattui("init", "--db", str(tmp_path / "p.db"), "--org", "Initech", "--login", "peter",
                   "--password-stdin", stdin="short\n")
    assert done.returncode == 2 and "password" in done.stderr


def test_demo_seeds_once_and_prints_the_credentials(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    first = seattui("demo", "--db", str(database), "--seed-only")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[:2] == ["login: admin", "password: seattui-demo"]
    again = seattui("demo", "--db", str(database), "--seed-only")
    assert again.returncode == 0 and "left as it is" in again.stderr
    login = seattui("--profile", "demo", "login", "--password-stdin", stdin="seattui-demo\n")
    assert login.returncode == 0, login.stderr
    balance = json.loads(seattui("--profile", "demo", "credits", "--json").stdout)
    # The demo's 60 flexible seats were assigned 3 days ago: in the first days of a month the
    # portal, started by `credits`, bills last month's nights of them.
    today = datetime.now(UTC).date()
    month_before = today.replace(day=1) - timedelta(days=1)
    nights = seat_days([(today - timedelta(days=3), None)] * 60, month_before)
    billed = flexible_month_amount(Decimal("8.00"), nights, month_before)
    assert balance["organization"] == "Northwind IT Services"
    assert Decimal(balance["balance"]) == Decimal("12501.60") - billed


@pytest.mark.parametrize(("words", "profile"), [([], None), (["--profile", "work"], "work"),
                                                (["--profile=work"], "work")])
def test_opening_the_app_skips_the_commands_parsers(words: list[str], profile: str | None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's first frame does not wait for every command's parser to be built."""
    from seattui import cli
    from seattui.cli import session

    opened: list[str | None] = []
    monkeypatch.setattr(session, "run_terminal_app", lambda name: opened.append(name) or 0)
    monkeypatch.setattr(cli, "build_parser", lambda: pytest.fail("the commands' parser was built"))
    assert cli.main(words) == 0
    assert opened == [profile]


def test_a_profile_without_its_name_is_still_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from seattui import cli

    assert cli.main(["--profile"]) == cli.EXIT_USAGE
    assert "expected one argument" in capsys.readouterr().err
