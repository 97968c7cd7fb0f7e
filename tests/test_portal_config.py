"""`seattui serve`'s options from flags, SEATTUI_* variables and a TOML file (flags win, then
the environment), for every option the command has; and the app factory process managers call."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from seattui import cli
from seattui.cli.operations import _serve_settings
from seattui.portal.app import create_app

from cli_helpers import free_port


def serve_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["serve"]


def test_flags_win_over_the_environment_which_wins_over_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "portal.toml"
    config.write_text('port = 9001\nhost = "0.0.0.0"\nlog-format = "json"\naccess_log = true\ndb = "/srv/a.db"\n')
    monkeypatch.setenv("SEATTUI_PORT", "9002")
    monkeypatch.setenv("SEATTUI_METRICS", "false")
    args = cli.parse_args(["serve", "--config", str(config), "--db", "/srv/b.db"])
    assert (args.port, args.host, args.log_format, args.access_log) == (9002, "0.0.0.0", "json", True)
    assert args.db == "/srv/b.db" and args.metrics is False
    assert cli.parse_args(["serve", "--config", str(config), "--port", "9003"]).port == 9003
    monkeypatch.setenv("SEATTUI_PORTAL_CONFIG", str(config))
    monkeypatch.delenv("SEATTUI_PORT")
    assert cli.parse_args(["serve"]).port == 9001
    monkeypatch.delenv("SEATTUI_PORTAL_CONFIG")
    assert cli.parse_args(["serve"]).port == 8765  # the flag's own default


def test_an_option_added_later_is_read_from_env_and_file_without_more_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parser = cli.build_parser()
    serve = serve_parser(parser)
    # --trusted-proxy came after the configuration layer, with no code of its own for it.
    serve.add_argument("--drain-seconds", type=int, default=5)
    config = tmp_path / "portal.toml"
    config.write_text('trusted-proxy = ["10.0.0.1", "10.0.0.2"]\ndrain_seconds = 9\n')
    args = cli.parse_args(["serve", "--config", str(config)], parser)
    assert (args.trusted_proxy, args.drain_seconds) == (["10.0.0.1", "10.0.0.2"], 9)
    monkeypatch.setenv("SEATTUI_TRUSTED_PROXY", "192.168.1.1, 192.168.1.2")
    args = cli.parse_args(["serve", "--config", str(config)], parser)
    assert args.trusted_proxy == ["192.168.1.1", "192.168.1.2"]


@pytest.mark.parametrize(("variable", "value", "words"), [
    ("SEATTUI_PORT", "eighty", "SEATTUI_PORT"),
    ("SEATTUI_LOG_LEVEL", "loud", "is not one of critical, error"),
    ("SEATTUI_ACCESS_LOG", "maybe", "write true or false"),
])
def test_a_bad_value_names_where_it_came_from(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str,
        words: str) -> None:
    monkeypatch.setenv(variable, value)
    assert cli.main(["serve"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and variable in err and len(err.strip().splitlines()) == 1


def test_a_config_file_with_an_unknown_option_lists_the_known_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "portal.toml"
    config.write_text('prot = 9001\n')
    assert cli.main(["serve", "--config", str(config)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "unknown option(s) prot" in err and "port" in err and "log-format" in err
    config.write_text('port = \n')
    assert cli.main(["serve", "--config", str(config)]) == cli.EXIT_USAGE
    assert "not valid TOML" in capsys.readouterr().err
    assert cli.main(["serve", "--config", str(tmp_path / "missing.toml")]) == cli.EXIT_USAGE
    assert "Cannot read the config file" in capsys.readouterr().err


def test_serve_takes_portal_settings_by_name_from_the_file_and_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "portal.toml"
    config.write_text('activation_limit = 7\nlogin_lock_after = 5\n')
    monkeypatch.setenv("SEATTUI_LOGIN_LOCK_AFTER", "6")
    args = cli.parse_args(["serve", "--config", str(config)])
    settings = _serve_settings(args, str(tmp_path / "portal.db"), {})
    assert (settings.activation_limit, settings.login_lock_after, settings.metrics) == (7, 6, True)
    monkeypatch.setenv("SEATTUI_LOGIN_LOCK_AFTER", "many")  # a setting that is no flag
    with pytest.raises(ValueError, match="login_lock_after"):
        _serve_settings(args, str(tmp_path / "portal.db"), {})


def test_the_factory_reads_the_options_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    config = tmp_path / "portal.toml"
    config.write_text('activation_limit = 7\nmetrics = false\n')
    monkeypatch.setenv("SEATTUI_PORTAL_CONFIG", str(config))
    monkeypatch.setenv("SEATTUI_DB", sqlite_url)
    monkeypatch.setenv("SEATTUI_MAX_BODY_BYTES", "2048")
    app = create_app()
    settings = app.state.portal.settings
    assert (settings.activation_limit, settings.max_body_bytes, settings.metrics) == (7, 2048, False)
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    monkeypatch.delenv("SEATTUI_DB")
    with pytest.raises(ValueError, match="SEATTUI_DB"):
        create_app()


def test_uvicorn_runs_the_portal_from_the_factory(sqlite_url: str) -> None:
    port = free_port()
    env = dict(os.environ, SEATTUI_DB=sqlite_url, SEATTUI_LOG_FORMAT="json")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "seattui.portal.app:create_app", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/ready", timeout=1) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()  # type: ignore[union-attr]
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert b"seattui_http_requests_total" in answer.read()
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_the_per_address_activation_limit_is_a_serve_option(tmp_path: Path) -> None:
    args = cli.parse_args(["serve", "--activation-address-limit", "500"])
    settings = _serve_settings(args, str(tmp_path / "portal.db"), {})
    assert (settings.activation_limit, settings.activation_address_limit) == (30, 500)
    assert _serve_settings(cli.parse_args(["serve"]), str(tmp_path / "portal.db"), {}).activation_address_limit is None


def test_the_key_limit_and_the_check_share_are_serve_options(tmp_path: Path) -> None:
    args = cli.parse_args(["serve", "--activation-limit", "90", "--activation-check-share", "0"])
    settings = _serve_settings(args, str(tmp_path / "portal.db"), {})
    assert (settings.activation_limit, settings.activation_check_share) == (90, timedelta(0))
    default = _serve_settings(cli.parse_args(["serve"]), str(tmp_path / "portal.db"), {})
    assert (default.activation_limit, default.activation_check_share) == (30, timedelta(milliseconds=250))


@pytest.mark.parametrize(("flags", "words"), [
    (["--activation-limit", "0"], "activation_limit: Input should be greater than or equal to 1"),
    (["--activation-address-limit", "-5"], "activation_address_limit: Input should be greater than or equal to 1"),
    (["--activation-check-share", "-1"], "activation_check_share: Input should be greater than or equal to 0"),
])
def test_a_limit_below_one_or_a_negative_share_stops_serve_with_a_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], words: str) -> None:
    # A negative share acted as 0 and a limit of 0 refused every device, both without a word.
    assert cli.main(["serve", "--db", str(tmp_path / "portal.db"), *flags]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
