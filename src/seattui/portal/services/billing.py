"""Billing: every paid change is an order, paid from credits at once (its own invoice,
finalized and paid) or put on the organization's monthly invoice up to its credit limit.

The paid paths of the other services call `settle()` under the organization's lock (taken by
credits.lock_balance) before they change anything, and `place()` after, in the same
transaction: the order, its lines, the ledger debit or the invoice's new total commit with
the change or not at all. Under that lock the unpaid total of an organization cannot move,
so concurrent orders never take it past the limit.

Invoice numbers come from one counter row (`invoice_series`) incremented in the finalizing
transaction: a rollback gives the number back, and instances wait on the row's lock, so the
series has no gap and no duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, false, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.base import MAX_RECORD_ID
from seattui.domain.billing import (
    DEFAULT_GRACE_DAYS,
    MAX_REFERENCE_NAME,
    BillingContact,
    BillingContactChange,
    BillingTerms,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceMailed,
    InvoiceSort,
    InvoiceStatus,
    Order,
    OrderFilter,
    OrderKind,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentTerms,
    Purchase,
    invoice_filename,
    invoice_number,
    month_end,
    month_name,
    month_start,
    payment_for,
    period_key,
)
from seattui.domain.credits import LedgerReason
from seattui.domain.customers import customer_email
from seattui.domain.dates import add_months
from seattui.domain.discounts import Coupon, OncePer, coupon_refusal, discount_lines
from seattui.domain.errors import Conflict, CreditLimitReached, NotFound, ValidationFailed
from seattui.domain.invoice_document import InvoiceDocument, InvoiceDocumentLine
from seattui.domain.licensing import License, Term
from seattui.domain.mail import MailAttachment
from seattui.domain.money import format_credits, from_hundredths, to_hundredths
from seattui.domain.paging import Page
from seattui.domain.pricing import ZERO, PriceLine, Quote, total
from seattui.domain.roles import Permission
from seattui.portal.context import Tx
from seattui.portal.invoice_pdf import render_invoice_pdf
from seattui.portal.paging import along_the_sort, containing, id_cursor_page, keyset_page, on_days
from seattui.portal.queries import discounts
from seattui.portal.queries.licenses import ever_activated
from seattui.portal.queries.organizations import paid_for, payer
from seattui.portal.services import audit, credits, outbox
from seattui.portal.store.sets import among
from seattui.portal.store.tables import (
    billing_claims,
    coupon_redemptions,
    coupons,
    billing_terms,
    customers,
    invoice_series,
    invoices,
    licenses,
    order_lines,
    orders,
    organizations,
    subscriptions,
)

SERIES = "INV"
UNPAID = (InvoiceStatus.DRAFT.value, InvoiceStatus.OPEN.value)
LedgerRow = tuple[Decimal, LedgerReason, str, int, str]


# -- payment terms ---------------------------------------------------------------------------

async def terms_of(conn: AsyncConnection, org_id: int) -> BillingTerms:
    row = (await conn.execute(select(billing_terms).where(billing_terms.c.org_id == org_id))).first()
    if row is None:
        return BillingTerms()
    return BillingTerms(terms=PaymentTerms(row.terms), credit_limit=from_hundredths(row.credit_limit),
                        due_days=row.due_days, grace_days=row.grace_days)


async def paying_terms(tx: Tx) -> BillingTerms:
    """The terms the organization's orders are paid on: a child account's parent's."""
    return await terms_of(tx.conn, (await payer(tx)).org_id)


async def set_terms(tx: Tx, terms: BillingTerms) -> BillingTerms:
    """The portal's operator sets how the organization pays; takes effect on the next order."""
    org_id = tx.org_id
    await credits.lock_balance(tx)  # no order of the organization runs meanwhile
    before = await terms_of(tx.conn, org_id)
    values = {"terms": terms.terms.value, "credit_limit": to_hundredths(terms.credit_limit),
              "due_days": terms.due_days, "grace_days": terms.grace_days, "updated_at": tx.now}
    updated = await tx.conn.execute(update(billing_terms).where(billing_terms.c.org_id == org_id).values(**values))
    if updated.rowcount == 0:
        await tx.conn.execute(insert(billing_terms).values(org_id=org_id, **values))
    await audit.record(
        tx, "billing.terms", "organization", org_id, f"Payment terms: {terms_words(terms)}",
        {"before": before.model_dump(mode="json"), "after": terms.model_dump(mode="json")},
    )
    return terms


def terms_words(terms: BillingTerms) -> str:
    if terms.terms is PaymentTerms.PREPAID:
        return "prepaid from credits" + (f", subscriptions suspended {terms.grace_days} days after an unpaid renewal"
                                         if terms.grace_days != DEFAULT_GRACE_DAYS else "")
    return (f"monthly invoice, credit limit {format_credits(terms.credit_limit)}, "
            f"due in {terms.due_days} days")


async def unpaid_total(conn: AsyncConnection, org_id: int) -> Decimal:
    """What the organization owes on its drafts and finalized, unpaid invoices."""
    owed = await conn.scalar(
        select(func.coalesce(func.sum(invoices.c.total - invoices.c.paid), 0))
        .where(invoices.c.org_id == org_id, invoices.c.status.in_(UNPAID))
    )
    return from_hundredths(int(owed or 0))


# -- quoting and paying for an order ---------------------------------------------------------

async def _payment(tx: Tx, balance: Decimal, cost: Decimal, purchase: Purchase | None) -> Payment:
    paying = await payer(tx)
    terms = await terms_of(tx.conn, paying.org_id)
    monthly = terms.terms is PaymentTerms.MONTHLY
    unpaid = await unpaid_total(tx.conn, paying.org_id) if monthly else ZERO
    month = (await _invoice_month(paying))[0] if monthly else tx.today
    return _paid_by(tx, paying, payment_for(terms, balance=balance, unpaid=unpaid, cost=cost,
                                            pay_from_credits=bool(purchase and purchase.pay_from_credits),
                                            month=month))


