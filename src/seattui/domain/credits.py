"""The credit ledger: append-only entries; the balance is their sum."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict, Field, field_validator

from seattui.domain.money import CREDIT_UNIT
from seattui.domain.base import Credits, DomainModel, PlainText
from seattui.domain.paging import DatedFilter


class LedgerReason(StrEnum):
    GRANT = "grant"
    LICENSE = "license"
    UPGRADE = "upgrade"
    SUPPORT = "support"
    SUBSCRIPTION = "subscription"
    SEATS = "seats"
    REFUND = "refund"
    INVOICE = "invoice"  # an invoice paid from credits


class LedgerFilter(DatedFilter):
    """The ledger entries a page shows; `q` is found in the memo or the login who posted it."""

    reason: LedgerReason | None = None


class LedgerEntry(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    at: datetime
    amount: Credits  # positive adds credits, negative spends them
    balance_after: Credits
    reason: LedgerReason
    object_type: str | None = None
    object_id: int | None = None
    memo: str = ""
    actor: str | None = None


class CreditBalance(DomainModel):
    organization: str
    balance: Credits
    unit: str = CREDIT_UNIT


MAX_GRANT = Decimal("100000000")


class CreditGrant(DomainModel):
    """The vendor adds credits to a reseller organization."""

    # A JSON string ("250.00") or number, never true, NaN or 1e30.
    amount: Credits = Field(description="0.01 to 100000000.00 credits, at most two decimal places")
    memo: PlainText = Field(default="", max_length=500)

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("a grant adds credits: give an amount above zero")
        if value > MAX_GRANT:
            raise ValueError("a grant is at most 100,000,000 credits")
        return value


def running_balances(opening: Decimal, amounts: list[Decimal]) -> list[Decimal]:
    """The balance after each amount, in order; the ledger stores these beside the amounts."""
    balances = []
    balance = opening
    for amount in amounts:
        balance += amount
        balances.append(balance)
    return balances
