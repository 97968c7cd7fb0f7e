"""Seat plans: a flexible plan's purchase cap, an annual contract's seats and renewal setting,
a seat trial's conversion, and the subscriptions list (seat plans and channel subscriptions).

Flexible seats are charged by the billing run in arrears by the seat-day (billing_run.py calls
`bill_flexible_month`); seats added to an annual contract are charged now, through the billing
service's order path like every paid change. An annual contract's renewal on its renewal date
is the billing run's (`renew_annual`). Where the two meet the scheduled renewal wins: once the
renewal date has come, the contract takes no seat change until the billing run has renewed it
(its renewal setting can still be changed until then, and is what the run applies).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, literal, select, update

from seattui.domain.billing import OrderKind, month_end, month_start, period_key
from seattui.domain.catalog import Product, ProductKind, SeatPlan
from seattui.domain.credits import LedgerReason
from seattui.domain.dates import add_months
from seattui.domain.errors import Conflict, ValidationFailed
from seattui.domain.licensing import License, LicenseStatus, Term
from seattui.domain.money import format_credits, round_credits, to_hundredths
from seattui.domain.pricing import ZERO, PriceLine, Quote, configuration_lines, Configuration
from seattui.domain.roles import Permission, Role
from seattui.domain.seat_plans import (
    CapChange,
    PlanConversion,
    Renewal,
    RenewalChange,
    SeatAddition,
    SubscriptionKind,
    SubscriptionStatus,
    SubscriptionSummary,
    annual_addition_amount,
    check_addition,
    check_cap,
    flexible_month_amount,
    flexible_month_description,
)
from seattui.portal.context import Tx
from seattui.portal.queries.licenses import get as get_license
from seattui.portal.queries.licenses import license_query, from_row
from seattui.portal.queries.licenses import visible as visible_licenses
from seattui.portal.queries.subscriptions import from_row as subscription_from_row
from seattui.portal.queries.subscriptions import subscription_query
from seattui.portal.queries.subscriptions import visible as visible_subscriptions
from seattui.portal.services import audit, billing, credits
from seattui.portal.services.billing import Charge
from seattui.portal.store.sets import among
from seattui.portal.store.tables import billing_claims, licenses, seat_intervals, seats, subscriptions

SEAT_PLAN_TERMS = (Term.FLEXIBLE.value, Term.ANNUAL.value, Term.TRIAL.value)


async def _seat_plan(tx: Tx, license_id: int, *, lock: bool = False) -> tuple[License, Product]:
    license = await get_license(tx, license_id, lock=lock)
    product = tx.catalog.find(license.product_id)
    if product is None or product.kind is not ProductKind.SEAT:
        raise ValidationFailed(f"License {license_id} is not a seat plan; `seattui subscriptions` lists them.",
                               {"license_id": "not a seat plan"})
    return license, product


def _require_plan(license: License, term: Term, what: str) -> None:
    if license.term is not term:
        hint = {Term.FLEXIBLE: "an annual contract grows with `seattui subscription seats ID +N`",
                Term.ANNUAL: "a flexible plan's limit is its cap: `seattui subscription cap ID N`",
                Term.TRIAL: "convert the trial first"}.get(license.term, "")
        raise ValidationFailed(f"License {license.id} is a {license.term.value} plan; {what} is for "
                               f"{term.value} plans" + (f" ({hint})." if hint else "."), {"license_id": f"not {term.value}"})


async def assigned_count(tx: Tx, license_id: int) -> int:
    return int(await tx.conn.scalar(select(func.count()).where(seats.c.org_id == tx.org_id,
                                                                seats.c.license_id == license_id)) or 0)


# -- flexible: the purchase cap ---------------------------------------------------------------

async def _cap_lines(tx: Tx, license_id: int, change: CapChange, *, lock: bool = False) -> tuple[License, Product, list[PriceLine]]:
    license, product = await _seat_plan(tx, license_id, lock=lock)
    _require_plan(license, Term.FLEXIBLE, "a cap")
    if change.cap == license.quantity:
        raise ValidationFailed(f"The cap is {change.cap} already; type another number.", {"cap": f"already {change.cap}"})
    check_cap(product, change.cap, await assigned_count(tx, license_id))
    offer = product.seat_plan(SeatPlan.FLEXIBLE)
    line = PriceLine(
        description=(f"{product.name}, flexible plan, cap {license.quantity} to {change.cap} seats: nothing now; "
                     f"{format_credits(offer.price_per_seat)} a seat a month for the days each seat is assigned, "
                     "on next month's bill (seat-days used are billed, never refunded)"),
        quantity=change.cap, unit_price=ZERO, amount=ZERO)
    return license, product, [line]


async def quote_cap(tx: Tx, license_id: int, change: CapChange) -> Quote:
    _, _, lines = await _cap_lines(tx, license_id, change)
    return await billing.quote(tx, lines, change)


async def set_cap(tx: Tx, license_id: int, change: CapChange) -> License:
    """Raise or lower a flexible plan's cap: never below the seats assigned, at most the
    catalog's maximum. Nothing is charged now; the seats are billed by the day they are held."""
    tx.actor.require(Permission.PURCHASE)
    await credits.lock_balance(tx)  # the organization's lock: no assignment runs meanwhile
    license, product, _ = await _cap_lines(tx, license_id, change, lock=True)
    await tx.conn.execute(update(licenses).where(licenses.c.id == license_id)
                          .values(quantity=change.cap, seat_cap=change.cap, updated_at=tx.now))
    await audit.record(tx, "seat_plan.cap", "license", license_id,
                       f"Cap of the {product.name} flexible plan on {license.key}: {license.quantity} to {change.cap}",
                       {"before": license.quantity, "after": change.cap})
    return await get_license(tx, license_id)


