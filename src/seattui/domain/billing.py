"""Billing: orders, payment terms, invoices and how a quote would be paid. Pure: no I/O.

Every paid change is an order with lines. An organization pays prepaid (credits, at once)
or by monthly invoice up to a credit limit; an invoice is a draft until finalized, when it
takes the next number of the portal's one series (`INV-2026-000123`).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict, Field, field_validator

from seattui.domain.base import Count, Credits, DomainModel, PlainText
from seattui.domain.money import format_credits
from seattui.domain.paging import DatedFilter

MAX_PO_NUMBER = 80
MAX_REFERENCE_NAME = 120
DEFAULT_DUE_DAYS = 30
DEFAULT_GRACE_DAYS = 7
MAX_GRACE_DAYS = 90
MAX_DUE_DAYS = 365
INVOICE_PREFIX = "INV"


class PaymentTerms(StrEnum):
    PREPAID = "prepaid"
    MONTHLY = "monthly"


class BillingTerms(DomainModel):
    """How an organization pays, as the portal's operator set it."""

    model_config = ConfigDict(frozen=True)

    terms: PaymentTerms = PaymentTerms.PREPAID
    credit_limit: Credits = Decimal("0.00")
    due_days: Count = Field(default=DEFAULT_DUE_DAYS, ge=0, le=MAX_DUE_DAYS)
    # A prepaid subscription whose renewal is unpaid runs this many days before it is suspended.
    grace_days: Count = Field(default=DEFAULT_GRACE_DAYS, ge=0, le=MAX_GRACE_DAYS)


