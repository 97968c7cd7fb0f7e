"""`seattui credits --json` against a `seattui serve` on loopback, and in the same run a plain
`python -c` that does one httpx GET of the same endpoint. Target: at most 2x."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

from harness import PYTHON, SEATTUI, figure, median, scratch_env, serving, wall_time

RUNS = 9
SMOKE_RUNS = 1
PASSWORD = "benchmark-password"


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    runs = SMOKE_RUNS if smoke else RUNS
    with scratch_env() as (root, env):
        database = root / "portal.db"
        subprocess.run(
            [SEATTUI, "init", "--db", str(database), "--org", "Bench", "--login", "bench", "--credits", "1234.50",
             "--password-stdin"],
            input=PASSWORD + "\n", env=env, check=True, capture_output=True, text=True,
        )
        with serving(database, env) as url:
            subprocess.run(
                [SEATTUI, "login", "--portal", url, "--login", "bench", "--password-stdin"],
                input=PASSWORD + "\n", env=env, check=True, capture_output=True, text=True,
            )
            token = (root / "tokens.toml").read_text().split('"')[-2]
            baseline_script = (
                "import httpx; r = httpx.get(%r, headers={'Authorization': 'Bearer %s'}); print(r.text)"
                % (f"{url}/api/v1/credits/balance", token)
            )
            ours: list[float] = []
            plain: list[float] = []
            for _ in range(runs):  # interleaved, so both see the same machine load
                ours.append(wall_time([SEATTUI, "credits", "--json"], env, expect='"1234.50"'))
                plain.append(wall_time([PYTHON, "-c", baseline_script], env, expect='"1234.50"'))
    ours_ms, plain_ms = median(ours) * 1000, median(plain) * 1000
    yield figure("credits_cli_ms", ours_ms, "ms", baseline=plain_ms)
    yield figure("credits_cli_ratio", ours_ms / plain_ms, "x", target=2.0)