# -- annual: seats added for the rest of the term, the renewal setting ------------------------------

def _renewal_due(license: License, today: date) -> bool:
    return license.term_ends_on is not None and license.term_ends_on <= today


async def _seat_lines(tx: Tx, license_id: int, addition: SeatAddition, *, lock: bool = False
                      ) -> tuple[License, Product, list[PriceLine]]:
    license, product = await _seat_plan(tx, license_id, lock=lock)
    _require_plan(license, Term.ANNUAL, "adding seats")
    assert license.term_ends_on is not None
    if _renewal_due(license, tx.today):
        raise Conflict(
            f"The term of license {license_id} ended on {license.term_ends_on.isoformat()}; its renewal "
            f"({_renewal_of(license)}) is applied by the billing run first, then seats can be added to the new term.",
            {"license_id": license_id, "term_ends_on": license.term_ends_on.isoformat()})
    contract_max = license.seat_cap or product.seat_plan(SeatPlan.ANNUAL).max_seats
    check_addition(license.quantity, contract_max, addition.seats)
    offer = product.seat_plan(SeatPlan.ANNUAL)
    term_start = add_months(license.term_ends_on, -12)
    days_left = (license.term_ends_on - tx.today).days
    term_days = (license.term_ends_on - term_start).days
    amount = annual_addition_amount(offer.price_per_seat, addition.seats, days_left, term_days)
    line = PriceLine(
        description=(f"{product.name}, annual plan, {addition.seats} more seat{'s' if addition.seats != 1 else ''} "
                     f"for the {days_left} days left of the term to {license.term_ends_on.isoformat()} "
                     f"({addition.seats} × {format_credits(offer.price_per_seat)} a seat a year × "
                     f"{days_left}/{term_days} days = {format_credits(amount)}); "
                     "not refundable, seats stay until renewal"),
        # The line is rounded once, on its amount; the unit price is that amount per seat, as shown.
        quantity=addition.seats, unit_price=round_credits(amount / addition.seats), amount=amount,
        product_id=product.id)
    return license, product, [line]


