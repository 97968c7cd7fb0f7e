"""Every route of the portal is built as it starts, beside the first requests, not by the first
request of each kind: FastAPI builds a router's routes (dependencies, validators) when a request
first reaches it, 0.3 s for all of the portal's, and the first page of the customers list paid
most of it (the screen opened in 0.5 s instead of 0.1)."""

from __future__ import annotations

from typing import Any

import fastapi.routing
import pytest

from harness import PortalHarness, running_portal


async def _routes_built_by_a_customers_page(harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> int:
    client = await harness.login("acme-owner")
    built: list[Any] = []
    original = fastapi.routing.get_dependant

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(kwargs.get("call"))
        return original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "get_dependant", counting)
    page = await client.customers()
    assert page.total == 0
    return len(built)


async def test_a_first_request_builds_no_route_once_the_portal_has_built_them(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_portal(sqlite_url, build_routes_at_start=True) as harness:
        harness.app.state.routes_built.join(timeout=30)
        assert await _routes_built_by_a_customers_page(harness, monkeypatch) == 0


async def test_without_the_start_the_first_request_builds_the_routes_before_its_own(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The other half: the day FastAPI builds its routes up front, this fails and the thread can go.
    async with running_portal(sqlite_url, build_routes_at_start=False) as harness:
        assert harness.app.state.routes_built is None
        assert await _routes_built_by_a_customers_page(harness, monkeypatch) > 10
