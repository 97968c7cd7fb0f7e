"""Purchases at the same moment: with credits for exactly one, N simultaneous purchases give
one license and N-1 refusals, and the balance never goes below zero. On SQLite and on
PostgreSQL, through one portal and through two portal instances sharing the database (as
two `seattui serve` would). Device activations at the same moment take each license once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from seattui.client import PortalClient
from seattui.domain.accounts import NewOrganization
from seattui.domain.errors import ActivatedElsewhere, InsufficientCredits, TrialExists, UnknownKey
from seattui.domain.licensing import ActivationRequest, LicenseOrder, Term
from seattui.portal.app import create_app
from seattui.portal.services import accounts, audit, credits
from seattui.portal.store.tables import audit_entries, licenses

from harness import PASSWORD, PortalHarness
from harness import test_settings as settings_for  # not collected as a test

N = 8
PRICE = Decimal("490.00")  # RemoteDesk Standard, 10 users


@asynccontextmanager
async def second_instance(harness: PortalHarness) -> AsyncIterator[httpx.ASGITransport]:
    """Another portal on the same database, with its own engine and connection pool."""
    app = create_app(settings_for(harness.portal.settings.database_url, harness.clock))
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app, raise_app_exceptions=False)


async def org_with_credits(harness: PortalHarness, amount: Decimal) -> int:
    async with harness.portal.store.write() as conn:
        actor = await accounts.create_organization(
            harness.portal, conn,
            NewOrganization(organization_name="Initech", owner_login="initech-owner", password=PASSWORD), amount,
        )
    return actor.org_id


@asynccontextmanager
async def buyers_on(harness: PortalHarness, instances: int) -> AsyncIterator[list[PortalClient]]:
    """N clients of the organization's owner, split between the portals."""
    token = (await harness.login("initech-owner")).token
    if instances == 1:
        yield [harness.client(token) for _ in range(N)]
        return
    async with second_instance(harness) as other:
        second = [PortalClient(transport=other, token=token) for _ in range(N // 2)]
        try:
            yield [harness.client(token) for _ in range(N - N // 2)] + second
        finally:
            for client in second:
                await client.aclose()


@pytest.mark.parametrize("instances", [1, 2], ids=["one-portal", "two-portals"])
async def test_credits_for_one_purchase_buy_exactly_one(harness: PortalHarness, instances: int) -> None:
    org_id = await org_with_credits(harness, PRICE)
    key = (await (await harness.login("initech-owner")).create_key("race")).key
    order = LicenseOrder(key=key, product_id="remotedesk", edition_id="standard", term=Term.PERMANENT, quantity=10)
    async with buyers_on(harness, instances) as buyers:
        results = await asyncio.gather(*(buyer.create_license(order) for buyer in buyers), return_exceptions=True)
    bought = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, InsufficientCredits)]
    assert (len(bought), len(refused)) == (1, N - 1), results
    async with harness.portal.store.read() as conn:
        assert await credits.balance_of(conn, org_id) == 0
        assert await credits.ledger_sum(conn, org_id) == 0
        assert await conn.scalar(select(func.count()).where(licenses.c.org_id == org_id)) == 1
        audited = select(func.count()).where(audit_entries.c.org_id == org_id, audit_entries.c.action == "license.create")
        assert await conn.scalar(audited) == 1


async def test_simultaneous_trials_on_one_key_give_one_live_trial(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    key = (await owner.create_key("race")).key
    order = LicenseOrder(key=key, product_id="remotedesk", edition_id="standard", term=Term.TRIAL, trial_days=14,
                         quantity=5)
    results = await asyncio.gather(*(harness.client(owner.token).create_license(order) for _ in range(N)),
                                   return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert sum(isinstance(r, TrialExists) for r in results) == N - 1, results


@pytest.mark.parametrize("instances", [1, 2], ids=["one-portal", "two-portals"])
async def test_simultaneous_activations_take_each_license_once(harness: PortalHarness, instances: int) -> None:
    """N machines at once on a key with three licenses (and strangers' calls among them, which
    are refused): three machines hold one license each, the others are refused, the machine
    asking twice holds one, and the audit log tells each activation once in an unbroken chain."""
    owner = await harness.login("acme-owner")
    key = (await owner.create_key("race")).key
    order = LicenseOrder(key=key, product_id="remotedesk", edition_id="standard", term=Term.PERMANENT, quantity=1)
    for _ in range(3):
        await owner.create_license(order)

    def machine(n: int) -> ActivationRequest:
        return ActivationRequest(key=key, product_id="remotedesk", fingerprint=f"machine-{n}-fp", hostname=f"pc-{n}")

    calls = [machine(n) for n in range(N)] + [machine(0)]  # the first machine asks again
    calls += [ActivationRequest(key="AAAA-BBBB-CCCC-DDDD", product_id="remotedesk", fingerprint="stranger-fp")]
    async with devices_on(harness, instances, len(calls)) as software:
        results = await asyncio.gather(*(client.activate(call) for client, call in zip(software, calls, strict=True)),
                                       return_exceptions=True)
    answered = [(call, result) for call, result in zip(calls, results, strict=True)
                if not isinstance(result, BaseException)]
    activated = {call.fingerprint for call, result in answered if result.activated_here}
    assert len(activated) == 3 and len(answered) == 3 + ("machine-0-fp" in activated), results
    assert sum(isinstance(result, ActivatedElsewhere) for result in results) == N + 1 - len(answered), results
    assert isinstance(results[-1], UnknownKey)
    async with harness.portal.store.read() as conn:
        held = (await conn.execute(select(licenses.c.device_fingerprint).where(
            licenses.c.org_id == harness.world.org_ids["Acme"], licenses.c.device_fingerprint.is_not(None)))).scalars()
        assert sorted(held) == sorted(activated)
        audited = select(func.count()).where(audit_entries.c.action == "license.activate")
        assert await conn.scalar(audited) == 3
        assert (await audit.verify_chains(conn)).broken is None


@asynccontextmanager
async def devices_on(harness: PortalHarness, instances: int, count: int) -> AsyncIterator[list[PortalClient]]:
    """`count` clients of the licensed software (no session), split between the portals."""
    if instances == 1:
        yield [harness.client() for _ in range(count)]
        return
    async with second_instance(harness) as other:
        second = [PortalClient(transport=other) for _ in range(count // 2)]
        try:
            yield [harness.client() for _ in range(count - count // 2)] + second
        finally:
            for client in second:
                await client.aclose()