async def quote_seats(tx: Tx, license_id: int, addition: SeatAddition) -> Quote:
    _, _, lines = await _seat_lines(tx, license_id, addition)
    return await billing.quote(tx, lines, addition)


async def add_seats(tx: Tx, license_id: int, addition: SeatAddition) -> License:
    """Seats added to an annual contract, charged now for the rest of the term (prorated by days),
    credits or invoice as the organization pays; they stay until renewal and are never refunded."""
    tx.actor.require(Permission.PURCHASE)
    balance = await credits.lock_balance(tx)
    license, product, lines = await _seat_lines(tx, license_id, addition, lock=True)
    settlement = await billing.settle(tx, balance, lines, addition)
    cost = settlement.cost
    after = license.quantity + addition.seats
    await tx.conn.execute(update(licenses).where(licenses.c.id == license_id).values(
        quantity=after, paid=to_hundredths(license.paid + cost), updated_at=tx.now))
    what = f"{product.name} annual plan on {license.key}: {license.quantity} to {after} seats"
    await billing.place(
        tx, settlement, OrderKind.SEATS,
        [Charge(line, "license", license_id, tx.today, license.term_ends_on) for line in lines],
        [(-cost, LedgerReason.SEATS, "license", license_id, what)], addition,
    )
    await audit.record(tx, "seat_plan.seats", "license", license_id, f"{what} for {format_credits(cost)} credits",
                       {"before": license.quantity, "after": after, "cost": f"{cost:.2f}"})
    return await get_license(tx, license_id)


def _renewal_of(license: License) -> str:
    return {Renewal.SAME: f"renew with the same {license.quantity} seats", Renewal.ASSIGNED:
            "renew with the seats assigned that day", Renewal.END: "end at term end"}[license.renewal or Renewal.SAME]


async def quote_renewal(tx: Tx, license_id: int, change: RenewalChange) -> Quote:
    """What the setting will do on the renewal date: nothing is charged now."""
    license, product = await _seat_plan(tx, license_id)
    _require_plan(license, Term.ANNUAL, "a renewal setting")
    assert license.term_ends_on is not None
    offer = product.seat_plan(SeatPlan.ANNUAL)
    on = license.term_ends_on.isoformat()
    if change.renewal is Renewal.END:
        words = f"ends on {on}; its seats stay assigned until then, and nothing is refunded"
    elif change.renewal is Renewal.SAME:
        words = (f"renews on {on} with its {license.quantity} seats for "
                 f"{format_credits(offer.price_per_seat * license.quantity)} credits, not refundable")
    else:
        held = await assigned_count(tx, license_id)
        words = (f"renews on {on} with the seats assigned that day ({held} now: "
                 f"{format_credits(offer.price_per_seat * held)} credits), not refundable; with none assigned it ends")
    line = PriceLine(description=f"{product.name} annual plan on {license.key}: nothing now; the contract {words}",
                     quantity=license.quantity, unit_price=ZERO, amount=ZERO)
    return await billing.quote(tx, [line])


async def set_renewal(tx: Tx, license_id: int, change: RenewalChange) -> License:
    """What the annual contract does on its renewal date; the billing run applies it."""
    tx.actor.require(Permission.PURCHASE)
    await credits.lock_balance(tx)
    license, product = await _seat_plan(tx, license_id, lock=True)
    _require_plan(license, Term.ANNUAL, "a renewal setting")
    await tx.conn.execute(update(licenses).where(licenses.c.id == license_id)
                          .values(renewal=change.renewal.value, updated_at=tx.now))
    await audit.record(tx, "seat_plan.renewal", "license", license_id,
                       f"Renewal of the {product.name} annual plan on {license.key}: {change.renewal.value}",
                       {"before": (license.renewal or Renewal.SAME).value, "after": change.renewal.value})
    return await get_license(tx, license_id)


