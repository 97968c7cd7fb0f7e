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
from seattui.domain.licensing import Renewal, Term
from seattui.domain.seat_plans import SubscriptionStatus
from seattui.portal.context import Tx
from seattui.portal.services import credits
from seattui.portal.store.tables import (
    activation_keys,
    employees,
    licenses,
    subscriptions,
)


def _product_name(tx: Tx, product_id: str) -> str:
    """A product dropped from the catalog still shows, under its id."""
    product = tx.catalog.find(product_id)
    return product.name if product else product_id


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


async def summary(tx: Tx) -> Dashboard:
    today = tx.today
    org = licenses.c.org_id == tx.org_id
    trial = licenses.c.term == Term.TRIAL.value
    permanent = licenses.c.term == Term.PERMANENT.value
    rows = (
        await tx.conn.execute(
            select(
                licenses.c.product_id,
                _count(trial).label("trials"),
                _count(permanent).label("permanent"),
                _count(licenses.c.term.in_([Term.ANNUAL.value, Term.FLEXIBLE.value])).label("seat_plans"),
                _count(licenses.c.device_fingerprint.is_not(None)).label("activated"),
            )
            .where(org)
            .group_by(licenses.c.product_id)
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
                trials=row.trials or 0,
                permanent=row.permanent or 0,
                seat_plans=row.seat_plans or 0,
                activated=row.activated or 0,
            )
        )
    by_product.sort(key=lambda figures: figures.product_name)

    attention = (
        await tx.conn.execute(
            select(
                func.count().label("licenses"),
                _count(and_(trial, licenses.c.trial_ends_on >= today,
                            licenses.c.trial_ends_on <= today + timedelta(days=TRIALS_ENDING_DAYS))).label("trials_ending"),
                _count(and_(trial, licenses.c.trial_ends_on < today)).label("trials_ended"),
                _count(and_(permanent, licenses.c.support_ends_on < today)).label("support_ended"),
                _count(and_(permanent, licenses.c.support_ends_on >= today,
                            licenses.c.support_ends_on <= today + timedelta(days=SUPPORT_ENDING_DAYS))).label("support_ending"),
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
    soon = today + timedelta(days=RENEWING_DAYS)
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
    annual_renewals = await tx.conn.scalar(
        select(func.count()).where(
            org, licenses.c.term == Term.ANNUAL.value,
            func.coalesce(licenses.c.renewal, Renewal.SAME.value) != Renewal.END.value,
            licenses.c.term_ends_on >= today, licenses.c.term_ends_on <= soon))
    keys = await tx.conn.scalar(select(func.count()).where(activation_keys.c.org_id == tx.org_id))
    people = await tx.conn.scalar(select(func.count()).where(employees.c.org_id == tx.org_id))
    return Dashboard(
        today=today,
        balance=await credits.balance(tx),
        recent_ledger=(await credits.ledger(tx, cursor=None, limit=6)).items,
        keys=keys or 0,
        licenses=attention.licenses or 0,
        by_product=by_product,
        trials_ending=attention.trials_ending or 0,
        trials_ended=attention.trials_ended or 0,
        support_ended=attention.support_ended or 0,
        support_ending=attention.support_ending or 0,
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
        renewing=(channel_renewals.renewing or 0) + (annual_renewals or 0),
        suspended=channel_renewals.suspended or 0,
    )
