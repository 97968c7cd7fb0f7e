"""An organization with many licenses, written straight into a new portal database in bulk
(the services would take minutes for 100,000), with the mix a reseller has: every product,
trials that ended or run, permanent licenses with support ended or running, devices."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from seattui.domain.accounts import NewOrganization
from seattui.domain.keys import RANDOM_ALPHABET, format_key
from seattui.domain.money import to_hundredths
from seattui.portal.runtime import Portal
from seattui.portal.services import accounts
from seattui.portal.queries.licenses import search_text
from seattui.portal.store.tables import activation_keys, license_counts, license_search, licenses
from seattui.wiring import portal_settings

LOGIN = "admin"
PASSWORD = "benchmark-password"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_PRODUCTS = [
    ("remotedesk", ["standard", "professional", "enterprise"], 49),
    ("mailguard", ["basic", "advanced"], 12),
    ("vaultbackup", ["server", "datacenter"], 120),
    ("sitewatch", ["standard"], 35),
]
_CUSTOMERS = ["contoso", "fabrikam", "northwind", "tailspin", "litware", "proseware", "woodgrove", "relecloud",
              "adatum", "lamna", "fourthcoffee", "coho", "wingtip", "alpine", "humongous", "margie"]
_COMMENTS = ["", "", "", "PO 4471", "Renewal due in spring", "Via partner referral", "Evaluation", "Branch office"]


def _rows(org_id: int, key_ids: list[tuple[int, str]], count: int, rng: random.Random) -> list[dict[str, object]]:
    today = NOW.date()
    rows = []
    for i in range(count):
        key_id, key = key_ids[i // 2]
        product, editions, price = _PRODUCTS[i % len(_PRODUCTS)]
        customer = rng.choice(_CUSTOMERS)
        trial = rng.random() < 0.15
        quantity = rng.choice([1, 2, 5, 10, 25, 50])
        created = NOW - timedelta(days=rng.randint(1, 900), minutes=i % 1440)
        row: dict[str, object] = {
            "org_id": org_id, "key_id": key_id, "key": key, "product_id": product,
            "edition_id": rng.choice(editions), "addons": "", "quantity": quantity,
            "customer_email": f"it{i % 97}@{customer}.example", "comment": rng.choice(_COMMENTS),
            "created_at": created, "updated_at": created, "trial_ends_on": None, "support_ends_on": None,
            "device_fingerprint": None, "device_hostname": None, "activated_at": None, "paid": 0,
        }
        if trial:
            row |= {"term": "trial", "trial_ends_on": today + timedelta(days=rng.randint(-20, 30))}
        else:
            row |= {"term": "permanent", "support_ends_on": (created + timedelta(days=365)).date(),
                    "paid": to_hundredths(Decimal(price * quantity))}
        if rng.random() < 0.4:
            row |= {"device_fingerprint": f"fp-{i:08x}", "device_hostname": f"{customer}-{i % 500:03d}",
                    "activated_at": created}
        rows.append(row)
    return rows


async def _copy(conn: Any, table: Any, rows: list[dict[str, object]]) -> None:
    """Rows into a PostgreSQL table by COPY, inside the SQLAlchemy connection's transaction."""
    columns = [column.name for column in table.columns if column.name in rows[0]]
    raw = (await conn.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(table.name, columns=columns,
                                    records=[tuple(row.get(name) for name in columns) for row in rows])


async def seed(database: str | Path, count: int = 100_000, *, analyze: bool = True) -> None:
    """A portal database with one organization (login/password above) and `count` licenses.
    `analyze=False` leaves PostgreSQL without statistics of them, as a bulk load by hand would."""
    portal = Portal(portal_settings(database, clock=lambda: NOW, argon2_time_cost=1, argon2_memory_kib=64))
    await portal.start()
    rng = random.Random(100_000)
    try:
        async with portal.store.write() as conn:
            org = await accounts.create_organization(
                portal, conn, NewOrganization(organization_name="Scale Test Ltd", owner_login=LOGIN, password=PASSWORD),
                Decimal("1000000.00"),
            )
            keys = sorted({format_key("".join(rng.choice(RANDOM_ALPHABET) for _ in range(16)))
                           for _ in range(count // 2 + 100)})[: (count + 1) // 2]
            # Ids given, not returned: a new database's rows can be numbered up front, and
            # inserts without RETURNING go many rows to a statement.
            key_ids = [(number, key) for number, key in enumerate(keys, start=1)]
            key_rows: list[dict[str, object]] = [{"id": number, "org_id": org.org_id, "key": key, "name": "",
                                                  "created_at": NOW} for number, key in key_ids]
            if portal.store.is_sqlite:
                await conn.execute(insert(activation_keys), key_rows)
            else:
                await _copy(conn, activation_keys, key_rows)
            rows = _rows(org.org_id, key_ids, count, rng)
            for number, row in enumerate(rows, start=1):
                row["id"] = number
            searches = [{"org_id": org.org_id, "license_id": row["id"],
                         "text": search_text(str(row["key"]), row["customer_email"], str(row["comment"]))}  # type: ignore[arg-type]
                        for row in rows]
            if portal.store.is_sqlite:
                for start in range(0, count, 20_000):
                    await conn.execute(insert(licenses), rows[start:start + 20_000])
                    await conn.execute(insert(license_search), searches[start:start + 20_000])
            else:
                # COPY: an executemany of 1,000,000 rows through asyncpg took over 15 minutes.
                await _copy(conn, licenses, rows)
                await _copy(conn, license_search, searches)
            await conn.execute(insert(license_counts).values(org_id=org.org_id, licenses=count))
        if analyze:
            await portal.store.analyze()  # as after any bulk write: PostgreSQL plans with the new rows' statistics
    finally:
        await portal.close()


if __name__ == "__main__":
    import sys

    asyncio.run(seed(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000))
