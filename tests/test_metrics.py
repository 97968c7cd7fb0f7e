"""Prometheus metrics at /metrics: requests by route and status with latency histograms,
device activation calls by outcome, database connections in use; off unless asked (the
embedded portal), on a port of their own, and summed over several worker processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from seattui.domain.errors import UnknownKey
from seattui.portal.app import create_app
from seattui.portal.mailer import MailDelivery
from seattui.portal.services import outbox
from seattui.portal.smtp import smtp_server
from seattui.domain.licensing import ActivationRequest

from cli_helpers import free_port
from harness import PortalHarness, running_portal
from harness import test_settings as settings_for  # not collected as a test
from mail_server import MailServer
from test_api_billing import a_key, monthly, permanent, set_terms
from license_setup import a_license


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def measured(database_url: str) -> AsyncIterator[PortalHarness]:
    async with running_portal(database_url, metrics=True) as running:
        yield running


async def scrape(harness: PortalHarness) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://p") as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


async def test_requests_by_route_and_status_with_latency(measured: PortalHarness) -> None:
    viewer = await measured.login("acme-viewer")
    await viewer.balance()
    await viewer.balance()
    anonymous = measured.client()
    with pytest.raises(Exception):
        await anonymous.balance()
    found = await scrape(measured)
    route = "/credits/balance"
    assert value(found, "seattui_http_requests_total", method="GET", route=route, status="200") == 2
    assert value(found, "seattui_http_requests_total", method="GET", route=route, status="401") == 1
    assert value(found, "seattui_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert value(found, "seattui_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") == 3
    assert value(found, "seattui_db_connections_max") > 0
    assert value(found, "seattui_db_connections_in_use") == 0  # between requests, all returned


async def test_activation_calls_by_outcome(measured: PortalHarness) -> None:
    license = await a_license(measured, quantity=1)
    software = measured.client()
    request = ActivationRequest(key=license.key, product_id="remotedesk", fingerprint="machine-pc-1-fp",
                                hostname="pc-1")
    await software.activate(request)
    with pytest.raises(UnknownKey):
        await software.activate(request.model_copy(update={"key": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}))
    found = await scrape(measured)
    assert value(found, "seattui_activation_calls_total", action="activate", outcome="ok") == 1
    assert value(found, "seattui_activation_calls_total", action="activate", outcome="unknown_key") == 1


async def test_billing_runs_are_counted_with_what_they_finalized_and_when_they_last_succeeded(
        harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", monthly("5000.00"))
    await (await harness.login("acme-owner")).create_license(permanent(await a_key(harness)))
    harness.clock.advance(days=30)  # into April: March's invoice is due to be finalized
    app = create_app(settings_for(harness.portal.settings.database_url, harness.clock, metrics=True,
                                  billing_check_every=timedelta(hours=1)))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as http:
            for _ in range(600):  # the run goes beside the start: wait until it has been counted
                found = samples((await http.get("/metrics")).text)
                if value(found, "seattui_billing_runs_total", outcome="ok"):
                    break
                await asyncio.sleep(0.05)
    assert value(found, "seattui_billing_runs_total", outcome="ok") == 1
    assert value(found, "seattui_billing_runs_total", outcome="failed") == 0
    assert value(found, "seattui_billing_invoices_finalized_total") == 1
    assert value(found, "seattui_billing_run_duration_seconds_count") == 1
    assert value(found, "seattui_billing_last_success_timestamp_seconds") == harness.clock.now.timestamp()


async def test_the_outbox_by_status_and_every_delivery_try_by_outcome(measured: PortalHarness) -> None:
    metrics = measured.app.state.metrics
    async with measured.as_org("Acme") as tx:
        for to in ("ann@acme.example", "bob@acme.example", "cy@acme.example"):
            await outbox.enqueue(tx.conn, tx.actor.org_id, to, "Your invoice", "Hello", cause="invoice", now=tx.now)
    found = await scrape(measured)
    assert [value(found, "seattui_outbox_mails", status=status) for status in ("waiting", "failed", "sent")] == [3, 0, 0]

    dead = MailServer()  # nothing listens on its port yet
    assert await MailDelivery(measured.portal, smtp_server(dead.url, timeout=5), "billing@portal.example",
                              observe=metrics.observe_mail).deliver_due() == 0
    found = await scrape(measured)
    assert value(found, "seattui_mail_deliveries_total", outcome="retry") == 3
    assert value(found, "seattui_outbox_mails", status="waiting") == 3

    async with measured.portal.store.write() as conn:  # one refused for good, as a 5xx answer does
        [claimed] = await outbox.claim_due(conn, measured.clock.now + outbox.FIRST_RETRY, 1)
        await outbox.mark_not_sent(conn, claimed, measured.clock.now, "550 no such mailbox", permanent=True)
    measured.clock.advance(seconds=outbox.FIRST_RETRY.total_seconds())
    dead.start()
    try:
        assert await MailDelivery(measured.portal, smtp_server(dead.url, timeout=5), "billing@portal.example",
                                  observe=metrics.observe_mail).deliver_due() == 2
    finally:
        dead.stop()
    found = await scrape(measured)
    assert [value(found, "seattui_outbox_mails", status=status) for status in ("waiting", "failed", "sent")] == [0, 1, 2]
    assert value(found, "seattui_mail_deliveries_total", outcome="sent") == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_no_metrics_unless_asked(harness: PortalHarness) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://p") as http:
        assert (await http.get("/metrics")).status_code == 404
    assert harness.app.state.metrics is None


def wait_until_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/ready", timeout=1):
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(server.stderr.read().decode() if server.stderr else "") from None
            time.sleep(0.2)


def activate_unknown_key(url: str) -> int:
    body = json.dumps({"key": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "product_id": "remotedesk", "fingerprint": "machine-fp-0001",
                       "hostname": "pc"}).encode()
    request = urllib.request.Request(f"{url}/api/v1/activation/activate", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def test_several_workers_sum_into_one_exposition_on_its_own_port(sqlite_url: str, tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    config = tmp_path / "portal.toml"
    # A window of a day (from midnight UTC), so the five calls below never straddle two.
    config.write_text(f'workers = 2\nmetrics-port = {metrics_port}\nactivation_limit = 3\n'
                      'activation_window = 86400\n')
    env = {name: value for name, value in os.environ.items() if name != "PROMETHEUS_MULTIPROC_DIR"}
    server = subprocess.Popen(
        [sys.executable, "-m", "seattui", "serve", "--db", sqlite_url, "--port", str(port), "--config", str(config),
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        for _ in range(30):
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=5):
                pass
        # The file's activation_limit reached both workers: the 4th call within the minute is refused.
        assert [activate_unknown_key(url) for _ in range(5)] == [404, 404, 404, 429, 429]
        with pytest.raises(urllib.error.HTTPError) as not_here:
            urllib.request.urlopen(f"{url}/metrics", timeout=5)
        assert not_here.value.code == 404
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as answer:
            found = samples(answer.read().decode())
        assert value(found, "seattui_http_requests_total", method="GET", route="/health", status="200") == 30
        assert value(found, "seattui_activation_calls_total", action="activate", outcome="unknown_key") == 3
        assert value(found, "seattui_activation_calls_total", action="activate", outcome="rate_limited") == 2
    finally:
        server.terminate()
        server.wait(timeout=30)