def _paid_by(tx: Tx, paying: Tx, payment: Payment) -> Payment:
    """A child account's review says who pays: its parent, from the parent's credits or invoice."""
    if paying is tx:
        return payment
    return payment.model_copy(update={"summary": f"Paid by {paying.actor.org_name}: {payment.summary}"})


# -- reseller discounts and coupons: applied here, once, for every paid change ---------------

@dataclass(frozen=True)
class Discounts:
    """The discount lines of an order, and the coupon they redeem (its id), or why it does not apply."""

    lines: tuple[PriceLine, ...] = ()
    coupon_id: int | None = None
    refusal: str | None = None
    # A coupon's months on a renewal: each line on the object it comes off (billing run only).
    renewal_charges: tuple[Charge, ...] = ()


async def discounts_for(tx: Tx, lines: Sequence[PriceLine], purchase: Purchase | None,
                        *, coupon_allowed: bool = True) -> Discounts:
    """The organization's reseller discount on `lines`, then the purchase's coupon (if it applies)."""
    # The payer's reseller discount (a child account's parent's); a coupon is used once by the
    # organization that orders.
    reseller = await discounts.reseller_of(tx.conn, (await payer(tx)).org_id)
    code = purchase.coupon if purchase is not None and coupon_allowed else None
    coupon_id, coupon, refusal = None, None, None
    if code:
        found = await discounts.coupon_by_code(tx.conn, code)
        used = found is not None and await discounts.used_by(
            tx.conn, found[0], tx.org_id, await _redeemer(tx, found[1], purchase))
        product_ids = [line.product_id for line in lines if line.product_id is not None and line.amount > 0]
        refusal = coupon_refusal(found[1] if found else None, code, tx.today, used, product_ids)
        if refusal is None and found is not None:
            coupon_id, coupon = found
    if not reseller and coupon is None:
        return Discounts(refusal=refusal)
    return Discounts(tuple(discount_lines(lines, reseller, coupon)), coupon_id, refusal)


async def _redeemer(tx: Tx, coupon: Coupon, purchase: Purchase | None) -> int:
    """Who a quote's use of the coupon would count for: the organization, or the customer the
    order is for when the coupon is once per customer (an order that names its customer's
    email; a change of a license or subscription is checked when it is placed)."""
    email = getattr(purchase, "customer_email", None)
    if coupon.once_per is not OncePer.CUSTOMER or not email:
        return discounts.WHOLE_ORGANIZATION
    found = await tx.conn.scalar(select(customers.c.id).where(customers.c.org_id == tx.org_id,
                                                              customers.c.email == customer_email(email)))
    return discounts.WHOLE_ORGANIZATION if found is None else int(found)


async def quote(tx: Tx, lines: list[PriceLine], purchase: Purchase | None = None) -> Quote:
    """What the order costs and how it would be paid now; changes nothing. A coupon that does
    not apply is left out, and the quote says why (the order itself would be refused)."""
    balance = await credits.balance_of(tx.conn, (await payer(tx)).org_id)
    off = await discounts_for(tx, lines, purchase)
    built = Quote.build([*lines, *off.lines], balance).model_copy(update={"coupon_refusal": off.refusal})
    payment = await _payment(tx, balance, built.cost, purchase)
    if payment.method is PaymentMethod.INVOICE:
        # On the invoice the balance is untouched; what can refuse it is the credit limit.
        return built.model_copy(update={"payment": payment, "balance_after": balance,
                                        "affordable": payment.over_limit == 0, "shortfall": ZERO})
    return built.model_copy(update={"payment": payment})


@dataclass(frozen=True)
class Settlement:
    """How an order is paid, decided under the organization's lock before anything changes."""

    payment: Payment
    cost: Decimal  # after its discounts
    discounts: Discounts = Discounts()


async def settle(tx: Tx, balance: Decimal, lines: Sequence[PriceLine], purchase: Purchase | None) -> Settlement:
    """Refuse the order (a coupon that does not apply, not enough credits, or past the credit
    limit) or say how it is paid, its discounts taken off.

    Call after credits.lock_balance() in the transaction that makes the change."""
    off = await discounts_for(tx, lines, purchase)
    if off.refusal is not None:
        raise ValidationFailed(off.refusal + " Nothing was ordered; remove the coupon or give another.",
                               {"coupon": off.refusal})
    cost = total(lines) + total(off.lines)
    payment = await _payment(tx, balance, cost, purchase)
    if cost <= 0:  # free (a trial, fewer channels): nothing to refuse
        pass
    elif payment.method is PaymentMethod.CREDITS:
        if cost > balance:
            raise credits.insufficient(balance, cost)
    elif payment.over_limit > 0:
        assert payment.unpaid_after is not None and payment.credit_limit is not None
        over = payment.over_limit
        raise CreditLimitReached(
            f"This order of {format_credits(cost)} would take the unpaid total to "
            f"{format_credits(payment.unpaid_after)}, {format_credits(over)} over the credit limit of "
            f"{format_credits(payment.credit_limit)}. Nothing was ordered; pay an open invoice, "
            + ("pay this order from credits, " if payment.may_pay_from_credits else "")
            + "or make the order smaller.",
            {"cost": f"{cost:.2f}", "unpaid_after": f"{payment.unpaid_after:.2f}",
             "credit_limit": f"{payment.credit_limit:.2f}", "over": f"{over:.2f}"},
        )
    return Settlement(payment=payment, cost=cost, discounts=off)


