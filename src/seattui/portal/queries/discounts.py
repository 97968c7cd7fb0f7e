"""Reseller discounts and coupons as stored, read by billing when it quotes and settles."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.discounts import MAX_COUPON_CODE, Coupon, OncePer, normalize_code
from seattui.domain.money import from_hundredths
from seattui.portal.store.tables import coupon_redemptions, coupons, reseller_discounts


def percent_of(hundredths: int) -> Decimal:
    return (Decimal(hundredths) / 100).quantize(Decimal("0.01"))


async def reseller_of(conn: AsyncConnection, org_id: int) -> dict[str | None, Decimal]:
    """The organization's percentages: by product id, and None for every product."""
    rows = (await conn.execute(select(reseller_discounts.c.product_id, reseller_discounts.c.percent)
                               .where(reseller_discounts.c.org_id == org_id))).all()
    return {(row.product_id or None): percent_of(row.percent) for row in rows}


def coupon_from_row(row: Any) -> Coupon:
    return Coupon(
        code=row.code, percent=percent_of(row.percent) if row.percent is not None else None,
        amount=from_hundredths(row.amount) if row.amount is not None else None,
        product_ids=[part for part in row.product_ids.split(",") if part],
        valid_from=row.valid_from, valid_until=row.valid_until,
        max_redemptions=row.max_redemptions, redeemed=row.redeemed, months=row.months,
        once_per=OncePer(row.once_per),
    )


async def coupon_by_code(conn: AsyncConnection, code: str) -> tuple[int, Coupon] | None:
    cleaned = normalize_code(code)
    if not cleaned or len(cleaned) > MAX_COUPON_CODE:
        return None
    row = (await conn.execute(select(coupons).where(coupons.c.code == cleaned))).first()
    return None if row is None else (int(row.id), coupon_from_row(row))


# The customer_id of a use counted for the organization as a whole (a coupon once per
# organization, or an order for no customer).
WHOLE_ORGANIZATION = 0


async def used_by(conn: AsyncConnection, coupon_id: int, org_id: int, customer_id: int = WHOLE_ORGANIZATION) -> bool:
    return (await conn.execute(select(coupon_redemptions.c.order_id).where(
        coupon_redemptions.c.coupon_id == coupon_id, coupon_redemptions.c.org_id == org_id,
        coupon_redemptions.c.customer_id == customer_id))).first() is not None
