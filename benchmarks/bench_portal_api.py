"""The portal's API at load: one `seattui serve` over an organization with 100,000 licenses,
32 keep-alive connections, against a minimal FastAPI app on the same uvicorn settings that
answers each request with a body of the same size (benchmarks/minimal_api.py).

Requests: `POST /activation/check` (a machine that holds its activation), `POST
/activation/activate` (each call a new machine taking a free license: a write), `GET
/credits/balance`, the first page of licenses (100 rows with the total) and the next page by
its cursor. Each is measured for ROUND_SECONDS against seattui, then against the minimal app,
in turn (interleaved, so both see the same machine load), ROUNDS times; a figure is the median
of the rounds' requests per second (`*_req_s`, target: the issue's ratio to the baseline) and of
their 99th percentile latencies (`*_p99_ms`, target: at most 3x the baseline's).

Then one `seattui serve --workers 2` on the same SQLite file (and, when SEATTUI_BENCH_POSTGRES_URL
or SEATTUI_TEST_POSTGRES_URL names a server, two `seattui serve` instances on one PostgreSQL
database) against one instance, interleaved (`two_*_req_s`, target 1.6x on a machine with a core
free for each: `cores` says how many this one has, `load_1min` how busy it was). With them,
`*_ceiling`: about the most two processes could reach here, the machine's cores over the cores
busy while one instance served (the instance, PostgreSQL and this load generator alike): each
request costs that much CPU wherever it runs. An estimate (a few percent either way: SQLite's
two workers measured 1.69x and 1.73x against ceilings of 1.71x and 1.63x), not a bound.

SEATTUI_BENCH_REQUESTS=licenses_first_page,licenses_next_page (names of the requests above,
comma-separated) measures only those; unset, every one. Without SEATTUI_BENCH_POSTGRES_URL and
SEATTUI_TEST_POSTGRES_URL it measures SQLite alone.

The load comes from raw asyncio streams, not an HTTP client library: httpx spends more per
request than the minimal app does, so it would measure itself. Every answer must be 200; a
refusal (a rate limit, an error) stops the benchmark rather than counting as a fast answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from harness import PYTHON, busy_cores, cpu_times, figure, free_port, median, scratch_env, serving, wait_until_up

LICENSES, SMOKE_LICENSES = 100_000, 2_000
ROUNDS, SMOKE_ROUNDS = 5, 1
ROUND_SECONDS, SMOKE_ROUND_SECONDS = 3.0, 0.3
CONNECTIONS = 32
TARGETS = {"check": 0.5, "balance": 0.5, "activate": 0.3, "licenses_first_page": 0.25, "licenses_next_page": 0.25}
API = "/api/v1"
MINIMAL_APP = str(Path(__file__).with_name("minimal_api.py"))
# Every call of the benchmark comes from loopback: the per-address limit must not refuse them
# (the per-key limit stays: each key is called a few times a minute at most).
ADDRESS_LIMIT = 1_000_000_000


class Requests:
    """The bytes of one kind of request, one after another: `next()` for each call."""

    def __init__(self, method: str, path: str, token: str | None, bodies: Iterator[bytes] | None = None) -> None:
        self.method, self.path, self._bodies = method, path, bodies
        self._head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if token:
            self._head += f"Authorization: Bearer {token}\r\n"
        self._get = f"{self._head}\r\n".encode()

    @property
    def route(self) -> str:
        return f"{self.method} {self.path.split('?', 1)[0]}"

    def next(self) -> bytes:
        if self._bodies is None:
            return self._get
        body = next(self._bodies)
        return (f"{self._head}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length) if length else b""


async def _load(port: int, requests: Requests, seconds: float) -> tuple[float, float]:
    """(requests per second, 99th percentile latency in ms) of CONNECTIONS connections."""
    latencies: list[float] = []
    refused: list[tuple[int, bytes]] = []
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline and not refused:
                request = requests.next()
                sent = time.perf_counter()
                writer.write(request)
                status, body = await _answer(reader)
                latencies.append(time.perf_counter() - sent)
                if status != 200:
                    refused.append((status, body))
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - start
    if refused:
        status, body = refused[0]
        raise RuntimeError(f"{requests.route} answered {status}: {body[:300].decode(errors='replace')}")
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99)] * 1000


async def _one(port: int, requests: Requests) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(requests.next())
        status, body = await _answer(reader)
    finally:
        writer.close()
    if status != 200:
        raise RuntimeError(f"{requests.route} answered {status}: {body[:300].decode(errors='replace')}")
    return body


async def _devices(database: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(machines that hold a permanent license, a free permanent license of each key) of the data."""
    from sqlalchemy import select

    from seattui.portal.store import Store
    from seattui.portal.store.tables import licenses

    store = Store(database)
    try:
        async with store.read() as conn:
            rows = (await conn.execute(
                select(licenses.c.key, licenses.c.product_id, licenses.c.device_fingerprint)
                .where(licenses.c.term == "permanent").order_by(licenses.c.id))).all()
    finally:
        await store.dispose()
    held = [{"key": row.key, "product_id": row.product_id, "fingerprint": row.device_fingerprint}
            for row in rows if row.device_fingerprint is not None]
    free = [{"key": row.key, "product_id": row.product_id, "fingerprint": f"bench-{n:08x}", "hostname": f"bench-{n}"}
            for n, row in enumerate(rows) if row.device_fingerprint is None]
    return held, free