def _blank_is_none(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class Purchase(DomainModel):
    """What every paid request may add: how to pay, and the names shown on the invoice."""

    reference_name: PlainText | None = Field(default=None, max_length=MAX_REFERENCE_NAME)
    po_number: PlainText | None = Field(default=None, max_length=MAX_PO_NUMBER)
    # On monthly terms, pay this order from credits now instead of putting it on the invoice.
    pay_from_credits: bool = False
    # A coupon's code: its discount is a line of the order; a code that does not apply refuses it.
    coupon: PlainText | None = Field(default=None, max_length=40)

    @field_validator("reference_name", "po_number", "coupon", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return _blank_is_none(value)


class PaymentMethod(StrEnum):
    CREDITS = "credits"
    INVOICE = "invoice"


class Payment(DomainModel):
    """How a quoted order would be paid, in words the review step shows as they are."""

    method: PaymentMethod
    summary: str
    balance_after: Credits
    invoice_month: str | None = None  # "December 2026"
    unpaid_after: Credits | None = None
    credit_limit: Credits | None = None
    over_limit: Credits = Decimal("0.00")
    # Monthly terms with credits left: the request may set pay_from_credits instead.
    may_pay_from_credits: bool = False


def month_name(day: date) -> str:
    return f"{calendar.month_name[day.month]} {day.year}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_key(day: date) -> str:
    """The month an order placed on `day` is invoiced in: '2026-12'."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_month_start(day: date) -> date:
    first = month_start(day)
    return date(first.year - 1, 12, 1) if first.month == 1 else first.replace(month=first.month - 1)


def invoice_number(year: int, number: int) -> str:
    return f"{INVOICE_PREFIX}-{year:04d}-{number:06d}"


def paid_now(balance_after: Decimal) -> str:
    return f"Paid now from credits: balance after {format_credits(balance_after)}"


def on_invoice(month: str, unpaid_after: Decimal, limit: Decimal) -> str:
    """"On the December invoice: unpaid after 1,490.00, limit 5,000.00" (`month` as month_name())."""
    return (f"On the {month.split()[0]} invoice: unpaid after {format_credits(unpaid_after)}, "
            f"limit {format_credits(limit)}")


class OrderKind(StrEnum):
    PURCHASE = "purchase"
    UPGRADE = "upgrade"
    ADDON = "add-on"
    SUPPORT = "support"
    SUBSCRIPTION = "subscription"
    CHANNELS = "channels"
    SEATS = "seats"
    RENEWAL = "renewal"
    CREDIT_NOTE = "credit-note"


class OrderLine(DomainModel):
    model_config = ConfigDict(frozen=True)

    description: str
    quantity: int
    unit_price: Credits
    discount: Credits = Decimal("0.00")
    amount: Credits
    service_start: date | None = None
    service_end: date | None = None
    object_type: str | None = None
    object_id: int | None = None


class OrderFilter(DatedFilter):
    """The orders a page shows; `q` is found in the reference name, the PO number, the login
    who placed it, the invoice number or a line's description."""

    kind: OrderKind | None = None


class Order(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    kind: OrderKind
    placed_at: datetime
    placed_by: str
    reference_name: str | None = None
    po_number: str | None = None
    paid_with: PaymentMethod
    total: Credits
    invoice_number: str | None = None
    lines: list[OrderLine]


class InvoiceKind(StrEnum):
    ORDER = "order"  # a pay-on-order order: its own invoice, finalized and paid at once
    SUMMARY = "summary"  # the month's orders on monthly terms


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # finalized, not paid yet
    PAID = "paid"


class InvoiceLine(OrderLine):
    order_id: int
    reference_name: str | None = None


class Invoice(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    number: str | None  # none while a draft
    kind: InvoiceKind
    status: InvoiceStatus
    period_start: date
    period_end: date
    issued_on: date | None = None
    due_on: date | None = None
    total: Credits
    paid: Credits
    due: Credits
    paid_at: datetime | None = None
    overdue: bool = False
    lines: list[InvoiceLine] = Field(default_factory=list)


class InvoiceSort(StrEnum):
    """How the invoices list is ordered (the unpaid ones always come first)."""

    NEWEST = "newest"
    NUMBER = "number"
    TOTAL = "total"


MAX_EMAIL = 320


def invoice_filename(number: str) -> str:
    """The PDF's file name: INV-2026-000123.pdf."""
    return f"{number}.pdf"


class BillingContact(DomainModel):
    """Where the organization's invoices are emailed unless another address is given."""

    billing_email: str | None = None


class BillingContactChange(DomainModel):
    billing_email: PlainText | None = Field(default=None, max_length=MAX_EMAIL)  # None clears it

    @field_validator("billing_email", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return _blank_is_none(value)


class InvoiceEmail(DomainModel):
    """Email an invoice's PDF: to `to`, or else to the organization's billing address."""

    to: PlainText | None = Field(default=None, max_length=MAX_EMAIL)

    @field_validator("to", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return _blank_is_none(value)


class InvoiceMailed(DomainModel):
    """An invoice's mail, written to the outbox: delivered by the portal's mail task."""

    invoice: str
    to: str
    message_id: str


class BillingRunReport(DomainModel):
    """What one billing run did: the months it closed and the invoices it finalized."""

    as_of: date
    periods: list[str]
    finalized: list[str]  # invoice numbers
    already_billed: list[str]  # periods an earlier run (or another instance) closed
    seat_months: int = 0  # flexible plans' months billed by the seat-day
    renewed: int = 0  # annual terms and subscription months renewed (and paid or invoiced)
    suspended: int = 0  # subscriptions suspended: their renewal unpaid past the grace days
    ended: int = 0  # subscriptions cancelled at the end of their month that ended


def payment_for(
    terms: BillingTerms,
    *,
    balance: Decimal,
    unpaid: Decimal,
    cost: Decimal,
    pay_from_credits: bool,
    month: date,
) -> Payment:
    """How an order of `cost` is paid under `terms`, and whether it may be placed.

    Prepaid, or monthly with pay_from_credits: from credits now. Monthly otherwise: on the
    invoice of `month` (a day in it), up to the credit limit on what is unpaid (drafts and open invoices)."""
    has_credits = balance > 0
    if terms.terms is PaymentTerms.PREPAID or pay_from_credits:
        after = balance - cost
        return Payment(method=PaymentMethod.CREDITS, summary=paid_now(after), balance_after=after,
                       may_pay_from_credits=terms.terms is PaymentTerms.MONTHLY and has_credits)
    unpaid_after = unpaid + cost
    name = month_name(month)
    return Payment(
        method=PaymentMethod.INVOICE,
        summary=on_invoice(name, unpaid_after, terms.credit_limit),
        balance_after=balance,
        invoice_month=name,
        unpaid_after=unpaid_after,
        credit_limit=terms.credit_limit,
        over_limit=max(unpaid_after - terms.credit_limit, Decimal("0.00")),
        may_pay_from_credits=has_credits,
    )
