"""The real app in a real terminal: `seattui demo` in tmux, typed into with send-keys, read
back with capture-pane, as an administrator over SSH would use it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cli_helpers import seattui

pytestmark = pytest.mark.tmux
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class Tmux:
    def __init__(self, tmp_path: Path) -> None:
        if shutil.which("tmux") is None:
            if ON_CI:
                pytest.fail("tmux is missing: .ci/run installs it")
            pytest.skip("tmux is not installed")
        self.socket = f"seattui-test-{uuid.uuid4().hex[:8]}"
        self.session = "app"

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def start(self, command: str, width: int = 100, height: int = 30) -> None:
        self.run("new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height), command)

    def keys(self, *keys: str) -> None:
        """Type like a person: one key group at a time, not faster than a terminal reader."""
        for key in keys:
            self.run("send-keys", "-t", self.session, key)
            time.sleep(0.1)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never showed; the terminal shows:\n{shown}")
            time.sleep(0.2)

    def stop(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def test_demo_in_tmux_log_in_and_read_the_balance(tmp_path: Path) -> None:
    tmux = Tmux(tmp_path)
    database = tmp_path / "demo.db"
    environment = " ".join(
        f"{name}={os.environ[name]}" for name in ("SEATTUI_CONFIG", "SEATTUI_DATA_DIR") if name in os.environ
    )
    command = f"env {environment} TERM=xterm-256color {sys.executable} -m seattui demo --db {database}"
    try:
        tmux.start(command)
        screen = tmux.wait_for("Log in")
        time.sleep(0.5)  # a person reads the screen before typing
        assert "login: admin" not in screen  # the app draws over the printed credentials
        assert "Demo data: log in as admin, password seattui-demo" in screen  # so it says them again
        # The remembered login is filled in and the password field has the cursor: typing
        # goes there, never onto the end of the login.
        tmux.wait_for("Password")
        tmux.keys("seattui-demo", "Enter")
        screen = tmux.wait_for("At a glance")
        assert "Traceback" not in screen
        tmux.keys("q")
        time.sleep(1)
    finally:
        tmux.stop()
    balance = json.loads(seattui("--profile", "demo", "credits", "--json").stdout)["balance"]
    shown = f"{float(balance):,.2f} credits"
    assert shown in screen, f"{shown!r} is not on the dashboard:\n{screen}"