async def settle_arrears(tx: Tx, balance: Decimal, charges: Sequence[Charge], month: date) -> Settlement:
    """How the billing run pays what was used or renewed: never refused. From credits when the
    organization is prepaid and has enough; otherwise on `month`'s invoice (or the next open
    one), whatever the credit limit, to be paid when it is finalized. The reseller discount
    applies; a coupon comes back only for the months it was made for (`coupons.months`), on
    the object it was redeemed on: a once coupon was used at the order."""
    lines = [charge.line for charge in charges]
    off = await discounts_for(tx, lines, None, coupon_allowed=False)
    renewal = await _coupon_months(tx, charges)
    if renewal:
        off = Discounts(off.lines, refusal=off.refusal, renewal_charges=renewal)
    cost = total(lines) + total(off.lines) + total([charge.line for charge in renewal])
    paying = await payer(tx)
    terms = await terms_of(tx.conn, paying.org_id)
    if terms.terms is PaymentTerms.PREPAID and cost <= balance:
        return Settlement(payment=_paid_by(tx, paying, payment_for(
            terms, balance=balance, unpaid=ZERO, cost=cost, pay_from_credits=False, month=month)),
            cost=cost, discounts=off)
    invoiced = terms.model_copy(update={"terms": PaymentTerms.MONTHLY})
    unpaid = await unpaid_total(tx.conn, paying.org_id)
    return Settlement(payment=_paid_by(tx, paying, payment_for(
        invoiced, balance=balance, unpaid=unpaid, cost=cost, pay_from_credits=False,
        month=(await _invoice_month(paying, month))[0])), cost=cost, discounts=off)


async def _coupon_months(tx: Tx, charges: Sequence[Charge]) -> tuple[Charge, ...]:
    """The coupon lines of the charges whose object was bought with a coupon for M months, for a
    period that starts within those months of its redemption: each its own line on that object,
    on what the object costs after the reseller discount (domain.discounts). The billing run
    claims each object's period once (`claim`), so no period gets it twice."""
    wanted = {(charge.object_type, charge.object_id) for charge in charges if charge.service_start is not None}
    if not wanted:
        return ()
    rows = (await tx.conn.execute(
        select(coupon_redemptions.c.object_type, coupon_redemptions.c.object_id, coupon_redemptions.c.redeemed_at,
               coupons).select_from(coupon_redemptions.join(coupons, coupons.c.id == coupon_redemptions.c.coupon_id))
        .where(coupon_redemptions.c.org_id == tx.org_id, coupons.c.months.is_not(None),
               coupon_redemptions.c.object_type.in_(sorted({kind for kind, _ in wanted})),
               among(tx.conn, coupon_redemptions.c.object_id, sorted({object_id for _, object_id in wanted})))
    )).all()
    if not rows:
        return ()
    # The payer's discount (a child account's parent's), as every quote takes it.
    reseller = await discounts.reseller_of(tx.conn, (await payer(tx)).org_id)
    found = {(row.object_type, row.object_id): row for row in rows}
    out: list[Charge] = []
    for charge in charges:
        row = found.get((charge.object_type, charge.object_id))
        if row is None or charge.service_start is None:
            continue
        coupon = discounts.coupon_from_row(row)
        since = row.redeemed_at.date()
        if not charge.service_start < add_months(since, coupon.months or 0):
            continue
        for line in discount_lines([charge.line], reseller, coupon):
            if line.product_id is None:  # the coupon's line (the reseller's names its product)
                out.append(Charge(line.model_copy(update={
                    "description": f"Coupon {coupon.code}: {coupon.words()} from {since.isoformat()}"}),
                    charge.object_type, charge.object_id, charge.service_start, charge.service_end))
    return tuple(out)


async def can_pay_now(tx: Tx, balance: Decimal, cost: Decimal) -> bool:
    """Whether a renewal of `cost` can be paid now: a monthly organization puts it on the
    invoice; a prepaid one needs the credits."""
    terms = await terms_of(tx.conn, (await payer(tx)).org_id)
    return terms.terms is PaymentTerms.MONTHLY or cost <= balance


async def claim(tx: Tx, kind: str, object_id: int, period: str) -> bool:
    """Claim one period's billing of an object for this transaction; False when it was billed
    already (by an earlier run, or another instance that got there first)."""
    make = postgresql_insert if tx.conn.dialect.name == "postgresql" else sqlite_insert
    done = await tx.conn.execute(make(billing_claims).values(
        kind=kind, object_id=object_id, period=period, org_id=tx.org_id, done_at=tx.now,
    ).on_conflict_do_nothing().returning(billing_claims.c.object_id))
    return done.first() is not None


async def claim_many(tx: Tx, kind: str, object_ids: Sequence[int], period: str) -> list[int]:
    """claim() for many objects in one statement: the ids this transaction claimed."""
    if not object_ids:
        return []
    make = postgresql_insert if tx.conn.dialect.name == "postgresql" else sqlite_insert
    done = await tx.conn.execute(make(billing_claims).values([
        {"kind": kind, "object_id": object_id, "period": period, "org_id": tx.org_id, "done_at": tx.now}
        for object_id in object_ids
    ]).on_conflict_do_nothing().returning(billing_claims.c.object_id))
    return sorted(int(object_id) for object_id in done.scalars())


@dataclass(frozen=True)
class Charge:
    """One line of an order and what it paid for."""

    line: PriceLine
    object_type: str
    object_id: int
    service_start: date | None = None
    service_end: date | None = None


