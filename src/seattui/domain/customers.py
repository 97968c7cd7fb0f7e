"""Customers: the people and companies an organization resells to. A customer is known by
email, unique in the organization whatever its case; assigning a license or subscription to
an email links it to that customer, creating the customer when the email is new."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import EmailStr, Field, StrictBool, field_validator

from seattui.domain.base import Credits, DomainModel, PlainText, RecordId
from seattui.domain.billing import OrderLine
from seattui.domain.csvfile import spreadsheet_text

MAX_CUSTOMER_NAME = 200
MAX_CUSTOMER_ADDRESS = 500
MAX_CUSTOMER_NOTES = 2000
MAX_CUSTOMER_FILTER = 200

# The columns of `seattui customers export` and the screen's export, in this order.
CSV_COLUMNS = ("email", "name", "company", "address", "licenses", "subscriptions", "spend_this_year", "notes",
               "created_at")


def customer_email(email: str) -> str:
    """The form an email is stored and matched in: trimmed and lower-cased (mail systems treat
    addresses case-blind in practice, and two records for ADA@ and ada@ would split a customer)."""
    return email.strip().lower()


class CustomerDetails(DomainModel):
    """What a person may change about a customer; the email is the customer, so it stays."""

    name: PlainText = Field(default="", max_length=MAX_CUSTOMER_NAME)
    company: PlainText = Field(default="", max_length=MAX_CUSTOMER_NAME)
    address: PlainText = Field(default="", max_length=MAX_CUSTOMER_ADDRESS,
                               description="one line, as printed on invoices")
    notes: PlainText = Field(default="", max_length=MAX_CUSTOMER_NOTES)

    @field_validator("name", "company", "address", "notes", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class NewCustomer(CustomerDetails):
    email: EmailStr

    @field_validator("email", mode="after")
    @classmethod
    def _stored_form(cls, value: str) -> str:
        return customer_email(value)


class Customer(DomainModel):
    id: int
    email: str
    name: str = ""
    company: str = ""
    address: str = ""
    notes: str = ""
    licenses: int = 0
    subscriptions: int = 0
    spend_this_year: Credits = Field(description="the orders for this customer's licenses and subscriptions "
                                                 "placed this calendar year, refunds deducted")
    created_at: datetime


class CustomerSort(StrEnum):
    EMAIL = "email"
    NAME = "name"
    COMPANY = "company"
    CREATED = "created"


class CustomerFilter(DomainModel):
    text: PlainText = Field(default="", max_length=MAX_CUSTOMER_FILTER,
                            description="words, each found in the email, name or company")


class CustomerLicense(DomainModel):
    """One of a customer's licenses or subscriptions, as the customer's detail lists them."""

    kind: str  # "license" or "subscription"
    id: RecordId
    key: str
    product_id: str
    what: str  # "RemoteDesk Standard permanent, 10 users", "Remote Support subscription, 2 channels"
    status: str


class CustomerOrderLine(OrderLine):
    """A line of an order for one of the customer's licenses or subscriptions."""

    order_id: int
    placed_at: datetime
    invoice_number: str | None = None


class CustomerDetail(DomainModel):
    customer: Customer
    holdings: list[CustomerLicense] = Field(description="the newest first, at most 200")
    lines: list[CustomerOrderLine] = Field(description="the newest first, at most 100")
    login: str | None = Field(default=None, description="the customer's own login, once they have made it")
    invited_until: datetime | None = Field(
        default=None, description="when the invitation into their own account (or the code for a new password) "
                                  "that waits for them expires")
    login_disabled_at: datetime | None = Field(
        default=None, description="since when the organization has disabled the customer's login")


class CustomerLogin(DomainModel):
    """A customer's own login as the organization controls it."""

    login: str
    disabled_at: datetime | None = Field(default=None, description="since when it is disabled; null: enabled")


def _cell(value: object) -> str:
    return spreadsheet_text(str(value))


def csv_row(customer: Customer) -> list[str]:
    """The customer as a row of CSV_COLUMNS."""
    values = customer.model_dump(mode="json")
    return [_cell(values[column]) for column in CSV_COLUMNS]


class CustomerMail(DomainModel):
    """The organization's choice of what customers are mailed when a license or subscription
    is assigned to them."""

    mail: bool = Field(default=True, description="mail the customer the product, the activation key and how "
                                                 "to activate it")
    attach_file: bool = Field(default=False, description="attach the signed license file to that mail")


class CustomerMailChange(DomainModel):
    """A change of the customer mail settings; what is left out (null) stays as it is."""

    mail: StrictBool | None = None
    attach_file: StrictBool | None = None