# -- a seat trial becomes a plan ---------------------------------------------------------------

async def _conversion_lines(tx: Tx, license_id: int, conversion: PlanConversion, *, lock: bool = False
                            ) -> tuple[License, Product, list[PriceLine]]:
    license, product = await _seat_plan(tx, license_id, lock=lock)
    _require_plan(license, Term.TRIAL, "converting")
    assigned = await assigned_count(tx, license_id)
    if conversion.seats < assigned:
        raise ValidationFailed(f"{assigned} seats of the trial are assigned; the plan needs at least {assigned}.",
                               {"seats": f"at least {assigned}"})
    term = Term(conversion.plan.value)
    return license, product, configuration_lines(product, Configuration(term=term, edition_id=None, addons=(),
                                                                         quantity=conversion.seats))


async def quote_conversion(tx: Tx, license_id: int, conversion: PlanConversion) -> Quote:
    _, _, lines = await _conversion_lines(tx, license_id, conversion)
    return await billing.quote(tx, lines, conversion)


async def convert(tx: Tx, license_id: int, conversion: PlanConversion) -> License:
    """A seat trial becomes a flexible plan (cap: `seats`, billed by the day from today) or an
    annual contract (`seats` for 12 months from today, paid now); its assigned seats stay."""
    tx.actor.require(Permission.PURCHASE)
    balance = await credits.lock_balance(tx)
    license, product, lines = await _conversion_lines(tx, license_id, conversion, lock=True)
    settlement = await billing.settle(tx, balance, lines, conversion)
    cost = settlement.cost
    values: dict[str, Any] = {"term": conversion.plan.value, "quantity": conversion.seats, "trial_ends_on": None,
                              "paid": to_hundredths(license.paid + cost), "updated_at": tx.now}
    if conversion.plan is SeatPlan.FLEXIBLE:
        values |= {"seat_cap": conversion.seats}
        # Seat-days are billed from today: the trial's days were free.
        await tx.conn.execute(update(seat_intervals).where(
            seat_intervals.c.license_id == license_id, seat_intervals.c.ended_on.is_(None)).values(started_on=tx.today))
    else:
        values |= {"term_ends_on": add_months(tx.today, 12), "renewal": Renewal.SAME.value,
                   "seat_cap": product.seat_plan(SeatPlan.ANNUAL).max_seats}
    await tx.conn.execute(update(licenses).where(licenses.c.id == license_id).values(**values))
    what = f"{product.name} trial on {license.key} to the {conversion.plan.value} plan, {conversion.seats} seats"
    await billing.place(
        tx, settlement, OrderKind.PURCHASE,
        [Charge(line, "license", license_id, tx.today, values.get("term_ends_on")) for line in lines],
        [(-cost, LedgerReason.SEATS, "license", license_id, what)], conversion,
    )
    await audit.record(tx, "seat_plan.convert", "license", license_id,
                       what + (f" for {format_credits(cost)} credits" if cost else ""),
                       {"plan": conversion.plan.value, "seats": conversion.seats, "cost": f"{cost:.2f}"})
    return await get_license(tx, license_id)


# -- the subscriptions list ---------------------------------------------------------------------

async def summaries(tx: Tx) -> list[SubscriptionSummary]:
    """Every seat plan and channel subscription of the organization, seat plans first; for a
    customer's own login, theirs alone and without their cost (what the organization pays is
    its own)."""
    found = await _summaries(tx)
    if tx.actor.role is Role.CUSTOMER:
        return [summary.model_copy(update={"monthly_cost": ZERO}) for summary in found]
    return found