async def place(
    tx: Tx,
    settlement: Settlement,
    kind: OrderKind,
    charges: Sequence[Charge],
    ledger: Sequence[LedgerRow],
    purchase: Purchase | None,
    *,
    month: date | None = None,
) -> int | None:
    """Write the order and pay it as settled: the ledger entries (credits) or the month's
    invoice (`month`'s, for what the billing run bills in arrears, while its draft is open).
    A free change is no order; returns the order's id. A child account's order is its
    parent's, naming the child (`for_org_id`, and the reference name)."""
    if not charges or all(charge.line.amount == 0 for charge in charges):
        return None
    paying = await payer(tx)
    cost = settlement.cost
    off = settlement.discounts
    if off.lines or off.renewal_charges:
        # Each discount is its own line, on the first object it discounts (the coupon's, on the
        # order's first), and the debits are what was paid after it.
        first = charges[0]
        charges = [*charges, *(
            Charge(line, *next(((charge.object_type, charge.object_id) for charge in charges
                                if line.product_id is not None and charge.line.product_id == line.product_id),
                               (first.object_type, first.object_id)), first.service_start, first.service_end)
            for line in off.lines), *off.renewal_charges]  # a coupon's months: after the reseller's, as at the order
        # Callers that debit `settlement.cost` paid the discounted price already; the others
        # debit each object its catalog price, and the difference comes off those debits.
        ledger = _less_discount(ledger, -sum((entry[0] for entry in ledger), ZERO) - cost)
    if settlement.payment.method is PaymentMethod.CREDITS:
        await credits.post_many(paying, [entry for entry in ledger if entry[0] != 0])
        number = await next_number(tx.conn, tx.today)
        invoice_id = (await tx.conn.execute(insert(invoices).values(
            org_id=paying.org_id, kind=InvoiceKind.ORDER.value, status=InvoiceStatus.PAID.value,
            period_start=tx.today, period_end=tx.today, number=number, issued_on=tx.today, due_on=tx.today,
            total=to_hundredths(cost), paid=to_hundredths(cost), paid_at=tx.now, created_at=tx.now,
        ).returning(invoices.c.id))).scalar_one()
    else:
        invoice_id = await _open_invoice(paying, month)
        await tx.conn.execute(update(invoices).where(invoices.c.id == invoice_id)
                              .values(total=invoices.c.total + to_hundredths(cost)))
    order_id = (await tx.conn.execute(insert(orders).values(
        org_id=paying.org_id, for_org_id=paid_for(tx), kind=kind.value, placed_at=tx.now,
        placed_by_id=tx.actor.user_id, placed_by=tx.actor.login,
        reference_name=_reference_name(tx, paying, purchase),
        po_number=purchase.po_number if purchase else None, paid_with=settlement.payment.method.value,
        total=to_hundredths(cost), invoice_id=invoice_id,
    ).returning(orders.c.id))).scalar_one()
    await tx.conn.execute(insert(order_lines), [
        {"order_id": order_id, "position": position, "description": charge.line.description[:500],
         "quantity": charge.line.quantity, "unit_price": to_hundredths(charge.line.unit_price), "discount": 0,
         "amount": to_hundredths(charge.line.amount), "service_start": charge.service_start,
         "service_end": charge.service_end, "object_type": charge.object_type, "object_id": charge.object_id}
        for position, charge in enumerate(charges, start=1)
    ])
    if off.coupon_id is not None:
        await _redeem(tx, off.coupon_id, order_id, charges[0])
    return order_id


def _reference_name(tx: Tx, paying: Tx, purchase: Purchase | None) -> str | None:
    """The order's reference name; a child's order, on its parent's invoice, names the child first."""
    given = purchase.reference_name if purchase else None
    if paying is tx:
        return given
    return (f"{tx.actor.org_name}: {given}" if given else tx.actor.org_name)[:MAX_REFERENCE_NAME]


def net_of_discounts(amounts: Sequence[Decimal], settlement: Settlement) -> list[Decimal]:
    """What each object of an order paid once its discounts are taken off, from the first on
    (as the ledger says): for a batch that records each object's price (a license's `paid`,
    which its refund gives back)."""
    left = sum(amounts, ZERO) - settlement.cost
    paid: list[Decimal] = []
    for amount in amounts:
        taken = min(left, amount) if left > 0 and amount > 0 else ZERO
        paid.append(amount - taken)
        left -= taken
    return paid


def _less_discount(ledger: Sequence[LedgerRow], discount: Decimal) -> list[LedgerRow]:
    """The debits less `discount`, taken from the first debits on: the ledger says what was paid."""
    left = discount
    out: list[LedgerRow] = []
    for amount, reason, object_type, object_id, memo in ledger:
        if left > 0 and amount < 0:
            taken = min(left, -amount)
            amount, left = amount + taken, left - taken
        out.append((amount, reason, object_type, object_id, memo))
    return out


async def _redeem(tx: Tx, coupon_id: int, order_id: int, paid_for: Charge) -> None:
    """Count the coupon's use in the order's transaction. The conditional update waits on the
    coupon's row and counts only while uses are left, so N instances never redeem more than the
    coupon has; the primary key refuses a second use by the organization, or by the order's
    customer for a coupon once per customer. The use remembers what the order paid for first:
    a coupon for M months comes off that object's renewals."""
    counted = await tx.conn.execute(update(coupons).where(
        coupons.c.id == coupon_id,
        or_(coupons.c.max_redemptions.is_(None), coupons.c.redeemed < coupons.c.max_redemptions),
    ).values(redeemed=coupons.c.redeemed + 1).returning(coupons.c.code, coupons.c.once_per))
    counted_row = counted.first()
    if counted_row is None:
        code = await tx.conn.scalar(select(coupons.c.code).where(coupons.c.id == coupon_id))
        raise Conflict(f"Coupon {code} was used up while you ordered. Nothing was ordered; order without it "
                       "or give another.", {"coupon": "used up"})
    code = counted_row.code
    customer_id = discounts.WHOLE_ORGANIZATION
    if counted_row.once_per == OncePer.CUSTOMER.value:
        customer_id = await _customer_of(tx, paid_for)
    make = postgresql_insert if tx.conn.dialect.name == "postgresql" else sqlite_insert
    added = await tx.conn.execute(make(coupon_redemptions).values(
        coupon_id=coupon_id, org_id=tx.org_id, customer_id=customer_id, order_id=order_id, redeemed_at=tx.now,
        object_type=paid_for.object_type, object_id=paid_for.object_id,
    ).on_conflict_do_nothing().returning(coupon_redemptions.c.order_id))
    inserted = added.first() is not None
    if not inserted and customer_id != discounts.WHOLE_ORGANIZATION:
        raise Conflict(f"This customer has used coupon {code} already; it can be used once per customer. Nothing "
                       "was ordered.", {"coupon": "used by this customer"})
    if not inserted:
        raise Conflict(f"Your organization has used coupon {code} already; it can be used once. Nothing was "
                       "ordered.", {"coupon": "used by your organization"})


