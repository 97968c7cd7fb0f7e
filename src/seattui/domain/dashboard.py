"""The dashboard's figures, computed by the portal in one read so they agree with each other."""

from __future__ import annotations

from datetime import date

from seattui.domain.base import DomainModel
from seattui.domain.credits import CreditBalance, LedgerEntry

TRIALS_ENDING_DAYS = 7
SUPPORT_ENDING_DAYS = 30
RENEWING_DAYS = 7  # channel subscriptions and annual contracts that renew this soon


class ProductFigures(DomainModel):
    product_id: str
    product_name: str
    unit: str
    trials: int = 0
    permanent: int = 0
    seat_plans: int = 0
    activated: int = 0


class SubscriptionFigures(DomainModel):
    product_id: str
    product_name: str
    subscriptions: int
    channels: int


class Dashboard(DomainModel):
    today: date
    balance: CreditBalance
    recent_ledger: list[LedgerEntry]
    keys: int
    licenses: int
    by_product: list[ProductFigures]
    trials_ending: int  # live trials that end within TRIALS_ENDING_DAYS
    trials_ended: int
    support_ended: int
    support_ending: int  # permanent licenses whose support ends within SUPPORT_ENDING_DAYS
    subscriptions: list[SubscriptionFigures]
    employees: int
    # Channel subscriptions and annual contracts (not set to end) whose renewal is due within
    # RENEWING_DAYS; subscriptions suspended for an unpaid renewal. 0 from a portal before them.
    renewing: int = 0
    suspended: int = 0