async def _summaries(tx: Tx) -> list[SubscriptionSummary]:
    assigned = dict((await tx.conn.execute(
        select(seats.c.license_id, func.count()).where(seats.c.org_id == tx.org_id).group_by(seats.c.license_id)
    )).all())
    seat_products = [product.id for product in tx.catalog.products if product.kind is ProductKind.SEAT]
    rows = await tx.conn.execute(license_query().where(
        *visible_licenses(tx), licenses.c.term.in_(SEAT_PLAN_TERMS),
        licenses.c.product_id.in_(seat_products)).order_by(licenses.c.id))
    found: list[SubscriptionSummary] = []
    for row in rows:
        license = from_row(row, tx.today)
        product = tx.catalog.product(license.product_id)
        held = int(assigned.get(license.id, 0))
        found.append(_plan_summary(license, product, held, tx.today))
    grace = timedelta(days=(await billing.paying_terms(tx)).grace_days)
    for row in await tx.conn.execute(subscription_query().where(*visible_subscriptions(tx))
                                     .order_by(subscriptions.c.id)):
        subscription = subscription_from_row(row)
        product = tx.catalog.find(subscription.product_id)
        price = product.channel_price_per_month if product and product.channel_price_per_month else ZERO
        status = SubscriptionStatus(row.status)
        found.append(SubscriptionSummary(
            kind=SubscriptionKind.CHANNELS, id=subscription.id, key=subscription.key, product_id=subscription.product_id,
            product_name=product.name if product else subscription.product_id, plan="monthly",
            size=subscription.channels, status=status.value,
            next_renewal=None if status in (SubscriptionStatus.ENDED, SubscriptionStatus.ENDING) else subscription.period_ends_on,
            monthly_cost=ZERO if status is SubscriptionStatus.ENDED else price * subscription.channels,
            grace_ends_on=subscription.unpaid_since + grace if subscription.unpaid_since else None,
        ))
    return found


def _plan_summary(license: License, product: Product, held: int, today: date) -> SubscriptionSummary:
    base = {"kind": SubscriptionKind.SEATS, "id": license.id, "key": license.key, "product_id": product.id,
            "product_name": product.name, "plan": license.term.value, "assigned": held, "size": license.quantity}
    if license.term is Term.FLEXIBLE:
        offer = product.seat_plan(SeatPlan.FLEXIBLE)
        # What a month costs at today's assignment (the bill counts the days each seat was held).
        return SubscriptionSummary(**base, next_renewal=month_end(today) + timedelta(days=1), status="active",
                                   monthly_cost=offer.price_per_seat * held)
    if license.term is Term.ANNUAL:
        offer = product.seat_plan(SeatPlan.ANNUAL)
        renewal = license.renewal or Renewal.SAME
        ended = license.status is LicenseStatus.TERM_ENDED
        return SubscriptionSummary(
            **base, contract_max=license.seat_cap, renewal=renewal,
            next_renewal=None if renewal is Renewal.END else license.term_ends_on,
            status="ended" if ended else ("ending" if renewal is Renewal.END else "active"),
            monthly_cost=ZERO if ended else (offer.price_per_seat * license.quantity / 12).quantize(Decimal("0.01")))
    return SubscriptionSummary(**base, next_renewal=None, status="trial ended" if license.status is
                               LicenseStatus.TRIAL_ENDED else f"trial to {license.trial_ends_on}", monthly_cost=ZERO)


# -- the billing run's part: flexible months, annual renewals ---------------------------------------

async def _record_order(tx: Tx, kind: str, object_id: int, period: str, order_id: int | None) -> None:
    if order_id is not None:
        await tx.conn.execute(update(billing_claims).where(
            billing_claims.c.kind == kind, billing_claims.c.object_id == object_id, billing_claims.c.period == period,
        ).values(order_id=order_id))


