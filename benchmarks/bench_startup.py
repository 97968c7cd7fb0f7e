"""Startup of the terminal app on an embedded demo database, already logged in: time to the
first frame and to the dashboard showing its data, against a minimal Textual app that draws
one static line, measured in the same run. Targets: first frame <= 1.3x, data <= 2x.

"Data shown" is the balance on screen. From the second start on, the dashboard first shows the
figures of the last session (marked "as of ..."), then the portal's: `fresh_data_ms` is when
the portal's own figures are on screen (the caption "credits on <date>")."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from harness import SEATTUI, figure, median, scratch_env
from terminal import time_to_texts

RUNS = 11  # the machines are shared: medians of more runs move less
SMOKE_RUNS = 1
MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("minimal textual app")

    def on_mount(self):
        self.call_after_refresh(self.exit)

Minimal().run()
"""


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    runs = SMOKE_RUNS if smoke else RUNS
    with scratch_env() as (root, env):
        database = root / "demo.db"
        subprocess.run([SEATTUI, "demo", "--db", str(database), "--seed-only"], env=env, check=True,
                       capture_output=True)
        subprocess.run([SEATTUI, "--profile", "demo", "login", "--password-stdin"], input=b"seattui-demo\n",
                       env=env, check=True, capture_output=True)
        balance = subprocess.run([SEATTUI, "--profile", "demo", "credits"], env=env, check=True,
                                 capture_output=True, text=True).stdout.split(": ")[1].strip()
        ours_first, ours_data, ours_fresh, minimal_first = [], [], [], []
        for _ in range(runs):  # interleaved, so both see the same machine load
            first, data, fresh = time_to_texts(
                [SEATTUI, "--profile", "demo"], ["seattui", balance, "credits on "], env
            )
            ours_first.append(first)
            ours_data.append(data)
            ours_fresh.append(fresh)
            (minimal,) = time_to_texts([sys.executable, "-c", MINIMAL_APP], ["minimal textual app"], env)
            minimal_first.append(minimal)
    base = median(minimal_first) * 1000
    yield figure("first_frame_ms", median(ours_first) * 1000, "ms", baseline=base)
    yield figure("data_shown_ms", median(ours_data) * 1000, "ms", baseline=base)
    yield figure("fresh_data_ms", median(ours_fresh) * 1000, "ms", baseline=base)
    # Each start is compared with the minimal app's start next to it, which saw the same load
    # (this machine's speed drifts by a third within minutes); the ratio is their median.
    yield figure("first_frame_ratio", paired_ratio(ours_first, minimal_first), "x", target=1.3)
    yield figure("data_shown_ratio", paired_ratio(ours_data, minimal_first), "x", target=2.0)


def paired_ratio(ours: list[float], minimal: list[float]) -> float:
    return median([mine / theirs for mine, theirs in zip(ours, minimal, strict=True)])