def _bodies(items: list[dict[str, str]], *, cycle: bool) -> Iterator[bytes]:
    encoded = (json.dumps(item).encode() for item in items)
    return itertools.cycle(list(encoded)) if cycle else encoded


async def _token(port: int) -> str:
    from license_data import LOGIN, PASSWORD

    body = json.dumps({"login": LOGIN, "password": PASSWORD}).encode()
    login = Requests("POST", f"{API}/auth/login", None, iter([body]))
    return str(json.loads(await _one(port, login))["token"])


async def _request_sets(port: int, database: str) -> tuple[dict[str, Requests], dict[str, Requests]]:
    """The requests against seattui and the same against the minimal app, by name."""
    token = await _token(port)
    held, free = await _devices(database)
    first = Requests("GET", f"{API}/licenses?limit=100", token)
    cursor = json.loads(await _one(port, first))["next_cursor"]
    next_path = f"{API}/licenses?limit=100&cursor={urllib.parse.quote(cursor, safe='')}"
    ours = {
        "check": Requests("POST", f"{API}/activation/check", None,
                          _bodies(held, cycle=True)),
        "activate": Requests("POST", f"{API}/activation/activate", None, _bodies(free, cycle=False)),
        "balance": Requests("GET", f"{API}/credits/balance", token),
        "licenses_first_page": first,
        "licenses_next_page": Requests("GET", next_path, token),
    }
    # The minimal app is sent the same kind of bodies; it never changes, so they may repeat.
    theirs = {
        "check": Requests("POST", f"{API}/activation/check", None, _bodies(held[:1000], cycle=True)),
        "activate": Requests("POST", f"{API}/activation/activate", None, _bodies(free[-1000:], cycle=True)),
        "balance": Requests("GET", f"{API}/credits/balance", token),
        "licenses_first_page": Requests("GET", first.path, token),
        "licenses_next_page": Requests("GET", next_path, token),
    }
    return ours, theirs


