"""Activation keys and purchases at scale, through the client and the API on an embedded-style
portal (in-process ASGI, SQLite): an organization with 100,000 keys, 20,000 of them holding a
license.

- keys_first_page_ms: the keys screen's first page (100 keys with their license and
  subscription counts, and the total), against the same page read with plain sqlite3 (the
  keys alone, no counts, no HTTP) in the same run.
- keys_filter_ms: one keystroke of the filter (part of a name: a scan of the organization's
  keys), against the same LIKE with plain sqlite3.
- purchase_ms: the wizard's review and confirm, a quote then a purchase (license, ledger entry,
  audit entry, idempotency record, one transaction).
- contention_purchases: 40 simultaneous purchases with credits for 10 exactly; the figure is
  how many succeeded (must be 10), and contention_s how long all 40 took.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness import figure

from seattui.domain.keys import format_key

KEYS = 100_000
LICENSED = 20_000
RUNS = 15
SMOKE = {"keys": 2_000, "licensed": 400, "runs": 2}
PASSWORD = "benchmark-password"
STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps a timestamp in SQLite


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    size = SMOKE if smoke else {"keys": KEYS, "licensed": LICENSED, "runs": RUNS}
    yield from asyncio.run(_run(**size))


async def _run(*, keys: int, licensed: int, runs: int) -> list[dict[str, Any]]:
    import httpx

    from seattui.client import PortalClient
    from seattui.domain.accounts import NewOrganization
    from seattui.domain.errors import InsufficientCredits
    from seattui.domain.licensing import LicenseOrder, Term
    from seattui.portal.app import create_app
    from seattui.portal.services import accounts
    from seattui.wiring import portal_settings

    with tempfile.TemporaryDirectory(prefix="seattui-bench-") as folder:
        database = Path(folder) / "portal.db"
        # No background billing run: it would write while the keys are seeded beside the portal.
        app = create_app(portal_settings(database, argon2_time_cost=1, argon2_memory_kib=64, billing_check_every=None))
        async with app.router.lifespan_context(app):
            portal = app.state.portal
            async with portal.store.write() as conn:
                org = await accounts.create_organization(
                    portal, conn,
                    NewOrganization(organization_name="Bench", owner_login="bench", password=PASSWORD),
                    Decimal("100000000"),
                )
            org_id = org.org_id
            _seed(database, org_id, keys, licensed)
            client = PortalClient(transport=httpx.ASGITransport(app=app))
            await client.login("bench", PASSWORD)

            first_page = await _median_ms(lambda: client.keys(limit=100), runs)
            filtered = await _median_ms(lambda: client.keys(query="customer 4242", limit=100), runs)
            raw = sqlite3.connect(database)
            raw_page = _raw_ms(raw, "SELECT * FROM activation_keys WHERE org_id = ? ORDER BY created_at DESC, id DESC "
                                    "LIMIT 101", (org_id,), runs)
            raw_filter = _raw_ms(raw, "SELECT * FROM activation_keys WHERE org_id = ? AND name LIKE ? "
                                      "ORDER BY created_at DESC, id DESC LIMIT 101", (org_id, "%customer 4242%"), runs)
            raw.close()

            key = (await client.create_key("purchases")).key
            order = LicenseOrder(key=key, product_id="remotedesk", edition_id="standard", term=Term.PERMANENT,
                                 quantity=1)

            async def review_and_confirm() -> None:
                await client.quote_license(order)
                await client.create_license(order)

            purchase = await _median_ms(review_and_confirm, runs)

            # Another organization with credits for exactly 10 of these purchases.
            async with portal.store.write() as conn:
                await accounts.create_organization(
                    portal, conn,
                    NewOrganization(organization_name="Contention", owner_login="contention", password=PASSWORD),
                    Decimal("490.00"),
                )
            owner = PortalClient(transport=httpx.ASGITransport(app=app))
            await owner.login("contention", PASSWORD)
            order = order.model_copy(update={"key": (await owner.create_key("race")).key})
            buyers = [PortalClient(transport=httpx.ASGITransport(app=app), token=owner.token) for _ in range(40)]
            start = time.perf_counter()
            results = await asyncio.gather(*(buyer.create_license(order) for buyer in buyers), return_exceptions=True)
            contention_s = time.perf_counter() - start
            bought = sum(not isinstance(result, BaseException) for result in results)
            refused = sum(isinstance(result, InsufficientCredits) for result in results)
            left = (await owner.balance()).balance
            for each in (*buyers, owner, client):
                await each.aclose()
    if refused != 40 - bought or left != Decimal("490.00") - bought * Decimal("49.00"):
        raise RuntimeError(f"contention broke the rules: {bought} bought, {refused} refused, {left} left")
    return [
        figure("keys_first_page_ms", first_page, "ms", baseline=raw_page),
        figure("keys_filter_ms", filtered, "ms", baseline=raw_filter),
        figure("purchase_ms", purchase, "ms"),
        figure("contention_purchases", bought, "purchases", target=10),
        figure("contention_s", contention_s, "s"),
    ]


def _seed(database: Path, org_id: int, keys: int, licensed: int) -> None:
    """`keys` keys (100,000) and `licensed` licenses (20,000) in two executemany calls, through
    plain sqlite3."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    with sqlite3.connect(database) as raw:
        raw.executemany(
            "INSERT INTO activation_keys (org_id, key, name, created_at) VALUES (?, ?, ?, ?)",
            [(org_id, format_key(f"BK{n:014d}"), f"Customer {n}",
              (created + timedelta(seconds=n)).strftime(STORED))
             for n in range(keys)],
        )
        first = raw.execute("SELECT min(id) FROM activation_keys WHERE org_id = ?", (org_id,)).fetchone()[0]
        now = created.strftime(STORED)
        step = keys // licensed
        raw.executemany(
            "INSERT INTO licenses (org_id, key_id, key, product_id, edition_id, term, quantity, paid, created_at, "
            "updated_at, addons, comment) VALUES (?, ?, ?, 'remotedesk', 'standard', 'permanent', 1, 4900, ?, ?, '', '')",
            [(org_id, first + n * step, format_key(f"BK{n * step:014d}"), now, now) for n in range(licensed)],
        )


async def _median_ms(call: Any, runs: int) -> float:
    await call()  # warm: imports, statement caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _raw_ms(raw: sqlite3.Connection, sql: str, parameters: tuple[Any, ...], runs: int) -> float:
    raw.execute(sql, parameters).fetchall()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        raw.execute(sql, parameters).fetchall()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
