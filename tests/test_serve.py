"""`seattui serve` as a team runs it: whose X-Forwarded-For counts for the activation limits
(no one's unless --trusted-proxy names the proxy), a request uvicorn cannot read answered
in the API's JSON error shape, and several workers sharing the connections."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from cli_helpers import seattui, serving


def activation_checks(url: str, count: int) -> list[int]:
    """`count` checks of unknown keys, each claiming to come from another client address."""
    statuses = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for n in range(count):
            response = http.post("/api/v1/activation/check", headers={"X-Forwarded-For": f"203.0.113.{n}"},
                                 json={"key": f"TEST-AAAA-BBBB-{n:04d}", "product_id": "remotedesk",
                                       "fingerprint": "9f2c41d7e0b5a8c3"})
            statuses.append(response.status_code)
    return statuses


def test_a_forwarded_header_counts_only_from_a_trusted_proxy(sqlite_url: str) -> None:
    with serving(sqlite_url) as (url, _server):
        statuses = activation_checks(url, 31)
    # Every call is counted against 127.0.0.1, whatever the header says: the 31st is refused.
    assert statuses == [404] * 30 + [429]


def test_behind_a_trusted_proxy_each_client_is_counted_apart(sqlite_url: str) -> None:
    with serving(sqlite_url, "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "10.0.0.0/8") as (url, _server):
        statuses = activation_checks(url, 31)
    assert statuses == [404] * 31


def test_a_trusted_proxy_that_is_not_an_address_is_bad_usage(sqlite_url: str) -> None:
    done = seattui("serve", "--db", sqlite_url, "--trusted-proxy", "proxy.internal")
    assert done.returncode == 2
    assert "not an IP address or network" in done.stderr


def test_an_oversized_header_gets_the_json_error_shape(sqlite_url: str) -> None:
    with serving(sqlite_url) as (url, _server):
        address = urlsplit(url)
        with socket.create_connection((address.hostname, address.port), timeout=30) as conn:
            # A head still unfinished past uvicorn's 16 KiB: refused before it ends.
            conn.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/json" in head.lower()
    error = json.loads(body)
    assert error["code"] == "bad_request" and "could not read this request" in error["message"]


def test_a_large_body_is_no_oversized_header(sqlite_url: str) -> None:
    # The head limit counts the request line and headers only: a body of 200 kB sent in
    # pieces reaches the API, which answers it in its own words.
    with serving(sqlite_url) as (url, _server):
        address = urlsplit(url)
        body = json.dumps({"login": "nobody", "password": "x" * 200_000}).encode()
        with socket.create_connection((address.hostname, address.port), timeout=30) as conn:
            conn.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
            for start in range(0, len(body), 16_384):
                conn.sendall(body[start:start + 16_384])
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    head, _, text = answer.partition(b"\r\n\r\n")
    assert not head.startswith(b"HTTP/1.1 400"), text
    assert json.loads(text)["code"] != "bad_request"


# -- workers -------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _sockets_of(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            found.add(target[len("socket:["):-1])
    return found


def _tcp_sockets(port: int, state: str) -> set[str]:
    """The inodes of the IPv4 TCP sockets on local port `port` in `state` (0A listening, 01 established)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def _listening_workers(server: int, port: int, count: int, *, gone: int | None = None) -> list[int]:
    """The server's worker processes, once `count` of them listen on the port, each on its own
    socket (and the worker `gone`, killed, is no longer among them: until it is reaped, its
    socket may still be listed)."""
    deadline = time.monotonic() + 60
    while True:
        listening = _tcp_sockets(port, "0A")
        workers = [pid for pid in _children(server) if _sockets_of(pid) & listening]
        if len(listening) == count and len(workers) == count and gone not in workers:
            return workers
        assert time.monotonic() < deadline, f"{len(listening)} listening sockets, {len(workers)} workers on them"
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the kernel spreads a reuse-port group's connections on Linux")
def test_two_workers_share_a_burst_of_connections_and_a_restarted_one_listens_again(sqlite_url: str) -> None:
    with serving(sqlite_url, "--workers", "2") as (url, server):
        port = urlsplit(url).port
        assert port is not None
        workers = _listening_workers(server.pid, port, 2)
        # A pool of keep-alive clients connecting at once: on one shared socket, the first worker
        # to wake accepted all of them.
        connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(32)]
        try:
            for connection in connections:
                connection.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: portal\r\n\r\n")
            for connection in connections:
                assert connection.recv(64).startswith(b"HTTP/1.1 200")
            held = Counter(pid for pid in workers
                           for _ in _sockets_of(pid) & _tcp_sockets(port, "01"))
        finally:
            for connection in connections:
                connection.close()
        assert sorted(held) == sorted(workers) and min(held.values()) >= 4, held
        os.kill(workers[0], signal.SIGKILL)
        replaced = _listening_workers(server.pid, port, 2, gone=workers[0])
        assert workers[1] in replaced
        assert httpx.get(f"{url}/api/v1/health", timeout=10).status_code == 200


@pytest.mark.skipif(sys.platform != "linux", reason="the workers' own listeners are Linux's")
def test_workers_on_a_port_already_served_say_so(sqlite_url: str) -> None:
    with serving(sqlite_url, "--workers", "2") as (url, _server):
        done = seattui("serve", "--db", sqlite_url, "--port", str(urlsplit(url).port), "--workers", "2")
    assert done.returncode == 2
    assert "cannot listen on 127.0.0.1:" in done.stderr and "Address already in use" in done.stderr
    assert "another --port" in done.stderr