@contextmanager
def _minimal(answers: dict[str, str], root: Path, env: dict[str, str]) -> Iterator[int]:
    answers_file = root / "answers.json"
    answers_file.write_text(json.dumps(answers))
    port = free_port()
    server = subprocess.Popen([PYTHON, MINIMAL_APP, str(port), str(answers_file)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def _measure(ours: dict[str, Requests], theirs: dict[str, Requests], our_port: int, their_port: int,
                   rounds: int, seconds: float) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {name: {"ours": [], "theirs": [], "ours_p99": [], "theirs_p99": []}
                                                  for name in ours}
    for _ in range(rounds):
        for name in ours:
            rate, p99 = await _load(our_port, ours[name], seconds)
            figures[name]["ours"].append(rate)
            figures[name]["ours_p99"].append(p99)
            rate, p99 = await _load(their_port, theirs[name], seconds)
            figures[name]["theirs"].append(rate)
            figures[name]["theirs_p99"].append(p99)
    return figures


def _chosen(requests: dict[str, Requests]) -> dict[str, Requests]:
    """The requests SEATTUI_BENCH_REQUESTS names (all of them when it is unset)."""
    wanted = os.environ.get("SEATTUI_BENCH_REQUESTS")
    if not wanted:
        return requests
    names = {name.strip() for name in wanted.split(",")}
    if not names <= set(TARGETS):
        raise SystemExit(f"SEATTUI_BENCH_REQUESTS={wanted}: the requests are {', '.join(TARGETS)}")
    return {name: request for name, request in requests.items() if name in names}


def _request_figures(store: str, measured: dict[str, dict[str, list[float]]]) -> Iterator[dict[str, Any]]:
    for name, runs in measured.items():
        ours, theirs = median(runs["ours"]), median(runs["theirs"])
        yield {**figure(f"{store}_{name}_req_s", ours, "req/s", baseline=theirs, target=TARGETS[name]),
               "rounds": [round(rate) for rate in runs["ours"]]}
        yield figure(f"{store}_{name}_p99_ms", median(runs["ours_p99"]), "ms",
                     baseline=median(runs["theirs_p99"]), target=3.0)


async def _two_instances(one: int, two: list[int], requests: dict[str, Requests], rounds: int,
                         seconds: float) -> dict[str, tuple[list[float], list[float], list[float]]]:
    """Requests per second of one instance and of two (their connections split between them),
    and the cores busy while one instance served."""
    measured: dict[str, tuple[list[float], list[float], list[float]]] = {name: ([], [], []) for name in requests}
    for _ in range(rounds):
        for name, request in requests.items():
            since = cpu_times()
            measured[name][0].append((await _load(one, request, seconds))[0])
            busy = busy_cores(since)
            if busy:
                measured[name][2].append(busy)
            if len(two) == 1:
                measured[name][1].append((await _load(two[0], request, seconds))[0])
            else:
                halves = await asyncio.gather(*(_load(port, request, seconds) for port in two))
                measured[name][1].append(sum(rate for rate, _ in halves))
    return measured


def _store_figures(store: str, database: str, root: Path, env: dict[str, str], rounds: int,
                   seconds: float) -> Iterator[dict[str, Any]]:
    from license_data import seed

    asyncio.run(seed(database, SMOKE_LICENSES if seconds == SMOKE_ROUND_SECONDS else LICENSES))
    with serving(database, env) as url:
        ours, theirs = asyncio.run(_request_sets(_port(url), database))
        ours = _chosen(ours)
        theirs = {name: theirs[name] for name in ours}
        answers = {ours[name].route: asyncio.run(_one(_port(url), ours[name])).decode() for name in ours}
        with _minimal(answers, root, env) as their_port:
            yield figure("load_1min", os.getloadavg()[0], "load")
            measured = asyncio.run(_measure(ours, theirs, _port(url), their_port, rounds, seconds))
        yield from _request_figures(store, measured)
        parallel = {name: ours[name] for name in ("check", "balance") if name in ours}
        if parallel:  # the requests measured on two processes, when chosen
            with ExitStack() as stack:
                if store == "sqlite":
                    two = [_port(stack.enter_context(serving(database, env, workers=2)))]
                    label = "workers_2"
                else:
                    two = [_port(stack.enter_context(serving(database, env))) for _ in range(2)]
                    label = "instances_2"
                measured_two = asyncio.run(_two_instances(_port(url), two, parallel, rounds, seconds))
            for name, (one_rates, two_rates, busy) in measured_two.items():
                yield {**figure(f"{store}_{label}_{name}_req_s", median(two_rates), "req/s",
                                baseline=median(one_rates), target=1.6), "cores": os.cpu_count()}
                if busy:
                    yield {**figure(f"{store}_{label}_{name}_ceiling", (os.cpu_count() or 1) / median(busy), "x"),
                           "busy_cores": round(median(busy), 2), "cores": os.cpu_count()}
    yield figure("load_1min", os.getloadavg()[0], "load")


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    rounds, seconds = (SMOKE_ROUNDS, SMOKE_ROUND_SECONDS) if smoke else (ROUNDS, ROUND_SECONDS)
    yield figure("cores", float(os.cpu_count() or 1), "cores")
    with scratch_env() as (root, env):
        env["SEATTUI_ACTIVATION_ADDRESS_LIMIT"] = str(ADDRESS_LIMIT)
        # SEATTUI_BENCH_STORES=postgres measures one store alone (both by default).
        stores = os.environ.get("SEATTUI_BENCH_STORES", "sqlite,postgres").split(",")
        if "sqlite" in stores:
            yield from _store_figures("sqlite", str(root / "portal.db"), root, env, rounds, seconds)
        admin = os.environ.get("SEATTUI_BENCH_POSTGRES_URL") or os.environ.get("SEATTUI_TEST_POSTGRES_URL")
        if admin is None or "postgres" not in stores:
            return
        name = f"seattui_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_database(admin, name))
        try:
            yield from _store_figures("postgres", f"{admin.rsplit('/', 1)[0]}/{name}", root, env, rounds, seconds)
        finally:
            asyncio.run(_database(admin, name, drop=True))


async def _database(admin: str, name: str, *, drop: bool = False) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()