async def _customer_of(tx: Tx, paid_for: Charge) -> int:
    """The customer of what the order paid for (a license or a subscription), or the
    organization as a whole when it has none."""
    table = {"license": licenses, "subscription": subscriptions}.get(paid_for.object_type)
    if table is None:
        return discounts.WHOLE_ORGANIZATION
    found = await tx.conn.scalar(select(table.c.customer_id).where(table.c.id == paid_for.object_id,
                                                                   table.c.org_id == tx.org_id))
    return discounts.WHOLE_ORGANIZATION if found is None else int(found)


async def _invoice_month(tx: Tx, month: date | None = None) -> tuple[date, int | None]:
    """The month an order placed now (or billed for `month`) is invoiced in, and its draft if
    there is one yet. A month an operator already billed (`billing run --as-of` a later date)
    is closed: its orders go on the next month's draft."""
    month = month_start(month or tx.today)
    while True:
        found = (await tx.conn.execute(select(invoices.c.id, invoices.c.status).where(
            invoices.c.org_id == tx.org_id, invoices.c.period_key == period_key(month)))).first()
        if found is None:
            return month, None
        if found.status == InvoiceStatus.DRAFT.value:
            return month, int(found.id)
        month = month_end(month) + timedelta(days=1)


async def _open_invoice(tx: Tx, month: date | None = None) -> int:
    """The organization's draft of the month, made on its first order (under the org lock)."""
    month, draft = await _invoice_month(tx, month)
    if draft is not None:
        return draft
    return int((await tx.conn.execute(insert(invoices).values(
        org_id=tx.org_id, kind=InvoiceKind.SUMMARY.value, status=InvoiceStatus.DRAFT.value, period_key=period_key(month),
        period_start=month, period_end=month_end(month), created_at=tx.now,
    ).returning(invoices.c.id))).scalar_one())


async def take_numbers(conn: AsyncConnection, count: int) -> int:
    """Reserve the next `count` numbers of the series for this transaction; the last of them.

    The row is made on first use (not by the migration, so a new database stays empty for
    `seattui db copy`); two instances making it at once both go on with the one row."""
    for _ in range(2):
        last = await conn.scalar(
            update(invoice_series).where(invoice_series.c.name == SERIES)
            .values(last_number=invoice_series.c.last_number + count).returning(invoice_series.c.last_number)
        )
        if last is not None:
            return int(last)
        make = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
        await conn.execute(make(invoice_series).values(name=SERIES, last_number=0).on_conflict_do_nothing())
    raise RuntimeError("the invoice series row could not be made")


async def next_number(conn: AsyncConnection, issued_on: date) -> str:
    """The next number of the portal's one series; held by this transaction until it ends."""
    return invoice_number(issued_on.year, await take_numbers(conn, 1))


# -- refunds: as the catalog's policy says, to credits or as a credit note --------------------

@dataclass(frozen=True)
class Refund:
    """What deleting one paid license gives back: the review's line, and how it is paid."""

    license_id: int
    line: PriceLine  # a negative amount, or zero with the reason it is not refundable
    credits_back: Decimal
    credit_note: Decimal


async def refunds_for(tx: Tx, found: Sequence[License], what: dict[int, str]) -> list[Refund]:
    """The refund of each paid license under its product's refund policy. What was put on a
    monthly invoice comes back as a credit note on this month's invoice; the rest as credits."""
    paid = [license for license in found if license.paid]
    activated = await ever_activated(tx, [license.id for license in paid])
    invoiced = dict((await tx.conn.execute(
        select(order_lines.c.object_id, func.sum(order_lines.c.amount))
        .select_from(order_lines.join(orders, orders.c.id == order_lines.c.order_id))
        .where(orders.c.org_id == (await payer(tx)).org_id, orders.c.paid_with == PaymentMethod.INVOICE.value,
               order_lines.c.object_type == "license", order_lines.c.object_id.in_([license.id for license in paid]))
        .group_by(order_lines.c.object_id)
    )).all()) if paid else {}
    month = month_name(tx.today).split()[0]
    refunds = []
    for license in found:
        if not license.paid:  # said too, so the confirmation names every license it deletes
            why = "a trial is free" if license.term is Term.TRIAL else "nothing was paid for it"
            refunds.append(Refund(license.id, PriceLine(
                description=f"Nothing to refund of license {license.id}: {what[license.id]}: {why}",
                quantity=1, unit_price=ZERO, amount=ZERO), ZERO, ZERO))
            continue
        product = tx.catalog.find(license.product_id)
        policy = product.refund_policy(license.term.value) if product else None
        refusal = policy.refusal(bought_on=license.created_at.date(), today=tx.today,
                                 activated=license.id in activated) if policy else None
        if refusal and license.term is Term.ANNUAL and policy is not None and policy.days == 0:
            refusal = "not refundable: an annual plan is billed in full and never refunded"
        if refusal:
            line = PriceLine(description=f"No refund of license {license.id}: {what[license.id]}: {refusal}",
                             quantity=1, unit_price=ZERO, amount=ZERO)
            refunds.append(Refund(license.id, line, ZERO, ZERO))
            continue
        note = min(from_hundredths(int(invoiced.get(license.id) or 0)), license.paid)
        back = license.paid - note
        how = (f" (credit note on the {month} invoice)" if note and not back
               else f" ({format_credits(note)} as a credit note on the {month} invoice)" if note else "")
        line = PriceLine(description=f"Refund of license {license.id}: {what[license.id]}{how}", quantity=1,
                         unit_price=-license.paid, amount=-license.paid)
        refunds.append(Refund(license.id, line, back, note))
    return refunds


