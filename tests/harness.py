"""A portal for tests: a database per test, a clock the test moves, a world of organizations
and users, and real PortalClients talking to the in-process app."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from seattui.client import PortalClient
from seattui.domain.accounts import NewOrganization
from seattui.domain.roles import OrgKind, Role
from seattui.portal.app import create_app
from seattui.portal.context import Tx
from seattui.portal.runtime import Portal
from seattui.portal.services import accounts
from seattui.portal.settings import PortalSettings

PASSWORD = "correct horse battery"
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class FakeClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_settings(database_url: str, clock: FakeClock, **overrides: Any) -> PortalSettings:
    overrides.setdefault("billing_check_every", None)  # tests run the billing run themselves
    overrides.setdefault("build_routes_at_start", False)  # 0.3 s of a core for each of hundreds of portals
    return PortalSettings(
        database_url=database_url, clock=clock, argon2_time_cost=1, argon2_memory_kib=64, **overrides
    )


@dataclass
class World:
    """Who exists: logins by name, and organization ids."""

    vendor_id: int = 0
    org_ids: dict[str, int] = field(default_factory=dict)


@dataclass
class PortalHarness:
    portal: Portal
    app: Any
    clock: FakeClock
    world: World
    _clients: list[PortalClient] = field(default_factory=list)

    def client(self, token: str | None = None, **options: Any) -> PortalClient:
        client = PortalClient(
            transport=httpx.ASGITransport(app=self.app, raise_app_exceptions=False), token=token, **options
        )
        self._clients.append(client)
        return client

    async def login(self, login: str, password: str = PASSWORD) -> PortalClient:
        client = self.client()
        await client.login(login, password)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    @asynccontextmanager
    async def as_org(self, org: str) -> AsyncIterator[Tx]:
        """A write transaction acting as an organization's administration (for test setup)."""
        async with self.portal.store.write() as conn:
            actor = accounts.system_actor(self.world.org_ids[org], org, OrgKind.RESELLER)
            yield Tx(conn=conn, actor=actor, catalog=self.portal.catalog, now=self.clock.now)


async def build_world(portal: Portal, clock: FakeClock) -> World:
    """A vendor with an admin, reseller Acme (owner, admin, operator, viewer; 1,000 credits)
    and reseller Globex (owner; 500 credits)."""
    world = World()
    async with portal.store.write() as conn:
        vendor_id, vendor_name = await accounts.vendor(conn, clock.now)
        world.vendor_id = vendor_id
        vendor = accounts.system_actor(vendor_id, vendor_name, OrgKind.VENDOR)
        tx = Tx(conn=conn, actor=vendor, catalog=portal.catalog, now=clock.now)
        await accounts.add_user(tx, portal.hasher, login="vendor-admin", password=PASSWORD, role=Role.ADMIN)
        for name, owner, credit in (("Acme", "acme-owner", "1000.00"), ("Globex", "globex-owner", "500.00")):
            org = await accounts.create_organization(
                portal, conn, NewOrganization(organization_name=name, owner_login=owner, password=PASSWORD),
                Decimal(credit),
            )
            world.org_ids[name] = org.org_id
        acme = accounts.system_actor(world.org_ids["Acme"], "Acme", OrgKind.RESELLER)
        tx = Tx(conn=conn, actor=acme, catalog=portal.catalog, now=clock.now)
        for login, role in (("acme-admin", Role.ADMIN), ("acme-op", Role.OPERATOR), ("acme-viewer", Role.VIEWER)):
            await accounts.add_user(tx, portal.hasher, login=login, password=PASSWORD, role=role)
    return world


@asynccontextmanager
async def running_portal(database_url: str, *, world: bool = True, **overrides: Any) -> AsyncIterator[PortalHarness]:
    clock = FakeClock()
    app = create_app(test_settings(database_url, clock, **overrides))
    async with app.router.lifespan_context(app):
        portal: Portal = app.state.portal
        harness = PortalHarness(portal, app, clock, await build_world(portal, clock) if world else World())
        try:
            yield harness
        finally:
            await harness.aclose()


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
