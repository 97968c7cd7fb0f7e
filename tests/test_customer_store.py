"""The customers list's `/` filter through its trigram index (migration 0025): it finds
exactly what a scan of the customers would, whatever writes them (the services or a raw
statement), on both stores, and only the organization's own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from seattui.domain.customers import CustomerFilter, CustomerSort
from seattui.domain.roles import OrgKind
from seattui.portal.catalog import load_catalog
from seattui.portal.context import Tx
from seattui.portal.paging import containing
from seattui.portal.services import accounts
from seattui.portal.services import customers as customers_service
from seattui.portal.store import Store
from seattui.portal.store.tables import customers, organizations
from seattui.portal.trigrams import few_candidates

NOW = datetime(2026, 3, 2, tzinfo=UTC)
PEOPLE = [
    ("it@contoso.example", "Noah Petrov", "Contoso HQ"),
    ("IT@CONTOSO-EAST.example", "Ana O'Brien", "Contoso East"),
    ("ops@fabrikam.example", "Zoë Müller", "Fabrikam 50% Ltd"),
    ("a_b@tailspin.example", "José Ñúñez", "Tailspin_Toys"),
    ("x@y.example", 'Quote "Q" Person', "Büro Nord"),
    ("lee@lamna.example", "Lee", "Lamna"),
]
FILTERS = ["contoso", "CONTOSO", "Contoso east", "toso hq", "50%", "50% ltd", "_toys", "a_b", "'brien", '"q"',
           "büro", "Müller", "zoë", "ñúñez", "lee", "le", "e", "it@", "example", "nothing-like-this", "hq east",
           "so h", "tailspin ops"]


def _tx(conn: Any, org: int) -> Tx:
    return Tx(conn=conn, actor=accounts.system_actor(org, "P", OrgKind.RESELLER), catalog=load_catalog(None), now=NOW)


async def _listed(store: Store, org: int, text: str) -> list[int]:
    """Every customer the list shows for the filter, page by page (its total checked)."""
    found: list[int] = []
    cursor = None
    async with store.read() as conn:
        while True:
            page = await customers_service.list_page(_tx(conn, org), CustomerFilter(text=text), sort=CustomerSort.EMAIL,
                                                     descending=False, cursor=cursor, limit=4)
            if cursor is None:
                total = page.total
            found += [customer.id for customer in page.items]
            if not (cursor := page.next_cursor):
                break
    assert total == len(found), text
    return sorted(found)


async def _scanned(store: Store, org: int, text: str) -> list[int]:
    """What the filter must find: each word in the email, name or company, by the store's own
    LIKE, without any index."""
    async with store.read() as conn:
        words = [containing(conn, customers_service.SEARCHED, word) for word in text.split()]
        return sorted((await conn.execute(select(customers.c.id).where(customers.c.org_id == org, *words))).scalars())


async def test_the_filter_finds_through_its_index_what_a_scan_finds(database_url: str) -> None:
    store = Store(database_url)
    try:
        async with store.write() as conn:
            orgs = [(await conn.execute(insert(organizations).values(name=name, kind="reseller", created_at=NOW)
                                        .returning(organizations.c.id))).scalar_one() for name in ("P", "Other")]
            for org in orgs:  # the same people in another organization: never shown to the first
                await conn.execute(insert(customers), [
                    {"org_id": org, "email": email.lower(), "name": name, "company": company, "created_at": NOW,
                     "updated_at": NOW} for email, name, company in PEOPLE])
        org = orgs[0]

        async def agrees() -> None:
            for text in FILTERS:
                assert await _listed(store, org, text) == await _scanned(store, org, text), text

        await agrees()
        assert await _listed(store, org, "contoso") != []
        if store.is_sqlite:  # the words of three letters or more are found through the index
            async with store.read() as conn:
                assert await few_candidates(conn, "customer_trigrams", "contoso", "hq") is not None
                assert await few_candidates(conn, "customer_trigrams", "le") is None
        async with store.write() as conn:  # raw statements, past the services: the index follows
            await conn.execute(update(customers).where(customers.c.org_id == org, customers.c.email == "lee@lamna.example")
                               .values(name="Wingtip Renamed", company="Woodgrove"))
            await conn.execute(delete(customers).where(customers.c.org_id == org, customers.c.name == "Noah Petrov"))
            await conn.execute(insert(customers).values(org_id=org, email="new@relecloud.example", name="Hana Contoso",
                                                        company="", created_at=NOW, updated_at=NOW))
        await agrees()
        assert len(await _listed(store, org, "wingtip woodgrove")) == 1
        assert await _listed(store, org, "lamna") == await _listed(store, org, "woodgrove")  # by the email still
        assert await _listed(store, org, "lee") == await _listed(store, org, "woodgrove")  # the name "Lee" gone
        assert len(await _listed(store, org, "contoso")) == 2  # Ana's company, Hana's name; Noah gone
    finally:
        await store.dispose()
