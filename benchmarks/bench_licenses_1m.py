"""The portal at 1,000,000 licenses of one organization, on SQLite and (when
SEATTUI_BENCH_POSTGRES_URL or SEATTUI_TEST_POSTGRES_URL names a server) on PostgreSQL. Targets
(issue 19): the dashboard's figures within 200 ms, the licenses screen's first rows (with the
total) within 300 ms, a filter keystroke within 150 ms, on both stores.

Method. The database is written in bulk by license_data.py (SQLite: batched inserts; PostgreSQL:
COPY). Writing 1,000,000 licenses takes minutes, so with SEATTUI_BENCH_CACHE=DIR the SQLite file
is kept in DIR and the PostgreSQL database (seattui_bench_licenses_N) is kept on the server, and
later runs reuse them (delete them to start afresh). Each figure is one request through the
portal's client in this process, over the embedded ASGI transport, as the app makes it (the
portal on its own thread): the median of REPEATS.

- dashboard_ms: GET /dashboard. Baseline: the same license figures counted from the licenses
  in one read (what the dashboard did before license_tally), in the same run.
- first_rows_ms: the first page of the licenses screen (200 rows by key, with the total).
- filter_keystroke_ms: the first page for each prefix of TYPED, as typed into `/`: the median
  over the keystrokes (and the slowest, filter_keystroke_max_ms). Baseline: counting the
  text's matches by scanning every license's search text (what each keystroke did before).
- PostgreSQL, a fresh bulk load (FRESH_COUNT licenses, seeded then asked at once, statistics
  from the loader's ANALYZE only): fresh_first_rows_ms against the same after another ANALYZE
  (baseline), and whether its plan walks the key index and stops after a page
  (fresh_plan_walks_key_index, 1) rather than joining every license first.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from harness import figure
from license_data import LOGIN, NOW, PASSWORD, seed

COUNT, SMOKE_COUNT = 1_000_000, 2_000
FRESH_COUNT, SMOKE_FRESH_COUNT = 100_000, 2_000
REPEATS, SMOKE_REPEATS = 5, 1
TYPED = "wingt"
PAGE = 200


def _postgres_admin() -> str | None:
    return os.environ.get("SEATTUI_BENCH_POSTGRES_URL") or os.environ.get("SEATTUI_TEST_POSTGRES_URL")


def _on(admin: str, name: str) -> str:
    return admin.rsplit("/", 1)[0] + "/" + name


async def _postgres_database(admin: str, name: str, count: int, *, keep: bool, analyze: bool = True) -> str:
    """A database of `count` licenses on the server: the kept one when it is whole, else new."""
    import asyncpg

    url = _on(admin, name)
    connection = await asyncpg.connect(admin)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and keep:
            try:
                held = await asyncpg.connect(url)
                try:
                    if await held.fetchval("SELECT sum(licenses) FROM license_counts") == count:
                        return url
                finally:
                    await held.close()
            except asyncpg.PostgresError:
                pass
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    await seed(url, count, analyze=analyze)
    return url


async def _drop(admin: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _median_ms(call: Callable[[], Awaitable[Any]], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def _recounted(database: str) -> tuple[float, float]:
    """What the dashboard's license figures and a keystroke's count cost counted from the
    licenses (the way before): one read each, in ms."""
    from sqlalchemy import and_, case, func, select

    from seattui.domain.licensing import Term
    from seattui.portal.store import Store, database_url
    from seattui.portal.store.tables import license_search, licenses

    store = Store(database_url(database))
    column = licenses.c
    today = NOW.date()

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    trial, permanent = column.term == Term.TRIAL.value, column.term == Term.PERMANENT.value
    try:
        async with store.read() as conn:
            start = time.perf_counter()
            await conn.execute(select(column.product_id, count(trial), count(permanent),
                                      count(column.device_fingerprint.is_not(None))).group_by(column.product_id))
            await conn.execute(select(func.count(), count(and_(trial, column.trial_ends_on < today)),
                                      count(and_(permanent, column.support_ends_on < today))))
            dashboard = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            await conn.scalar(select(func.count()).select_from(license_search)
                              .where(license_search.c.text.like(f"%{TYPED[:3]}%")))
            keystroke = (time.perf_counter() - start) * 1000
    finally:
        await store.dispose()
    return dashboard, keystroke


async def _through_the_portal(database: str, count: int, repeats: int) -> dict[str, Any]:
    from seattui.domain.licensing import LicenseFilter, LicenseSort
    from seattui.wiring import EmbeddedConnector

    connector = EmbeddedConnector(database, argon2_time_cost=1, argon2_memory_kib=64, clock=lambda: NOW,
                                  billing_check_every=None)
    client = await connector.open(None)
    token = (await client.login(LOGIN, PASSWORD)).token
    await client.aclose()
    client = await connector.open(token)
    try:
        figures = await client.dashboard()
        assert figures.licenses == count, figures.licenses
        first = await client.licenses(LicenseFilter(), sort=LicenseSort.KEY, limit=PAGE)
        assert first.total == count and len(first.items) == min(PAGE, count)
        results: dict[str, Any] = {
            "dashboard": await _median_ms(client.dashboard, repeats),
            "first_rows": await _median_ms(lambda: client.licenses(LicenseFilter(), sort=LicenseSort.KEY,
                                                                   limit=PAGE), repeats),
        }
        keystrokes = []
        for index in range(len(TYPED)):
            typed = TYPED[: index + 1]
            keystrokes.append(await _median_ms(lambda typed=typed: client.licenses(  # type: ignore[misc]
                LicenseFilter(q=typed), sort=LicenseSort.KEY, limit=PAGE), repeats))
        results["filter"] = keystrokes
    finally:
        await client.aclose()
        await connector.close()
    return results


async def _fresh_postgres(admin: str, count: int, repeats: int) -> dict[str, float]:
    """A bulk load asked for its first page at once, against the same after another ANALYZE."""
    import asyncpg

    from seattui.wiring import EmbeddedConnector

    name = f"seattui_bench_fresh_{os.getpid()}"
    url = await _postgres_database(admin, name, count, keep=False)
    try:
        raw = await asyncpg.connect(url)
        try:
            org = await raw.fetchval("SELECT org_id FROM license_counts")
            query = ("SELECT licenses.*, activation_keys.name FROM licenses JOIN activation_keys "
                     "ON activation_keys.id = licenses.key_id WHERE licenses.org_id = $1 "
                     "ORDER BY licenses.key, licenses.id LIMIT 201")
            plan = "\n".join(row[0] for row in await raw.fetch(f"EXPLAIN {query}", org))
        finally:
            await raw.close()
        # The good plan walks the (org_id, key, id) index and stops after a page; the bad one
        # (305 ms against 1.5 ms at 100,000) joined every license before sorting.
        results = {"walks_key_index": float("ix_licenses_org_id_key" in plan)}
        for label in ("fresh", "analyzed"):
            if label == "analyzed":
                raw = await asyncpg.connect(url)
                await raw.execute("ANALYZE")
                await raw.close()
            connector = EmbeddedConnector(url, argon2_time_cost=1, argon2_memory_kib=64, clock=lambda: NOW,
                                          billing_check_every=None)
            client = await connector.open(None)
            token = (await client.login(LOGIN, PASSWORD)).token
            await client.aclose()
            client = await connector.open(token)
            from seattui.domain.licensing import LicenseFilter, LicenseSort

            try:
                results[label] = await _median_ms(lambda client=client: client.licenses(  # type: ignore[misc]
                    LicenseFilter(), sort=LicenseSort.KEY, limit=PAGE), repeats)
            finally:
                await client.aclose()
                await connector.close()
        return results
    finally:
        await _drop(admin, name)


def _figures(store: str, ours: dict[str, Any], recount: tuple[float, float]) -> Iterator[dict[str, Any]]:
    yield figure(f"{store}_dashboard_ms", ours["dashboard"], "ms", baseline=recount[0], target=200)
    yield figure(f"{store}_first_rows_ms", ours["first_rows"], "ms", target=300)
    yield figure(f"{store}_filter_keystroke_ms", statistics.median(ours["filter"]), "ms", baseline=recount[1],
                 target=150)
    yield figure(f"{store}_filter_keystroke_max_ms", max(ours["filter"]), "ms")


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    count = SMOKE_COUNT if smoke else COUNT
    repeats = SMOKE_REPEATS if smoke else REPEATS
    cache = os.environ.get("SEATTUI_BENCH_CACHE") if not smoke else None
    with tempfile.TemporaryDirectory(prefix="seattui-bench-") as folder:
        root = Path(folder)
        saved = {name: os.environ.get(name) for name in ("SEATTUI_CONFIG", "SEATTUI_DATA_DIR")}
        os.environ["SEATTUI_CONFIG"] = str(root / "config.toml")
        os.environ["SEATTUI_DATA_DIR"] = str(root / "data")
        try:
            database = Path(cache) / f"licenses-{count}.db" if cache else root / "licenses.db"
            if not database.exists():
                start = time.perf_counter()
                partial = database.with_suffix(".partial")
                asyncio.run(seed(partial, count))
                shutil.move(partial, database)
                yield figure("sqlite_seed_s", time.perf_counter() - start, "s")
            ours = asyncio.run(_through_the_portal(str(database), count, repeats))
            yield from _figures("sqlite", ours, asyncio.run(_recounted(str(database))))

            admin = _postgres_admin()
            if admin:
                name = f"seattui_bench_licenses_{count}"
                start = time.perf_counter()
                url = asyncio.run(_postgres_database(admin, name, count, keep=bool(cache)))
                yield figure("postgresql_ready_s", time.perf_counter() - start, "s")
                try:
                    ours = asyncio.run(_through_the_portal(url, count, repeats))
                    yield from _figures("postgresql", ours, asyncio.run(_recounted(url)))
                finally:
                    if not cache:
                        asyncio.run(_drop(admin, name))
                fresh = asyncio.run(_fresh_postgres(admin, SMOKE_FRESH_COUNT if smoke else FRESH_COUNT, repeats))
                yield figure("postgresql_fresh_first_rows_ms", fresh["fresh"], "ms", baseline=fresh["analyzed"])
                yield figure("postgresql_fresh_plan_walks_key_index", fresh["walks_key_index"], "bool", target=1)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