async def flexible_months_due(conn: Any, as_of: date) -> list[tuple[int, int, date]]:
    """(org, license, month) of every flexible month before `as_of`'s that held seats and is not billed."""
    first_open = month_start(as_of)
    spans = (await conn.execute(
        select(seat_intervals.c.org_id, seat_intervals.c.license_id, func.min(seat_intervals.c.started_on),
               func.max(func.coalesce(seat_intervals.c.ended_on, first_open)))
        .join(licenses, licenses.c.id == seat_intervals.c.license_id)
        .where(licenses.c.term == Term.FLEXIBLE.value, seat_intervals.c.started_on < first_open)
        .group_by(seat_intervals.c.org_id, seat_intervals.c.license_id)
    )).all()
    claimed = set((await conn.execute(select(billing_claims.c.object_id, billing_claims.c.period)
                                      .where(billing_claims.c.kind == "seat-days"))).all())
    due = []
    for org_id, license_id, first, last in spans:
        month = month_start(first)
        stop = min(month_start(last), first_open - timedelta(days=1))
        while month <= stop and month < first_open:
            if (license_id, period_key(month)) not in claimed:
                due.append((org_id, license_id, month))
            month = month_end(month) + timedelta(days=1)
    return due


def _nights(dialect: str, month: date) -> Any:
    """domain.seat_plans.seat_days() of one interval in SQL, summed by the store: 10,000 seats'
    intervals are not read into Python. The nights D of the month with start < D <= end."""
    before = literal(month_start(month) - timedelta(days=1))
    last = literal(month_end(month))
    start, end = seat_intervals.c.started_on, seat_intervals.c.ended_on
    if dialect == "postgresql":
        return func.greatest(0, func.least(func.coalesce(end, last), last) - func.greatest(start, before))
    # SQLite keeps dates as ISO text: its min() and max() of two compare them as the calendar does.
    return func.max(0, func.julianday(func.min(func.coalesce(end, last), last)) - func.julianday(func.max(start, before)))


async def bill_flexible_month(tx: Tx, license_ids: Sequence[int], month: date) -> int | None:
    """Bill one organization's flexible plans for one month in arrears, in one order: a line per
    plan, price per seat per month × seat-days ÷ days in the month, rounded once; on that month's
    invoice (or from credits, prepaid). Each plan's month once: claimed first, in this transaction."""
    balance = await credits.lock_balance(tx)
    key = period_key(month)
    claimed = await billing.claim_many(tx, "seat-days", license_ids, key)
    if not claimed:
        return None
    plans = {row.id: row for row in await tx.conn.execute(
        license_query().where(licenses.c.org_id == tx.org_id, among(tx.conn, licenses.c.id, claimed)))}
    counted = dict((await tx.conn.execute(
        select(seat_intervals.c.license_id, func.sum(_nights(tx.conn.dialect.name, month))).where(
            among(tx.conn, seat_intervals.c.license_id, list(plans)), seat_intervals.c.started_on <= month_end(month),
            (seat_intervals.c.ended_on.is_(None)) | (seat_intervals.c.ended_on >= month_start(month)))
        .group_by(seat_intervals.c.license_id)
    )).all())
    charges: list[Charge] = []
    ledger: list[billing.LedgerRow] = []
    for license_id in sorted(plans):
        product = tx.catalog.find(plans[license_id].product_id)
        if product is None:
            continue
        offer = product.seat_plan(SeatPlan.FLEXIBLE)
        days = int(counted.get(license_id) or 0)
        amount = flexible_month_amount(offer.price_per_seat, days, month)
        if amount == 0:
            continue
        line = PriceLine(description=flexible_month_description(product, days, month), quantity=days,
                         unit_price=offer.price_per_seat, amount=amount, product_id=product.id)
        charges.append(Charge(line, "license", license_id, month_start(month), month_end(month)))
        ledger.append((-amount, LedgerReason.SEATS, "license", license_id,
                       f"{line.description} on {plans[license_id].key}"))
    if not charges:
        return None
    settlement = await billing.settle_arrears(tx, balance, charges, month)
    order_id = await billing.place(tx, settlement, OrderKind.SEATS, charges, ledger, None, month=month)
    await tx.conn.execute(update(licenses).where(licenses.c.id == bindparam("plan")).values(
        paid=licenses.c.paid + bindparam("amount")),
        [{"plan": charge.object_id, "amount": to_hundredths(charge.line.amount)} for charge in charges])
    await tx.conn.execute(update(billing_claims).where(
        billing_claims.c.kind == "seat-days", billing_claims.c.period == key,
        among(tx.conn, billing_claims.c.object_id, claimed)).values(order_id=order_id))
    await audit.record_many(tx, [
        {"action": "seat_plan.bill", "object_type": "license", "object_id": charge.object_id,
         "summary": f"Billed {charge.line.quantity:,} seat-days of {key} for {format_credits(charge.line.amount)} credits",
         "details": {"period": key, "seat_days": charge.line.quantity, "amount": f"{charge.line.amount:.2f}"}}
        for charge in charges
    ])
    return order_id


