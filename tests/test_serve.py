"""`seattui serve` as a team runs it: whose X-Forwarded-For counts for the activation limits
(no one's unless --trusted-proxy names the proxy), and a request uvicorn cannot read answered
in the API's JSON error shape."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx

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
