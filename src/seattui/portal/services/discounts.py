"""Reseller discounts and coupons, set by the portal's operator (`seattui discount`, `seattui
coupon`). Billing applies them to every order (services/billing.py); this module only keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.catalog import Catalog
from seattui.domain.discounts import MAX_COUPON_CODE, MAX_COUPON_MONTHS, Coupon, OncePer, ResellerDiscount, normalize_code
from seattui.domain.errors import Conflict, NotFound, ValidationFailed
from seattui.domain.money import to_hundredths
from seattui.portal.context import Tx
from seattui.portal.queries.discounts import coupon_from_row, percent_of
from seattui.portal.services import audit
from seattui.portal.store.tables import coupons, organizations, reseller_discounts

MAX_PRODUCTS = 20


def _percent_hundredths(percent: Decimal) -> int:
    if not percent.is_finite() or not Decimal(0) < percent <= Decimal(100) or percent != percent.quantize(Decimal("0.01")):
        raise ValidationFailed("A percentage is more than 0 and at most 100, with at most two decimals (like 12.5).",
                               {"percent": "more than 0, at most 100"})
    return int(percent * 100)


def _known_product(catalog: Catalog, product_id: str) -> str:
    if catalog.find(product_id) is None:
        raise NotFound(f"There is no product {product_id[:64]!r} in the catalog; `seattui catalog` lists them.",
                       {"product_id": product_id[:64]})
    return product_id


async def set_reseller(tx: Tx, product_id: str | None, percent: Decimal) -> ResellerDiscount:
    """Give the organization `percent` off a product's orders (or every product's)."""
    hundredths = _percent_hundredths(percent)
    key = _known_product(tx.catalog, product_id) if product_id else ""
    values = {"percent": hundredths, "updated_at": tx.now}
    changed = await tx.conn.execute(update(reseller_discounts).where(
        reseller_discounts.c.org_id == tx.org_id, reseller_discounts.c.product_id == key).values(**values))
    if changed.rowcount == 0:
        await tx.conn.execute(insert(reseller_discounts).values(org_id=tx.org_id, product_id=key, **values))
    scope = product_id or "every product"
    await audit.record(tx, "discount.set", "organization", tx.org_id,
                       f"Reseller discount {percent.normalize():f}% on {scope}",
                       {"product_id": product_id, "percent": f"{percent:.2f}"})
    return ResellerDiscount(org=tx.actor.org_name, product_id=product_id, percent=percent_of(hundredths))


async def clear_reseller(tx: Tx, product_id: str | None) -> bool:
    """Take the organization's discount away (of a product, or the overall one); False if none."""
    gone = await tx.conn.execute(delete(reseller_discounts).where(
        reseller_discounts.c.org_id == tx.org_id, reseller_discounts.c.product_id == (product_id or "")))
    if gone.rowcount:
        await audit.record(tx, "discount.clear", "organization", tx.org_id,
                           f"Reseller discount on {product_id or 'every product'} cleared", {"product_id": product_id})
    return bool(gone.rowcount)


async def list_reseller(conn: AsyncConnection, org_id: int | None = None) -> list[ResellerDiscount]:
    query = (select(organizations.c.name, reseller_discounts.c.product_id, reseller_discounts.c.percent)
             .select_from(reseller_discounts.join(organizations, organizations.c.id == reseller_discounts.c.org_id))
             .order_by(organizations.c.name, reseller_discounts.c.product_id))
    if org_id is not None:
        query = query.where(reseller_discounts.c.org_id == org_id)
    return [ResellerDiscount(org=row.name, product_id=row.product_id or None, percent=percent_of(row.percent))
            for row in (await conn.execute(query)).all()]


async def create_coupon(conn: AsyncConnection, catalog: Catalog, now: datetime, code: str, *, percent: Decimal | None, amount: Decimal | None,
                        product_ids: Sequence[str] = (), valid_from: date | None = None,
                        valid_until: date | None = None, max_redemptions: int | None = None,
                        months: int | None = None, once_per: OncePer = OncePer.ORGANIZATION) -> Coupon:
    """A new coupon of the portal's operator, for every organization; codes are unique, upper-cased."""
    cleaned = normalize_code(code)
    if not cleaned or len(cleaned) > MAX_COUPON_CODE or not all(c.isascii() and (c.isalnum() or c in "-_") for c in cleaned):
        raise ValidationFailed(f"A coupon code has 1 to {MAX_COUPON_CODE} letters, digits, - or _.", {"code": "letters and digits"})
    if (percent is None) == (amount is None):
        raise ValidationFailed("Give a coupon a percentage or an amount off, one of the two.", {"percent": "or amount"})
    if amount is not None and amount <= 0:
        raise ValidationFailed("A coupon's amount off is more than 0.", {"amount": "more than 0"})
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationFailed("A coupon's last day comes after its first.", {"valid_until": "after valid_from"})
    if max_redemptions is not None and not 1 <= max_redemptions <= 1_000_000_000:
        raise ValidationFailed("A coupon may be used at least once (--max-redemptions 1 or more).",
                               {"max_redemptions": "1 or more"})
    if months is not None and not 1 <= months <= MAX_COUPON_MONTHS:
        raise ValidationFailed(f"A coupon comes off a subscription for 1 to {MAX_COUPON_MONTHS} months "
                               "(--months), or leave it out for once.", {"months": f"1 to {MAX_COUPON_MONTHS}"})
    if len(product_ids) > MAX_PRODUCTS:
        raise ValidationFailed(f"A coupon is for at most {MAX_PRODUCTS} products.", {"product_ids": "fewer"})
    products = sorted({_known_product(catalog, product_id) for product_id in product_ids})
    if (await conn.execute(select(coupons.c.id).where(coupons.c.code == cleaned))).first():
        raise Conflict(f"There is a coupon {cleaned} already; choose another code.", {"code": cleaned})
    row = (await conn.execute(insert(coupons).values(
        code=cleaned, percent=_percent_hundredths(percent) if percent is not None else None,
        amount=to_hundredths(amount) if amount is not None else None, product_ids=",".join(products),
        valid_from=valid_from, valid_until=valid_until, max_redemptions=max_redemptions, created_at=now,
        months=months, once_per=OncePer(once_per).value,
    ).returning(coupons))).one()
    return coupon_from_row(row)


async def list_coupons(conn: AsyncConnection) -> list[Coupon]:
    return [coupon_from_row(row) for row in (await conn.execute(select(coupons).order_by(coupons.c.code))).all()]