async def refund(tx: Tx, refunds: Sequence[Refund]) -> Decimal:
    """Pay the refunds (under credits.lock_balance): credits back in the ledger, credit notes as
    one order on this month's invoice. Returns the balance after."""
    ledger: list[LedgerRow] = [(item.credits_back, LedgerReason.REFUND, "license", item.license_id,
                                item.line.description) for item in refunds if item.credits_back]
    paying = await payer(tx)
    balance = await credits.post_many(paying, ledger)
    notes = [item for item in refunds if item.credit_note]
    if notes:
        invoice_id = await _open_invoice(paying)
        amount = -sum((item.credit_note for item in notes), ZERO)
        await tx.conn.execute(update(invoices).where(invoices.c.id == invoice_id)
                              .values(total=invoices.c.total + to_hundredths(amount)))
        order_id = (await tx.conn.execute(insert(orders).values(
            org_id=paying.org_id, for_org_id=paid_for(tx), reference_name=_reference_name(tx, paying, None),
            kind=OrderKind.CREDIT_NOTE.value, placed_at=tx.now, placed_by_id=tx.actor.user_id,
            placed_by=tx.actor.login, paid_with=PaymentMethod.INVOICE.value, total=to_hundredths(amount),
            invoice_id=invoice_id,
        ).returning(orders.c.id))).scalar_one()
        await tx.conn.execute(insert(order_lines), [
            {"order_id": order_id, "position": position, "description": item.line.description[:500], "quantity": 1,
             "unit_price": -to_hundredths(item.credit_note), "discount": 0, "amount": -to_hundredths(item.credit_note),
             "service_start": tx.today, "service_end": tx.today, "object_type": "license",
             "object_id": item.license_id}
            for position, item in enumerate(notes, start=1)
        ])
    return balance


# -- reading orders and invoices -------------------------------------------------------------

def _line(row: Any) -> OrderLine:
    return OrderLine(
        description=row.description, quantity=row.quantity, unit_price=from_hundredths(row.unit_price),
        discount=from_hundredths(row.discount), amount=from_hundredths(row.amount),
        service_start=row.service_start, service_end=row.service_end, object_type=row.object_type,
        object_id=row.object_id,
    )


