"""Licenses: quoted, then created against the credits in one transaction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select

from seattui.domain.roles import Permission
from seattui.domain.catalog import Product, SeatPlan
from seattui.domain.credits import LedgerReason
from seattui.domain.dates import add_months
from seattui.domain.errors import NotFound, TrialExists
from seattui.domain.licensing import Device, License, LicenseOrder, LicenseStatus, Term
from seattui.domain.money import format_credits, from_hundredths, to_hundredths
from seattui.domain.pricing import (
    DAYS_IN_BILLING_MONTH,
    SUPPORT_MONTHS_INCLUDED,
    ZERO,
    Configuration,
    PriceLine,
    Quote,
    configuration_lines,
)
from seattui.portal.context import Tx
from seattui.portal.services import audit, credits, keys
from seattui.portal.store.tables import activation_keys, licenses

LICENSE_COLUMNS = [licenses, activation_keys.c.key, activation_keys.c.name.label("key_name")]


def license_query() -> Any:
    return select(*LICENSE_COLUMNS).join(activation_keys, activation_keys.c.id == licenses.c.key_id)


def status_of(term: Term, trial_ends_on: date | None, term_ends_on: date | None, activated: bool, today: date) -> LicenseStatus:
    if term is Term.TRIAL and trial_ends_on is not None and trial_ends_on < today:
        return LicenseStatus.TRIAL_ENDED
    if term is Term.ANNUAL and term_ends_on is not None and term_ends_on < today:
        return LicenseStatus.TERM_ENDED
    return LicenseStatus.ACTIVATED if activated else LicenseStatus.ASSIGNED


def from_row(row: Any, today: date) -> License:
    term = Term(row.term)
    device = (
        Device(fingerprint=row.device_fingerprint, hostname=row.device_hostname or "", activated_at=row.activated_at)
        if row.device_fingerprint
        else None
    )
    return License(
        id=row.id,
        key=row.key,
        key_name=row.key_name,
        product_id=row.product_id,
        edition_id=row.edition_id,
        addons=tuple(addon for addon in row.addons.split(",") if addon),
        term=term,
        quantity=row.quantity,
        status=status_of(term, row.trial_ends_on, row.term_ends_on, device is not None, today),
        trial_ends_on=row.trial_ends_on,
        support_ends_on=row.support_ends_on,
        term_ends_on=row.term_ends_on,
        seat_cap=row.seat_cap,
        customer_email=row.customer_email,
        comment=row.comment,
        device=device,
        paid=from_hundredths(row.paid),
        created_at=row.created_at,
    )


def configuration_of(license: License | Any) -> Configuration:
    addons = license.addons if isinstance(license, License) else tuple(a for a in license.addons.split(",") if a)
    return Configuration(
        term=Term(license.term), edition_id=license.edition_id, addons=tuple(sorted(addons)), quantity=license.quantity
    )


def _order_configuration(order: LicenseOrder) -> Configuration:
    return Configuration(
        term=order.term, edition_id=order.edition_id, addons=tuple(sorted(order.addons)), quantity=order.quantity
    )


async def get(tx: Tx, license_id: int, *, lock: bool = False) -> License:
    query = license_query().where(licenses.c.id == license_id, licenses.c.org_id == tx.org_id)
    row = (await tx.conn.execute(query.with_for_update(of=licenses) if lock else query)).first()
    if row is None:
        raise NotFound(f"There is no license {license_id} in your organization.", {"license_id": license_id})
    return from_row(row, tx.today)


async def _check_trial_rule(tx: Tx, key_id: int, product: Product, key: str) -> None:
    live = (
        await tx.conn.execute(
            select(licenses.c.id).where(
                licenses.c.key_id == key_id,
                licenses.c.product_id == product.id,
                licenses.c.term == Term.TRIAL.value,
                licenses.c.trial_ends_on >= tx.today,
            )
        )
    ).first()
    if live is not None:
        raise TrialExists(
            f"The key {key} already holds a live trial of {product.name} (license {live.id}); "
            "a key holds one live trial per product. Use another key, or make that trial permanent.",
            {"license_id": live.id, "key": key, "product_id": product.id},
        )


async def _priced(tx: Tx, order: LicenseOrder) -> tuple[Product, Any, list[PriceLine]]:
    """Validate an order whole, as quote and create both must, and price it."""
    product = tx.catalog.product(order.product_id)
    lines = configuration_lines(product, _order_configuration(order))
    key_row = await keys.find(tx, order.key)
    if order.term is Term.TRIAL:
        await _check_trial_rule(tx, key_row.id, product, key_row.key)
    return product, key_row, lines


async def quote(tx: Tx, order: LicenseOrder) -> Quote:
    """What the order costs against the balance now; changes nothing."""
    _, _, lines = await _priced(tx, order)
    return Quote.build(lines, await credits.balance_of(tx.conn, tx.org_id))


def _term_dates(order: LicenseOrder, product: Product, today: date) -> dict[str, Any]:
    if order.term is Term.TRIAL:
        assert order.trial_days is not None
        return {"trial_ends_on": today + timedelta(days=order.trial_days)}
    if order.term is Term.PERMANENT:
        return {"support_ends_on": add_months(today, SUPPORT_MONTHS_INCLUDED)}
    offer = product.seat_plan(SeatPlan(order.term.value))
    ends = today + timedelta(days=DAYS_IN_BILLING_MONTH) if offer.plan is SeatPlan.FLEXIBLE else add_months(today, 12)
    return {"term_ends_on": ends, "seat_cap": order.seat_cap or offer.max_seats}


async def create(tx: Tx, order: LicenseOrder) -> License:
    """Create the license and pay for it in the caller's transaction: both or neither."""
    tx.actor.require(Permission.ASSIGN if order.term is Term.TRIAL else Permission.PURCHASE)
    balance = await credits.lock_balance(tx)  # first: serializes purchases and the one-live-trial rule
    product, key_row, lines = await _priced(tx, order)
    cost = sum((line.amount for line in lines), ZERO)
    if cost > balance:
        raise credits.insufficient(balance, cost)
    license_id = (
        await tx.conn.execute(
            insert(licenses)
            .values(
                org_id=tx.org_id,
                key_id=key_row.id,
                product_id=product.id,
                edition_id=order.edition_id,
                addons=",".join(sorted(order.addons)),
                term=order.term.value,
                quantity=order.quantity,
                customer_email=order.customer_email,
                comment=order.comment,
                paid=to_hundredths(cost),
                created_at=tx.now,
                updated_at=tx.now,
                **_term_dates(order, product, tx.today),
            )
            .returning(licenses.c.id)
        )
    ).scalar_one()
    what = f"{product.name} {order.term.value} license, {order.quantity} {product.unit.label(order.quantity)}"
    await credits.debit(tx, cost, LedgerReason.LICENSE, object_type="license", object_id=license_id,
                        memo=f"{what} on {key_row.key}")
    await audit.record(
        tx,
        "license.create",
        "license",
        license_id,
        f"{what} on {key_row.key}" + (f" for {format_credits(cost)} credits" if cost else ""),
        {"key": key_row.key, "product_id": product.id, "term": order.term.value, "quantity": order.quantity,
         "cost": f"{cost:.2f}"},
    )
    return await get(tx, license_id)


async def bind_device(tx: Tx, license_id: int, fingerprint: str, hostname: str) -> None:
    """Record that a license runs on a device (the activation endpoint decides whether it may)."""
    await tx.conn.execute(
        licenses.update()
        .where(licenses.c.id == license_id, licenses.c.org_id == tx.org_id)
        .values(device_fingerprint=fingerprint, device_hostname=hostname, activated_at=tx.now, updated_at=tx.now)
    )