async def annual_renewals_due(conn: Any, as_of: date) -> list[tuple[int, int]]:
    rows = (await conn.execute(select(licenses.c.org_id, licenses.c.id).where(
        licenses.c.term == Term.ANNUAL.value, licenses.c.term_ends_on <= as_of,
        licenses.c.renewal.in_([Renewal.SAME.value, Renewal.ASSIGNED.value])).order_by(licenses.c.org_id, licenses.c.id)
    )).all()
    return [(row.org_id, row.id) for row in rows]


async def renew_annual(tx: Tx, license_id: int, as_of: date) -> int:
    """Renew an annual contract whose renewal date has come, as its setting says: the same seats,
    or the seats assigned today (none assigned: it ends). Each term is renewed once. Returns how
    many terms it renewed (more than one when the run was not run for a year)."""
    balance = await credits.lock_balance(tx)
    renewed = 0
    while True:
        license = await get_license(tx, license_id, lock=True)
        product = tx.catalog.find(license.product_id)
        if product is None or license.term_ends_on is None or license.term_ends_on > as_of:
            return renewed
        renewal = license.renewal or Renewal.SAME
        seats_now = license.quantity if renewal is Renewal.SAME else await assigned_count(tx, license_id)
        if renewal is Renewal.END or seats_now == 0:
            return renewed
        starts = license.term_ends_on
        if not await billing.claim(tx, "annual", license_id, starts.isoformat()):
            return renewed
        ends = add_months(starts, 12)
        offer = product.seat_plan(SeatPlan.ANNUAL)
        line = PriceLine(description=(f"{product.name}, annual plan renewed ({renewal.value}), {seats_now} seats, "
                                      f"{starts.isoformat()} to {ends.isoformat()}; not refundable"),
                         quantity=seats_now, unit_price=offer.price_per_seat, amount=offer.price_per_seat * seats_now,
                         product_id=product.id)
        charge = Charge(line, "license", license_id, starts, ends)
        settlement = await billing.settle_arrears(tx, balance, [charge], starts)
        order_id = await billing.place(
            tx, settlement, OrderKind.RENEWAL, [charge],
            [(-line.amount, LedgerReason.SEATS, "license", license_id, line.description + f" on {license.key}")],
            None, month=starts)
        balance -= settlement.cost if settlement.payment.method.value == "credits" else ZERO
        await tx.conn.execute(update(licenses).where(licenses.c.id == license_id).values(
            quantity=seats_now, term_ends_on=ends, paid=licenses.c.paid + to_hundredths(settlement.cost),
            updated_at=tx.now))
        await _record_order(tx, "annual", license_id, starts.isoformat(), order_id)
        await audit.record(tx, "seat_plan.renew", "license", license_id,
                           f"Renewed the {product.name} annual plan on {license.key}: {seats_now} seats to "
                           f"{ends.isoformat()} for {format_credits(line.amount)} credits",
                           {"renewal": renewal.value, "seats": seats_now, "term_ends_on": ends.isoformat(),
                            "amount": f"{line.amount:.2f}"})
        renewed += 1

