"""Probes for process managers and load balancers: health (the process is up) and ready (the
database answers and has this portal's schema), both for GET and HEAD."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from seattui.portal.store import SCHEMA_HEAD

from harness import PortalHarness


def raw(harness: PortalHarness) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://portal")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_health_and_ready_answer_get_and_head(harness: PortalHarness, method: str) -> None:
    async with raw(harness) as http:
        health = await http.request(method, "/api/v1/health")
        ready = await http.request(method, "/api/v1/ready")
    assert (health.status_code, ready.status_code) == (200, 200)
    if method == "GET":
        assert health.json()["status"] == "ok"
        assert ready.json() == {"status": "ready", "schema_version": SCHEMA_HEAD}


async def test_a_missing_table_makes_the_portal_not_ready(harness: PortalHarness) -> None:
    async with harness.portal.store.write() as conn:
        await conn.execute(text("DROP TABLE rate_counters"))
    async with raw(harness) as http:
        health = await http.get("/api/v1/health")
        ready = await http.get("/api/v1/ready")
        head = await http.head("/api/v1/ready")
    assert health.status_code == 200  # the process is still up
    assert (ready.status_code, head.status_code) == (503, 503)
    assert ready.json()["code"] == "not_ready"
    assert ready.json()["details"]["missing_tables"] == ["rate_counters"]
    assert "rate_counters" in ready.json()["message"]


async def test_a_schema_at_another_migration_is_not_ready(harness: PortalHarness) -> None:
    async with harness.portal.store.write() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    async with raw(harness) as http:
        ready = await http.get("/api/v1/ready")
    assert ready.status_code == 503
    assert ready.json()["details"]["schema_version"] == "0004"


async def test_a_database_that_does_not_answer_is_not_ready(harness: PortalHarness) -> None:
    store = harness.portal.store
    working = store.engine
    store.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        async with raw(harness) as http:
            ready = await http.get("/api/v1/ready")
            health = await http.get("/api/v1/health")
    finally:
        await store.engine.dispose()
        store.engine = working
    assert ready.status_code == 503
    assert "does not answer" in ready.json()["message"]
    assert health.status_code == 200
