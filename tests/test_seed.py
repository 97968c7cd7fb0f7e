"""The demo data promises: every product, trials and permanent licenses, devices, expired
support, subscriptions, a few hundred employees in departments, and an exact ledger."""

from __future__ import annotations

from sqlalchemy import func, select

from seattui.portal.seed import seed_demo
from seattui.portal.services import credits
from seattui.portal.store.tables import employees, licenses, organizations, outbox_mails, subscriptions

from harness import running_portal


async def test_the_demo_has_something_true_for_every_screen(database_url: str) -> None:
    async with running_portal(database_url, world=False) as harness:
        assert await seed_demo(harness.portal) is not None
        assert await seed_demo(harness.portal) is None  # a portal with data is left alone
        today = harness.clock.now.date()
        async with harness.portal.store.read() as conn:
            org_id = await conn.scalar(select(organizations.c.id).where(organizations.c.name == "Northwind IT Services"))
            products = set((await conn.execute(select(licenses.c.product_id).distinct())).scalars())
            terms = set((await conn.execute(select(licenses.c.term).distinct())).scalars())
            activated = await conn.scalar(select(func.count()).where(licenses.c.device_fingerprint.is_not(None)))
            expired = await conn.scalar(select(func.count()).where(licenses.c.support_ends_on < today))
            ended_trials = await conn.scalar(select(func.count()).where(licenses.c.trial_ends_on < today))
            subscribed = await conn.scalar(select(func.count()).select_from(subscriptions))
            departments = dict((await conn.execute(
                select(employees.c.department, func.count()).group_by(employees.c.department))).all())
            balance, total = await credits.balance_of(conn, org_id), await credits.ledger_sum(conn, org_id)
            mails = await conn.scalar(select(func.count()).select_from(outbox_mails))
            mailing = await conn.scalar(select(organizations.c.customer_mail).where(organizations.c.id == org_id))
        assert {p.id for p in harness.portal.catalog.products if p.kind != "subscription"} <= products
        assert {"trial", "permanent", "annual", "flexible"} <= terms
        assert activated >= 5 and expired >= 3 and ended_trials >= 1 and subscribed >= 3
        assert len(departments) >= 5 and 200 <= sum(departments.values()) <= 500
        assert balance == total > 0
        # The made-up history mailed none of its customers; new assignments in the demo will.
        assert mails == 0 and mailing