async def _lines_of(conn: AsyncConnection, order_ids: list[int]) -> dict[int, list[OrderLine]]:
    found: dict[int, list[OrderLine]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        rows = (await conn.execute(select(order_lines).where(order_lines.c.order_id.in_(order_ids))
                                   .order_by(order_lines.c.order_id, order_lines.c.position))).all()
        for row in rows:
            found[row.order_id].append(_line(row))
    return found


def _order_query(tx: Tx) -> Any:
    return (select(orders, invoices.c.number.label("invoice_number"))
            .select_from(orders.join(invoices, invoices.c.id == orders.c.invoice_id))
            .where(orders.c.org_id == tx.org_id))


def _order(row: Any, lines: list[OrderLine]) -> Order:
    return Order(
        id=row.id, kind=OrderKind(row.kind), placed_at=row.placed_at, placed_by=row.placed_by,
        reference_name=row.reference_name, po_number=row.po_number, paid_with=PaymentMethod(row.paid_with),
        total=from_hundredths(row.total), invoice_number=row.invoice_number, lines=lines,
    )


async def list_orders(tx: Tx, *, cursor: str | None, limit: int, wanted: OrderFilter | None = None) -> Page[Order]:
    """The organization's orders, newest first, with their lines, filtered by days, kind and text."""
    wanted = wanted or OrderFilter()
    conditions = on_days(orders.c.placed_at, wanted.since, wanted.until)
    if wanted.kind is not None:
        conditions.append(orders.c.kind == wanted.kind.value)
    if wanted.q:
        # No index finds a substring: checked on each order as the page walks the time index.
        described = exists().where(order_lines.c.order_id == orders.c.id,
                                   containing(tx.conn, (order_lines.c.description,), wanted.q))
        named = containing(tx.conn, (orders.c.reference_name, orders.c.po_number, orders.c.placed_by,
                                     invoices.c.number), wanted.q)
        conditions.append(along_the_sort(or_(named, described)))
    page = await keyset_page(tx.conn, _order_query(tx).where(*conditions), sort=orders.c.placed_at,
                             id_column=orders.c.id, descending=True, cursor=cursor, limit=limit,
                             convert=lambda row: row)
    lines = await _lines_of(tx.conn, [row.id for row in page.items])
    return Page[Order](items=[_order(row, lines[row.id]) for row in page.items], next_cursor=page.next_cursor)


async def get_order(tx: Tx, order_id: int) -> Order:
    row = (await tx.conn.execute(_order_query(tx).where(orders.c.id == order_id))).first()
    if row is None:
        raise NotFound(f"There is no order {order_id}.", {"order_id": order_id})
    return _order(row, (await _lines_of(tx.conn, [order_id]))[order_id])


def _invoice(row: Any, today: date, lines: list[InvoiceLine] | None = None) -> Invoice:
    status = InvoiceStatus(row.status)
    return Invoice(
        id=row.id, number=row.number, kind=InvoiceKind(row.kind), status=status,
        period_start=row.period_start, period_end=row.period_end, issued_on=row.issued_on, due_on=row.due_on,
        total=from_hundredths(row.total), paid=from_hundredths(row.paid),
        due=from_hundredths(row.total - row.paid), paid_at=row.paid_at,
        overdue=status is InvoiceStatus.OPEN and row.due_on is not None and row.due_on < today,
        lines=lines or [],
    )


def _invoice_sort(sort: InvoiceSort) -> Any:
    # Paid invoices always have a number; each sort has its (org_id, key, id) index.
    return {InvoiceSort.NEWEST: invoices.c.id, InvoiceSort.NUMBER: invoices.c.number,
            InvoiceSort.TOTAL: invoices.c.total}[sort]


def _unpaid_order(invoice: Invoice, sort: InvoiceSort) -> tuple[Any, ...]:
    if sort is InvoiceSort.NUMBER:
        return (invoice.number or "~", invoice.id)  # drafts (no number yet) after the numbered
    if sort is InvoiceSort.TOTAL:
        return (invoice.total, invoice.id)
    return (invoice.period_start, invoice.id)


async def list_invoices(tx: Tx, *, unpaid: bool = False, cursor: str | None = None, limit: int = 100,
                        text: str | None = None, sort: InvoiceSort = InvoiceSort.NEWEST,
                        descending: bool = False) -> Page[Invoice]:
    """The first page holds every unpaid invoice (drafts and finalized, a few: oldest month
    first unless sorted otherwise), then the paid ones, newest first or by `sort`, paged.
    `text` keeps the invoices whose number holds it."""
    base = select(invoices).where(invoices.c.org_id == tx.org_id)
    wanted = (text or "").strip().upper()[:20]
    if wanted:
        escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        base = base.where(along_the_sort(invoices.c.number.like(f"%{escaped}%", escape="\\")))
    first: list[Invoice] = []
    if cursor is None:
        rows = (await tx.conn.execute(base.where(invoices.c.status.in_(UNPAID))
                                      .order_by(invoices.c.period_start, invoices.c.id))).all()
        first = [_invoice(row, tx.today) for row in rows]
        if sort is not InvoiceSort.NEWEST or descending:
            first.sort(key=lambda invoice: _unpaid_order(invoice, sort), reverse=descending)
    if unpaid:
        return Page[Invoice](items=first, next_cursor=None)
    paid_only = base.where(invoices.c.status == InvoiceStatus.PAID.value)
    if sort is InvoiceSort.NEWEST and not descending:
        paid = await id_cursor_page(tx.conn, paid_only, invoices.c.id, cursor, limit,
                                    lambda row: _invoice(row, tx.today))
    else:
        # NEWEST reversed is oldest first; the others ascend unless reversed.
        paid = await keyset_page(tx.conn, paid_only, sort=_invoice_sort(sort), id_column=invoices.c.id,
                                 descending=descending if sort is not InvoiceSort.NEWEST else False,
                                 cursor=cursor, limit=limit, convert=lambda row: _invoice(row, tx.today))
    return Page[Invoice](items=first + paid.items, next_cursor=paid.next_cursor)


async def _find_invoice(tx: Tx, reference: str, *, lock: bool = False) -> Any:
    """An invoice by its number, or a draft (which has none yet) by its id."""
    query = select(invoices).where(invoices.c.org_id == tx.org_id)
    cleaned = reference.strip().upper()
    if cleaned.isascii() and cleaned.isdigit():
        # A draft's id; one past what the store can hold is no invoice (never an overflow).
        draft_id = int(cleaned)
        query = query.where(invoices.c.id == draft_id) if 1 <= draft_id <= MAX_RECORD_ID else query.where(false())
    else:
        query = query.where(invoices.c.number == cleaned[:20])
    row = (await tx.conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"There is no invoice {reference[:40]}; `seattui invoices` lists them.",
                       {"invoice": reference[:40]})
    return row


async def get_invoice(tx: Tx, reference: str) -> Invoice:
    """An invoice with its lines: every line of every order on it."""
    row = await _find_invoice(tx, reference)
    placed = (await tx.conn.execute(select(orders.c.id, orders.c.reference_name)
                                    .where(orders.c.invoice_id == row.id).order_by(orders.c.id))).all()
    lines = await _lines_of(tx.conn, [order.id for order in placed])
    return _invoice(row, tx.today, [
        InvoiceLine(**line.model_dump(), order_id=order.id, reference_name=order.reference_name)
        for order in placed for line in lines[order.id]
    ])


async def pay_invoice(tx: Tx, reference: str) -> Invoice:
    """Pay a finalized invoice's whole amount from credits, in one transaction."""
    tx.actor.require(Permission.PURCHASE)
    balance = await credits.lock_balance(tx)
    row = await _find_invoice(tx, reference, lock=True)
    status = InvoiceStatus(row.status)
    if status is InvoiceStatus.PAID:
        raise Conflict(f"Invoice {row.number} is paid already.", {"invoice": row.number})
    if status is InvoiceStatus.DRAFT:
        raise Conflict(
            f"The {row.period_start:%B %Y} invoice is still a draft; it is finalized at the start of the "
            "next month and can be paid then.", {"invoice": row.id})
    due = from_hundredths(row.total - row.paid)
    if due > balance:
        raise credits.insufficient(balance, due)
    if due > 0:
        await credits.post(tx, -due, LedgerReason.INVOICE, object_type="invoice", object_id=row.id,
                           memo=f"Invoice {row.number}")
    elif due < 0:  # a credit note larger than the month's orders: credited back
        await credits.post(tx, -due, LedgerReason.REFUND, object_type="invoice", object_id=row.id,
                           memo=f"Credit of invoice {row.number}")
    await tx.conn.execute(update(invoices).where(invoices.c.id == row.id)
                          .values(paid=row.total, status=InvoiceStatus.PAID.value, paid_at=tx.now))
    await audit.record(tx, "invoice.pay", "invoice", row.id,
                       f"Paid invoice {row.number}: {format_credits(due)} credits", {"amount": f"{due:.2f}"})
    return await get_invoice(tx, row.number)


# -- finalizing ------------------------------------------------------------------------------

async def drafts_to_finalize(conn: AsyncConnection, as_of: date, *, limit: int) -> list[tuple[int, str]]:
    """Drafts of months that ended before `as_of`'s month: (id, period key), oldest first."""
    rows = (await conn.execute(
        select(invoices.c.id, invoices.c.period_key)
        .where(invoices.c.status == InvoiceStatus.DRAFT.value, invoices.c.period_start < month_start(as_of))
        .order_by(invoices.c.period_start, invoices.c.id).limit(limit)
    )).all()
    return [(row.id, row.period_key) for row in rows]


# -- the invoice as a document (the PDF renderer takes these fields) -------------------------

async def document_fields(tx: Tx, reference: str) -> dict[str, Any]:
    """The fields of domain.invoice_document.InvoiceDocument for one finalized invoice."""
    invoice = await get_invoice(tx, reference)
    if invoice.number is None:
        raise Conflict("A draft has no document yet; it is finalized at the start of the next month.",
                       {"invoice": invoice.id})
    org = (await tx.conn.execute(select(organizations.c.name, organizations.c.parent_id)
                                 .where(organizations.c.id == tx.org_id))).one()
    seller = (await tx.conn.scalar(select(organizations.c.name).where(organizations.c.id == org.parent_id))
              if org.parent_id else None) or org.name
    po_numbers = (await tx.conn.execute(select(orders.c.po_number).where(
        orders.c.invoice_id == invoice.id, orders.c.po_number.is_not(None)).distinct())).scalars().all()
    subtotal = sum((line.amount + line.discount for line in invoice.lines), ZERO)
    return {
        "number": invoice.number, "issued_on": invoice.issued_on, "due_on": invoice.due_on,
        "period_start": invoice.period_start, "period_end": invoice.period_end,
        "po_number": ", ".join(sorted(po_numbers)) or None,
        "seller_name": seller, "seller_address": "", "buyer_name": org.name, "buyer_address": "",
        "summary": invoice.kind is InvoiceKind.SUMMARY,
        "lines": tuple(
            {"description": (f"{line.reference_name}: " if line.reference_name else "") + line.description,
             "service_start": line.service_start, "service_end": line.service_end, "quantity": line.quantity,
             "unit_price": line.unit_price, "discount": line.discount, "amount": line.amount}
            for line in invoice.lines
        ),
        "subtotal": subtotal, "total": invoice.total, "paid": invoice.paid, "due": invoice.due,
    }



async def invoice_document(tx: Tx, reference: str) -> InvoiceDocument:
    """The finalized invoice as its PDF shows it (a draft has none: Conflict)."""
    fields = await document_fields(tx, reference)
    lines = tuple(InvoiceDocumentLine(**{**line, "quantity": Decimal(line["quantity"])}) for line in fields["lines"])
    return InvoiceDocument(**{**fields, "lines": lines})


# -- the billing address, and invoices by mail -------------------------------------------

async def billing_contact(tx: Tx) -> BillingContact:
    address = await tx.conn.scalar(select(organizations.c.billing_email).where(organizations.c.id == tx.org_id))
    return BillingContact(billing_email=address)


async def set_billing_contact(tx: Tx, change: BillingContactChange) -> BillingContact:
    """An owner or admin sets (or clears) where the organization's invoices are emailed."""
    tx.actor.require(Permission.MANAGE_BILLING)
    before = await billing_contact(tx)
    address = outbox.mail_address(change.billing_email) if change.billing_email else None
    await tx.conn.execute(update(organizations).where(organizations.c.id == tx.org_id).values(billing_email=address))
    await audit.record(tx, "billing.contact", "organization", tx.org_id,
                       f"Billing address: {address or 'none'}",
                       {"before": before.billing_email, "after": address})
    return BillingContact(billing_email=address)


def _mail_text(document: InvoiceDocument) -> str:
    period = (f" for {document.period_start:%B %Y}" if document.summary and document.period_start else "")
    due = (f"{format_credits(document.due)} credits are due by {document.due_on:%Y-%m-%d}."
           if document.due > 0 else "It is paid; nothing is due.")
    return (f"Hello,\n\nattached is invoice {document.number}{period} from {document.seller_name} to "
            f"{document.buyer_name}, issued on {document.issued_on:%Y-%m-%d}: total "
            f"{format_credits(document.total)} credits. {due}\n")


async def email_invoice(tx: Tx, reference: str, to: str | None, drawn: InvoiceDocument | None = None,
                        pdf: bytes | None = None) -> InvoiceMailed:
    """Write the invoice's mail, its PDF attached, to the outbox in this transaction.

    `drawn` and `pdf` are the document and the PDF the caller rendered before the transaction
    (so the write lock is not held while it draws); drawn again here if the invoice changed since."""
    tx.actor.require(Permission.MANAGE_BILLING)
    document = await invoice_document(tx, reference)
    if pdf is None or drawn != document:
        pdf = render_invoice_pdf(document)
    address = to or (await billing_contact(tx)).billing_email
    if not address:
        raise ValidationFailed(
            "The organization has no billing address to email invoices to: give an address (--to), or "
            "let an owner or admin set one with `seattui billing-email ADDRESS`.", {"to": "required"})
    message_id = await outbox.enqueue(
        tx.conn, tx.org_id, address, f"Invoice {document.number}", _mail_text(document),
        attachments=[MailAttachment(invoice_filename(document.number), "application/pdf", pdf)],
        cause=f"invoice {document.number}", now=tx.now)
    sent_to = outbox.mail_address(address)
    row = await _find_invoice(tx, document.number)
    await audit.record(tx, "invoice.email", "invoice", row.id, f"Emailed invoice {document.number} to {sent_to}",
                       {"to": sent_to, "message_id": message_id})
    return InvoiceMailed(invoice=document.number, to=sent_to, message_id=message_id)
