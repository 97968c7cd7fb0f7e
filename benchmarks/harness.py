"""What the benchmarks share: timing subprocesses, medians, a scratch portal."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PYTHON = sys.executable
SEATTUI = str(Path(PYTHON).with_name("seattui")) if Path(PYTHON).with_name("seattui").exists() else shutil.which("seattui")


def figure(metric: str, value: float, unit: str, *, baseline: float | None = None,
           target: float | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"metric": metric, "value": round(value, 4), "unit": unit}
    if baseline is not None:
        result["baseline"] = round(baseline, 4)
        result["ratio"] = round(value / baseline, 3) if baseline else None
    if target is not None:
        result["target"] = target
    return result


def wall_time(command: Sequence[str], env: dict[str, str], *, expect: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or (expect is not None and expect not in done.stdout):
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return elapsed


def cpu_times() -> tuple[int, int] | None:
    """The machine's CPU time so far, busy and in all (clock ticks, every core), from Linux's
    /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = ticks[3] + ticks[4]  # idle and waiting on I/O
    return sum(ticks) - idle, sum(ticks)


def busy_cores(since: tuple[int, int] | None) -> float | None:
    """How many of the machine's cores were busy, on average, since cpu_times() gave `since`."""
    now = cpu_times()
    if since is None or now is None or now[1] == since[1]:
        return None
    return (now[0] - since[0]) / (now[1] - since[1]) * (os.cpu_count() or 1)


def median(values: list[float]) -> float:
    return statistics.median(values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def scratch_env() -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary home for config, tokens and databases, so a benchmark touches nothing of yours."""
    with tempfile.TemporaryDirectory(prefix="seattui-bench-") as folder:
        root = Path(folder)
        # Bytecode is cached, as for anyone who installed seattui (pip compiles it): a machine
        # that says not to write it would time Python compiling seattui on every start.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SEATTUI_", "TEXTUAL_")) and k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"SEATTUI_CONFIG": str(root / "config.toml"), "SEATTUI_DATA_DIR": str(root / "data")}
        yield root, env


@contextmanager
def serving(database: Path | str, env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """`seattui serve` on a free loopback port, stopped afterwards; with `workers` processes,
    measured once every one of them listens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [SEATTUI, "serve", "--db", str(database), "--port", str(port), "--log-level", "warning",
         "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_until_up(url, server)
        if workers > 1:  # every worker, not only the first up, before anything is measured
            _wait_for_listeners(port, workers, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_listeners(port: int, count: int, server: subprocess.Popen[bytes]) -> None:
    """Until `count` sockets listen on the loopback port (serve's workers, each its own on Linux;
    elsewhere they share one, and there is nothing to wait for)."""
    if sys.platform != "linux":
        return
    deadline = time.monotonic() + 30
    while True:
        listening = sum(1 for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                        if int(line.split()[1].rsplit(":", 1)[1], 16) == port and line.split()[3] == "0A")
        if listening >= count:
            return
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{listening} of serve's {count} workers listen on port {port}")
        time.sleep(0.1)


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    """Until `url`'s /api/v1/health answers; the server's stderr if it stops first."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1):
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {server.stderr.read().decode() if server.stderr else ''}") from None
            time.sleep(0.1)


BENCH_ORG, BENCH_LOGIN, BENCH_PASSWORD = "Bench Org", "bench", "bench password 1"


async def seed_workforce(database: str | Path, people: int, seats: int) -> str:
    """An organization with `people` employees, the first `seats` holding a workspace seat;
    returns a session token of its owner (BENCH_LOGIN)."""
    from seattui.domain.accounts import Credentials, NewOrganization
    from seattui.portal.context import Tx
    from seattui.portal.runtime import Portal
    from seattui.portal.seed import add_workforce
    from seattui.portal.services import accounts, auth
    from seattui.wiring import portal_settings

    portal = Portal(portal_settings(database))
    await portal.start()
    try:
        async with portal.store.write() as conn:
            org = await accounts.create_organization(
                portal, conn, NewOrganization(organization_name=BENCH_ORG, owner_login=BENCH_LOGIN,
                                              password=BENCH_PASSWORD))
            await add_workforce(Tx(conn=conn, actor=org, catalog=portal.catalog, now=portal.now()),
                                people=people, seats_bought=seats)
        return (await auth.login(portal, Credentials(login=BENCH_LOGIN, password=BENCH_PASSWORD))).token
    finally:
        await portal.close()
