"""Demo data: a reseller with credits, people, keys, licenses of every product and
subscriptions, with a history (expired support, ended trials, devices) so every screen has
something true to show. Deterministic for a given clock, so tests can rely on it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from seattui.domain.accounts import NewOrganization
from seattui.domain.catalog import SeatPlan
from seattui.domain.customers import CustomerDetails
from seattui.domain.roles import Role
from seattui.domain.keys import RANDOM_ALPHABET, format_key
from seattui.domain.licensing import LicenseOrder, NewActivationKey, SubscriptionOrder, Term
from seattui.domain.people import EmployeeFields
from seattui.domain.seating import SeatRequest
from seattui.portal.context import Tx
from seattui.portal.runtime import Portal
from seattui.portal.queries.customers import customer_for
from seattui.portal.services import accounts, customers, employees, keys, licenses, seats, subscriptions
from seattui.portal.store.tables import employees as employee_table
from seattui.portal.store.tables import organizations

DEMO_ORGANIZATION = "Northwind IT Services"
DEMO_LOGIN = "admin"
DEMO_PASSWORD = "seattui-demo"
DEMO_CREDITS = Decimal("20000.00")

_CUSTOMERS = [
    "Contoso HQ", "Fabrikam Lab", "Adventure Works", "Tailspin Toys", "Wide World Importers",
    "Litware Inc", "Proseware", "Lucerne Publishing", "Margie's Travel", "Trey Research",
    "Fourth Coffee", "Blue Yonder Airlines", "Coho Winery", "Graphic Design Institute",
    "Humongous Insurance", "Northwind Traders", "Southridge Video", "Woodgrove Bank",
    "Alpine Ski House", "City Power & Light", "Consolidated Messenger", "VanArsdel Ltd",
    "Relecloud", "Munson's Pickles", "Best For You Organics", "Wingtip Toys",
    "School of Fine Art", "Bellows College", "Datum Corporation", "Lamna Healthcare",
]
_FIRST = [
    "Ada", "Alan", "Anika", "Ben", "Carla", "Chen", "Dana", "Diego", "Elena", "Emeka", "Farah",
    "Felix", "Grace", "Hana", "Ivan", "Jade", "Jonas", "Kai", "Lena", "Luis", "Maya", "Mikko",
    "Nadia", "Noah", "Omar", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Sofia", "Tariq", "Uma",
    "Victor", "Wen", "Yara", "Zoe",
]
_LAST = [
    "Abara", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
    "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Rossi", "Silva",
    "Tanaka", "Usman", "Varga", "Weber", "Xu", "Yilmaz", "Zhang",
]
_DEPARTMENTS = {
    "Engineering": 90, "Support": 60, "Sales": 50, "Marketing": 30, "Finance": 20,
    "Operations": 35, "People": 15,
}


@dataclass(frozen=True)
class DemoCredentials:
    organization: str
    login: str
    password: str


def _key(rng: random.Random) -> str:
    return format_key("".join(rng.choice(RANDOM_ALPHABET) for _ in range(16)))


async def seed_demo(portal: Portal) -> DemoCredentials | None:
    """Fill a new portal with demo data; a portal that has data is left alone (None)."""
    credentials = DemoCredentials(DEMO_ORGANIZATION, DEMO_LOGIN, DEMO_PASSWORD)
    now = portal.now()
    rng = random.Random(2026)
    async with portal.store.write() as conn:
        if not await accounts.needs_setup(conn):
            return None
        org = await accounts.create_organization(
            portal,
            conn,
            NewOrganization(
                organization_name=DEMO_ORGANIZATION, owner_login=DEMO_LOGIN, owner_name="Demo Admin",
                password=DEMO_PASSWORD,
            ),
        )
        setup = Tx(conn=conn, actor=org, catalog=portal.catalog, now=now - timedelta(days=720))
        await accounts.opening_grant(setup, DEMO_CREDITS, "Opening credits")
        for login, role in (("operator", Role.OPERATOR), ("viewer", Role.VIEWER)):
            await accounts.add_user(setup, portal.hasher, login=login, password=DEMO_PASSWORD, role=role)
        await _people(setup, rng)
        key_texts = [_key(rng) for _ in _CUSTOMERS]
        for customer, key in zip(_CUSTOMERS, key_texts, strict=True):
            await keys.create(setup, NewActivationKey(key=key, name=customer))
        # Two years of made-up history: its customers were not mailed their keys then, and are
        # not now (a demo with SMTP set up would try it@….example by the dozen).
        await conn.execute(update(organizations).where(organizations.c.id == org.org_id).values(customer_mail=False))
        for when, order in _history(rng, key_texts, now):
            tx = Tx(conn=conn, actor=org, catalog=portal.catalog, now=when)
            if isinstance(order, Decimal):
                await accounts.opening_grant(tx, order, "Credit top-up")
                continue
            if isinstance(order, SubscriptionOrder):
                await subscriptions.create(tx, order)
                continue
            created = await licenses.create(tx, order)
            if order.term is not Term.TRIAL and rng.random() < 0.45:
                host = f"{order.customer_email.split('@')[0] if order.customer_email else 'host'}-{rng.randint(1, 99):02d}"
                await licenses.bind_device(tx, created.id, f"fp-{rng.getrandbits(64):016x}", host)
        await _name_customers(setup, rng)
        await conn.execute(update(organizations).where(organizations.c.id == org.org_id).values(customer_mail=True))
        await _seats(Tx(conn=conn, actor=org, catalog=portal.catalog, now=now - timedelta(days=3)))
    return credentials


async def _people(tx: Tx, rng: random.Random) -> None:
    people: list[EmployeeFields] = []
    seen: set[str] = set()
    for department, count in _DEPARTMENTS.items():
        for _ in range(count):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first}.{last}".lower()
            suffix = 2
            while email in seen:
                email = f"{first}.{last}{suffix}".lower()
                suffix += 1
            seen.add(email)
            people.append(EmployeeFields(name=f"{first} {last}", email=f"{email}@northwind.example", department=department))
    await employees.add_many(tx, people)


def _customer_email(i: int) -> str:
    domain = "".join(char for char in _CUSTOMERS[i].lower() if char.isalnum())
    return f"it@{domain}.example"


async def _name_customers(tx: Tx, rng: random.Random) -> None:
    """The customers the history made, with a company and a contact, as a reseller keeps them."""
    for i, company in enumerate(_CUSTOMERS):
        customer_id = await customer_for(tx, _customer_email(i))
        assert customer_id is not None
        contact = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        await customers.edit(tx, customer_id, CustomerDetails(name=contact, company=company))


def _history(rng: random.Random, key_texts: list[str], now: datetime) -> list[tuple[datetime, LicenseOrder | SubscriptionOrder | Decimal]]:
    """Purchases over the last two years, oldest first, so the ledger reads like a real one."""
    events: list[tuple[datetime, LicenseOrder | SubscriptionOrder | Decimal]] = []

    email = _customer_email
    perpetual = [
        ("remotedesk", ["standard", "professional", "enterprise"], (), [5, 10, 25, 50]),
        ("mailguard", ["basic", "advanced"], ("archiving", "encryption"), [25, 50, 100, 250]),
        ("vaultbackup", ["server", "datacenter"], (), [1, 2, 4, 8]),
        ("sitewatch", ["standard"], (), [3, 5, 10]),
    ]
    for i, key in enumerate(key_texts):
        product_id, editions, addons, sizes = perpetual[i % len(perpetual)]
        # Spread purchase dates so support has ended for some, ends soon for others, runs for most.
        age_days = rng.choice([400, 500, 600, 352, 345, 340, 200, 120, 60, 30, 10])
        chosen_addons = tuple(a for a in addons if rng.random() < 0.5)
        events.append(
            (
                now - timedelta(days=age_days, hours=rng.randint(1, 20)),
                LicenseOrder(
                    key=key, product_id=product_id, edition_id=rng.choice(editions), addons=chosen_addons,
                    term=Term.PERMANENT, quantity=rng.choice(sizes), customer_email=email(i),
                    comment=rng.choice(["", "", "Renewal due in spring", "Via partner referral", "PO 4471"]),
                ),
            )
        )
        if i % 3 == 0:
            # Trials: some ended, some ending within the week, some running.
            trial_days = rng.choice([7, 14, 30])
            started = rng.choice([trial_days + 5, trial_days - 3, trial_days - 1, 2])
            trial_product = perpetual[(i + 1) % len(perpetual)]
            events.append(
                (
                    now - timedelta(days=started, hours=rng.randint(1, 20)),
                    LicenseOrder(
                        key=key, product_id=trial_product[0], edition_id=trial_product[1][-1], term=Term.TRIAL,
                        trial_days=trial_days, quantity=rng.choice(trial_product[3]), customer_email=email(i),
                        comment="Evaluation",
                    ),
                )
            )
        if i % 5 == 1:
            events.append(
                (
                    now - timedelta(days=rng.randint(3, 25), hours=rng.randint(1, 20)),
                    SubscriptionOrder(key=key, product_id="connect", channels=rng.choice([2, 3, 5, 10]),
                                      customer_email=email(i)),
                )
            )
    events.append(
        (now - timedelta(days=150), LicenseOrder(key=key_texts[0], product_id="workspace", term=Term.ANNUAL,
                                                 quantity=120, customer_email=email(0), comment="Company-wide seats"))
    )
    events.append(
        (now - timedelta(days=20), LicenseOrder(key=key_texts[1], product_id="workspace", term=Term.FLEXIBLE,
                                                quantity=60, customer_email=email(1)))
    )
    for days_ago, amount in ((540, "15000.00"), (365, "15000.00"), (180, "15000.00"), (45, "8000.00")):
        events.append((now - timedelta(days=days_ago), Decimal(amount)))
    events.sort(key=lambda event: event[0])
    return events


# -- employees and seats --------------------------------------------------------------

SEATED_DEPARTMENTS = ("Engineering", "Support", "Sales")
DEPARTED_WITH_SEATS = 6


async def _seats(tx: Tx) -> None:
    """Workspace seats for Engineering, Support and Sales, as far as the 180 bought go, and a
    few of those people departed since, so their seats wait to be reassigned."""
    rows = (await tx.conn.execute(
        select(employee_table.c.id, employee_table.c.department)
        .where(employee_table.c.org_id == tx.org_id).order_by(employee_table.c.id)
    )).all()
    seated = [row.id for row in rows if row.department in SEATED_DEPARTMENTS]
    free = sum(pool.free for pool in await seats.pools(tx) if pool.product_id == "workspace" and pool.live)
    seated = seated[:free]
    await seats.assign(tx, SeatRequest(employee_ids=seated, product_id="workspace"))
    await employees.depart(tx, seated[5 :: len(seated) // DEPARTED_WITH_SEATS][:DEPARTED_WITH_SEATS])


async def add_workforce(tx: Tx, *, people: int, seats_bought: int, domain: str = "staff.example",
                        product_id: str = "workspace") -> list[int]:
    """Many employees (for benchmarks and load tests), seats of a seat product bought on annual
    licenses (paid with credits granted for it) and given to the first `seats_bought` of them."""
    names = [f"{_FIRST[i % len(_FIRST)]} {_LAST[(i // len(_FIRST)) % len(_LAST)]} {i:06d}" for i in range(people)]
    departments = list(_DEPARTMENTS)
    ids = await employees.add_many(tx, [
        EmployeeFields(name=name, email=f"person{i:06d}@{domain}", department=departments[i % len(departments)])
        for i, name in enumerate(names)
    ])
    offer = tx.catalog.product(product_id).seat_plan(SeatPlan.ANNUAL)
    remaining = seats_bought
    while remaining > 0:
        quantity = min(remaining, offer.max_seats)
        await accounts.opening_grant(tx, offer.price_per_seat * quantity, "Credits for workforce seats")
        key = await keys.create(tx, NewActivationKey(name=f"Workforce {product_id}"))
        await licenses.create(tx, LicenseOrder(key=key.key, product_id=product_id, term=Term.ANNUAL, quantity=quantity))
        remaining -= quantity
    if seats_bought:
        await seats.assign(tx, SeatRequest(employee_ids=ids[:seats_bought], product_id=product_id))
    return ids
