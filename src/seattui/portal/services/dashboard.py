"""The dashboard: every figure from one consistent read of the organization's data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, and_, case, func, select

from seattui.domain.dashboard import (
    RENEWING_DAYS,
    SUPPORT_ENDING_DAYS,
    TRIALS_ENDING_DAYS,
    Dashboard,
    ProductFigures,
    SubscriptionFigures,
)
from seattui.domain.licensing import Term
from seattui.domain.seat_plans import SubscriptionStatus
from seattui.portal.context import Tx
from seattui.portal.services import credits
from seattui.portal.store.tables import (
    employees,
    key_counts,
    license_tally,
    subscriptions,
)


def _product_name(tx: Tx, product_id: str) -> str:
    """A product dropped from the catalog still shows, under its id."""
    product = tx.catalog.find(product_id)
    return product.name if product else product_id


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _sum(condition: ColumnElement[bool], count: ColumnElement[int]) -> ColumnElement[int]:
    return func.sum(case((condition, count), else_=0))


async def summary(tx: Tx) -> Dashboard:
    today = tx.today
    # The license figures come from license_tally (kept by the database's triggers on every
    # change of a license): a few thousand groups, not a scan of every license.
    tally = license_tally.c
    org = tally.org_id == tx.org_id
    count = tally.licenses
    trial = tally.term == Term.TRIAL.value
    permanent = tally.term == Term.PERMANENT.value
    rows = (
        await tx.conn.execute(
            select(
                tally.product_id,
                _sum(trial, count).label("trials"),
                _sum(permanent, count).label("permanent"),
                _sum(tally.term.in_([Term.ANNUAL.value, Term.FLEXIBLE.value]), count).label("seat_plans"),
                _sum(tally.activated.is_(True), count).label("activated"),
            )
            .where(org)
            .group_by(tally.product_id)
        )
    ).all()
    by_product = []
    for row in rows:
        product = tx.catalog.find(row.product_id)
        by_product.append(
            ProductFigures(
                product_id=row.product_id,
                product_name=product.name if product else row.product_id,
                unit=product.unit.value if product else "",
                trials=int(row.trials or 0),
                permanent=int(row.permanent or 0),
                seat_plans=int(row.seat_plans or 0),
                activated=int(row.activated or 0),
            )
        )
    by_product.sort(key=lambda figures: figures.product_name)

    soon = today + timedelta(days=RENEWING_DAYS)
    attention = (
        await tx.conn.execute(
            select(
                func.sum(count).label("licenses"),
                _sum(and_(trial, tally.ends_on.between(today, today + timedelta(days=TRIALS_ENDING_DAYS))),
                     count).label("trials_ending"),
                _sum(and_(trial, tally.ends_on < today), count).label("trials_ended"),
                _sum(and_(permanent, tally.ends_on < today), count).label("support_ended"),
                _sum(and_(permanent, tally.ends_on.between(today, today + timedelta(days=SUPPORT_ENDING_DAYS))),
                     count).label("support_ending"),
                _sum(and_(tally.term == Term.ANNUAL.value, tally.renews.is_(True), tally.ends_on.between(today, soon)),
                     count).label("annual_renewals"),
            ).where(org)
        )
    ).one()
    subscription_rows = (
        await tx.conn.execute(
            select(subscriptions.c.product_id, func.count().label("count"), func.sum(subscriptions.c.channels).label("channels"))
            .where(subscriptions.c.org_id == tx.org_id)
            .group_by(subscriptions.c.product_id)
        )
    ).all()
    channel_renewals = (
        await tx.conn.execute(
            select(
                _count(and_(subscriptions.c.status == SubscriptionStatus.ACTIVE.value,
                            subscriptions.c.period_ends_on >= today,
                            subscriptions.c.period_ends_on <= soon)).label("renewing"),
                _count(subscriptions.c.status == SubscriptionStatus.SUSPENDED.value).label("suspended"),
            ).where(subscriptions.c.org_id == tx.org_id)
        )
    ).one()
    keys = await tx.conn.scalar(select(key_counts.c["keys"]).where(key_counts.c.org_id == tx.org_id))  # kept by triggers
    people = await tx.conn.scalar(select(func.count()).where(employees.c.org_id == tx.org_id))
    return Dashboard(
        today=today,
        balance=await credits.balance(tx),
        recent_ledger=(await credits.ledger(tx, cursor=None, limit=6)).items,
        keys=keys or 0,
        licenses=int(attention.licenses or 0),
        by_product=by_product,
        trials_ending=int(attention.trials_ending or 0),
        trials_ended=int(attention.trials_ended or 0),
        support_ended=int(attention.support_ended or 0),
        support_ending=int(attention.support_ending or 0),
        subscriptions=[
            SubscriptionFigures(
                product_id=row.product_id,
                product_name=_product_name(tx, row.product_id),
                subscriptions=row.count,
                channels=int(row.channels or 0),
            )
            for row in subscription_rows
        ],
        employees=people or 0,
        renewing=(channel_renewals.renewing or 0) + int(attention.annual_renewals or 0),
        suspended=channel_renewals.suspended or 0,
    )
