"""The portal's Prometheus metrics (prometheus-client): requests by route and status with
their latency, device activation calls by outcome, the database connections in use, the
billing runs of this process, and the outbox's mail by status.

Several worker processes (uvicorn --workers, gunicorn) share one exposition through the
client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` names an empty folder, set before the
workers start (`seattui serve --workers N` does it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# From a cached read (about a millisecond) to a 10,000-move batch (seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# From a month with nothing to finalize to 100,000 orders of 1,000 organizations.
BILLING_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


class PortalMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._activation_children: dict[tuple[str, str], Any] = {}
        self.requests = Counter("seattui_http_requests", "HTTP requests answered, by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("seattui_http_request_duration_seconds", "Time to answer a request, by route",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.activations = Counter("seattui_activation_calls", "Device activation calls, by action and outcome",
                                   ["action", "outcome"], registry=self.registry)
        self.mail = Counter("seattui_mail_deliveries", "Tries to hand a mail to the SMTP server, by outcome "
                            "(sent, retry, failed)", ["outcome"], registry=self.registry)
        self.billing_runs = Counter("seattui_billing_runs", "Billing runs of this portal, by outcome (ok, failed)",
                                    ["outcome"], registry=self.registry)
        self.billing_finalized = Counter("seattui_billing_invoices_finalized", "Invoices the billing runs finalized",
                                         registry=self.registry)
        self.billing_duration = Histogram("seattui_billing_run_duration_seconds", "Time a billing run took",
                                          buckets=BILLING_BUCKETS, registry=self.registry)
        self.billing_last_success = Gauge("seattui_billing_last_success_timestamp_seconds",
                                          "When a billing run last ended without error (Unix time)",
                                          registry=self.registry, multiprocess_mode="max")
        # Read from the database as the figures are asked for: every worker sees the same outbox,
        # so the most recent reading is the truth.
        self.outbox = Gauge("seattui_outbox_mails", "Mail in the outbox, by status (waiting, failed, sent)",
                            ["status"], registry=self.registry, multiprocess_mode="mostrecent")
        self.pool_in_use = Gauge("seattui_db_connections_in_use", "Database connections checked out of the pool",
                                 registry=self.registry, multiprocess_mode="livesum")
        self.pool_capacity = Gauge("seattui_db_connections_max", "Connections the pool may open (size + overflow)",
                                   registry=self.registry, multiprocess_mode="livesum")

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # The children of each (method, route, status), kept: labels() finding them again under
        # its lock cost three times the counting. (As many as the metrics have children anyway.)
        children = self._request_children.get((method, route, status))
        if children is None:
            children = self._request_children[(method, route, status)] = (
                self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
        children[0].inc()
        children[1].observe(seconds)

    def observe_activation(self, action: str, outcome: str) -> None:
        # Kept as observe_request's are: every device call counts here.
        child = self._activation_children.get((action, outcome))
        if child is None:
            child = self._activation_children[(action, outcome)] = self.activations.labels(action, outcome)
        child.inc()

    def observe_mail(self, outcome: str) -> None:
        self.mail.labels(outcome).inc()

    def observe_billing_run(self, seconds: float, finalized: int, *, ok: bool, ended_at: float) -> None:
        self.billing_runs.labels("ok" if ok else "failed").inc()
        self.billing_duration.observe(seconds)
        if ok:
            self.billing_finalized.inc(finalized)
            self.billing_last_success.set(ended_at)

    def set_outbox(self, counts: Mapping[str, int]) -> None:
        for status, count in counts.items():
            self.outbox.labels(status).set(count)

    def watch_pool(self, engine: AsyncEngine, capacity: int) -> None:
        self.pool_capacity.set(capacity)

        @event.listens_for(engine.sync_engine, "checkout")
        def _checkout(*_args: Any) -> None:
            self.pool_in_use.inc()

        @event.listens_for(engine.sync_engine, "checkin")
        def _checkin(*_args: Any) -> None:
            self.pool_in_use.dec()

    def collecting_registry(self) -> CollectorRegistry:
        """This process's registry, or, with several workers, one that reads them all."""
        if not multiprocess_mode():
            return self.registry
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry

    def exposition(self) -> bytes:
        return generate_latest(self.collecting_registry())


def process_exited(pid: int) -> None:
    """For gunicorn's `child_exit` hook: a dead worker's live gauges leave the sums."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def serve_apart(host: str, port: int, metrics: PortalMetrics | None) -> None:
    """/metrics on a port of its own (a thread of this process), away from the API's."""
    from prometheus_client import start_http_server

    if metrics is not None:
        registry = metrics.collecting_registry()
    else:  # the workers are other processes: read them all
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)
