"""Logs an operator can use: every line of a request carries its id (also sent back as
X-Request-ID), access lines are optional and leave query strings out, JSON lines on request;
the terminal app's seattui.log rotates and never records what was typed into a filter."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seattui.logs import configure_app_logging, configure_portal_logging

from harness import PortalHarness


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in ("seattui.access", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def captured_stderr() -> io.StringIO:
    stream = io.StringIO()
    handler = logging.getLogger().handlers[-1]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


def add_probe_route(harness: PortalHarness) -> None:
    probe_log = logging.getLogger("seattui.portal.probe")

    @harness.app.get("/api/v1/probe")
    async def probe() -> dict[str, str]:
        probe_log.info("first line of the request")
        probe_log.warning("second line of the request")
        return {"status": "ok"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_json_lines_carry_the_request_id_on_every_line(harness: PortalHarness) -> None:
    configure_portal_logging("info", "json", access_log=True)
    stream = captured_stderr()
    add_probe_route(harness)
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as http:
        mine = await http.get("/api/v1/probe", params={"q": "typed-secret"}, headers={"X-Request-ID": "req-42"})
        theirs = await http.get("/api/v1/probe")
    assert mine.headers["x-request-id"] == "req-42"
    generated = theirs.headers["x-request-id"]
    assert generated and generated != "req-42"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    for request_id in ("req-42", generated):
        of_request = [line for line in lines if line["request_id"] == request_id]
        assert [line["message"] for line in of_request][:2] == ["first line of the request",
                                                                 "second line of the request"]
        access = of_request[2]
        assert access["logger"] == "seattui.access"
        assert (access["method"], access["path"], access["status"]) == ("GET", "/api/v1/probe", 200)
        assert {"time", "level"} <= set(access)
    assert "typed-secret" not in stream.getvalue()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_access_lines_are_off_unless_asked_and_text_lines_have_time_level_and_id(
        harness: PortalHarness) -> None:
    configure_portal_logging("info", "text", access_log=False)
    stream = captured_stderr()
    add_probe_route(harness)
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as http:
        await http.get("/api/v1/probe", headers={"X-Request-ID": "req-7"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # the route's own two lines, no access line
    date, clock, level, logger, request_id, *_ = lines[1].split()
    assert (level, logger, request_id) == ("WARNING", "seattui.portal.probe", "[req-7]")
    assert date[:2] == "20" and clock.count(":") == 2


def test_the_app_log_rotates_and_leaves_filter_text_out(tmp_path: Path) -> None:
    log_file = tmp_path / "seattui.log"
    configure_app_logging(log_file, max_bytes=4000, backups=2)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": []})

    with httpx.Client(transport=httpx.MockTransport(answer), base_url="http://portal") as http:
        http.get("/api/v1/licenses", params={"q": "alice@customer.example"})
    logging.getLogger("seattui.tui").warning("the portal did not answer")
    text = log_file.read_text()
    assert "the portal did not answer" in text
    assert "alice@customer.example" not in text
    for number in range(200):
        logging.getLogger("seattui.tui").info("line %d of a long session", number)
    rotated = sorted(path.name for path in tmp_path.iterdir())
    assert rotated == ["seattui.log", "seattui.log.1", "seattui.log.2"]
    assert all(path.stat().st_size <= 4000 for path in tmp_path.iterdir())
    assert "line 199 of a long session" in log_file.read_text()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_failure_inside_is_logged_with_its_request_id_and_incident(harness: PortalHarness) -> None:
    configure_portal_logging("info", "json", access_log=True)
    stream = captured_stderr()

    @harness.app.get("/api/v1/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=harness.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as http:
        answer = await http.get("/api/v1/broken", headers={"X-Request-ID": "req-500"})
    assert answer.status_code == 500
    incident = answer.json()["details"]["incident"]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failure = next(line for line in lines if line["level"] == "ERROR")
    assert failure["request_id"] == "req-500"
    assert incident in failure["message"] and "RuntimeError: a bug" in failure["exception"]
    access = next(line for line in lines if line["logger"] == "seattui.access")
    assert (access["request_id"], access["status"]) == ("req-500", 500)
