"""Activation keys, licenses, devices and subscriptions, and the orders that create them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, EmailStr, Field, StrictBool, field_validator, model_validator

from seattui.domain.keys import KeyText, parse_key
from seattui.domain.base import Count, Credits, DomainModel, PlainText, RecordId
from seattui.domain.billing import Purchase
from seattui.domain.paging import Page

MAX_TRIAL_DAYS = 30
MAX_QUANTITY = 100_000
MAX_CHANNELS = 10_000
MAX_COMMENT = 1000
MAX_NAME = 120


class Term(StrEnum):
    TRIAL = "trial"
    PERMANENT = "permanent"
    FLEXIBLE = "flexible"  # seat products, billed by the day
    ANNUAL = "annual"  # seat products, a twelve-month contract


class Renewal(StrEnum):
    """What an annual contract does on its renewal date."""

    SAME = "same"  # renew with the seats of the contract
    ASSIGNED = "assigned"  # renew with the seats assigned that day
    END = "end"  # end at the term's end


class LicenseStatus(StrEnum):
    ASSIGNED = "assigned"  # on a key, not activated on a device
    ACTIVATED = "activated"
    TRIAL_ENDED = "trial_ended"
    TERM_ENDED = "term_ended"


class KeyName(DomainModel):
    name: PlainText = Field(default="", max_length=MAX_NAME)

    @field_validator("name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()


class NewActivationKey(KeyName):
    """A custom key is typed by the caller; without one the portal draws a random key."""

    key: str | None = None

    @field_validator("key")
    @classmethod
    def _valid_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return parse_key(value)


class ActivationKey(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    key: str
    name: str
    created_at: datetime
    license_count: int = 0
    subscription_count: int = 0

    @property
    def in_use(self) -> bool:
        return bool(self.license_count or self.subscription_count)


class KeySort(StrEnum):
    CREATED = "created"
    KEY = "key"
    NAME = "name"


class KeyHolds(StrEnum):
    """Which keys a list shows by what is attached to them."""

    LICENSES = "licenses"
    SUBSCRIPTIONS = "subscriptions"
    NOTHING = "nothing"


class Device(DomainModel):
    model_config = ConfigDict(frozen=True)

    fingerprint: str
    hostname: str
    activated_at: datetime


class License(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    key: str
    key_name: str = ""
    product_id: str
    edition_id: str | None
    addons: tuple[str, ...] = ()
    term: Term
    quantity: int
    status: LicenseStatus
    trial_ends_on: date | None = None
    support_ends_on: date | None = None
    term_ends_on: date | None = None
    seat_cap: int | None = None  # a flexible plan's purchase cap; an annual contract's maximum
    renewal: Renewal | None = None  # annual contracts
    customer_email: str | None = None
    comment: str = ""
    device: Device | None = None
    paid: Credits
    created_at: datetime


class _CustomerFields(DomainModel):
    customer_email: EmailStr | None = None
    comment: PlainText = Field(default="", max_length=MAX_COMMENT)

    @field_validator("customer_email", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value


class LicenseOrder(_CustomerFields, Purchase):
    """What the wizard asks for; the portal quotes it, then creates it against the credits."""

    key: KeyText
    product_id: PlainText = Field(min_length=1, max_length=64)
    edition_id: PlainText | None = Field(default=None, max_length=64)
    addons: tuple[PlainText, ...] = Field(default=(), max_length=20)
    term: Term
    trial_days: Count | None = Field(default=None, ge=1, le=MAX_TRIAL_DAYS)
    quantity: Count = Field(ge=1, le=MAX_QUANTITY)
    seat_cap: Count | None = Field(default=None, ge=1, le=MAX_QUANTITY)

    @model_validator(mode="after")
    def _trial_has_days(self) -> LicenseOrder:
        if self.term is Term.TRIAL and self.trial_days is None:
            raise ValueError(f"a trial needs trial_days between 1 and {MAX_TRIAL_DAYS}")
        if self.term is not Term.TRIAL and self.trial_days is not None:
            raise ValueError("trial_days is for trials only")
        if self.seat_cap is not None and self.seat_cap < self.quantity:
            raise ValueError("seat_cap must be at least the quantity")
        return self


class LicenseUpgrade(Purchase):
    """Edition up, quantity up, add-ons added, or a trial made permanent; never down."""

    edition_id: PlainText | None = Field(default=None, max_length=64)
    quantity: Count | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    addons: tuple[PlainText, ...] | None = Field(default=None, max_length=20)
    to_permanent: StrictBool = False


class LicenseEdit(_CustomerFields):
    pass


class Subscription(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    key: str
    product_id: str
    channels: int
    started_on: date
    period_ends_on: date
    customer_email: str | None = None
    comment: str = ""
    paid: Credits
    created_at: datetime
    status: str = "active"  # seat_plans.SubscriptionStatus
    unpaid_since: date | None = None  # a renewal not paid yet (prepaid, short of credits)
    ended_on: date | None = None


class KeyDetail(DomainModel):
    """A key with what is attached to it, newest first; `key` carries the full counts."""

    key: ActivationKey
    licenses: list[License]
    subscriptions: list[Subscription]


class SubscriptionOrder(_CustomerFields, Purchase):
    key: KeyText
    product_id: PlainText = Field(min_length=1, max_length=64)
    channels: Count = Field(ge=1, le=MAX_CHANNELS)


class SubscriptionChange(Purchase):
    channels: Count = Field(ge=1, le=MAX_CHANNELS)


class DeviceRequest(DomainModel):
    """What the licensed software sends to check or release its activation on a machine."""

    key: KeyText
    product_id: PlainText = Field(min_length=1, max_length=64)
    fingerprint: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9:._-]+$")


class ActivationRequest(DeviceRequest):
    """What the licensed software sends when it starts on a machine."""

    hostname: PlainText = Field(default="", max_length=255)


class ActivationStatus(DomainModel):
    """The portal's answer to the licensed software: what the key licenses, and whether this
    machine holds the activation."""

    key: str
    product_id: str
    edition_id: str | None
    addons: tuple[str, ...] = ()
    term: Term
    quantity: int
    status: LicenseStatus
    activated_here: bool
    trial_ends_on: date | None = None
    support_ends_on: date | None = None


# -- lists of licenses: filters, facets, sorting, batches -------------------------------------

MAX_BATCH = 10_000
MAX_SUPPORT_YEARS = 5
MAX_FILTER_TEXT = 100
MAX_SUPPORT_ENDING_DAYS = 3650


class SupportWindow(StrEnum):
    EXPIRED = "expired"  # support ended before today
    ENDING = "ending"  # support ends within SUPPORT_ENDING_DAYS (domain.dashboard)


class LicenseSort(StrEnum):
    KEY = "key"
    PRODUCT = "product"
    EDITION = "edition"
    QUANTITY = "quantity"
    TERM = "term"
    CUSTOMER = "customer"
    STATUS = "status"  # not activated first, then by device host name
    SUPPORT = "support"  # no support (trials, seat plans) last
    CREATED = "created"


class LicenseFilter(DomainModel):
    """Which licenses a list shows. Every field narrows it; the portal filters and counts."""

    model_config = ConfigDict(frozen=True)

    q: PlainText = Field(default="", max_length=MAX_FILTER_TEXT)  # in the key, customer email or comment
    product_id: PlainText | None = Field(default=None, max_length=64)
    edition_id: PlainText | None = Field(default=None, max_length=64)
    term: Term | None = None
    status: LicenseStatus | None = None
    support: SupportWindow | None = None
    support_from: date | None = None
    support_to: date | None = None
    trial_ending: bool = False  # live trials that end within TRIALS_ENDING_DAYS (domain.dashboard)
    expired: bool = False  # trials and annual terms that have ended (statuses trial_ended, term_ended)
    # Support ending from today to this many days on, by the portal's date (scripts need not know it).
    support_ending_days: int | None = Field(default=None, ge=0, le=MAX_SUPPORT_ENDING_DAYS)

    @field_validator("q")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _range_in_order(self) -> LicenseFilter:
        if self.support_from and self.support_to and self.support_from > self.support_to:
            raise ValueError("the first date of the support range (support_from) must be on or before the last (support_to)")
        return self

    def query_params(self) -> dict[str, str]:
        """The filter as the list endpoints' query parameters (defaults left out)."""
        return {name: str(value).lower() if isinstance(value, bool) else str(value)
                for name, value in self.model_dump(mode="json", exclude_defaults=True).items()}


class LicensePage(Page[License]):
    """A page of licenses and the portal's date their statuses are as of. `total_at_least`:
    the text filter's matches were counted only up to `total` and there are more (a list
    shows "1,000+"), so a keystroke never counts a million rows."""

    today: date
    total_at_least: bool = False


class LicenseFacets(DomainModel):
    """How many licenses each facet value would show: every facet counted under the other
    filters but not its own, so the counts say what choosing a value would give."""

    total: int
    products: dict[str, int]
    editions: dict[str, int]
    terms: dict[str, int]
    statuses: dict[str, int]


class MatchingIds(DomainModel):
    """Every id a filter matches, for marking them all; none when more than a batch matches."""

    total: int
    ids: list[int]


class LicenseBatch(DomainModel):
    license_ids: list[RecordId] = Field(min_length=1, max_length=MAX_BATCH)

    @field_validator("license_ids")
    @classmethod
    def _each_once(cls, value: list[int]) -> list[int]:
        return sorted(set(value))


class SupportExtension(LicenseBatch, Purchase):
    years: Count = Field(ge=1, le=MAX_SUPPORT_YEARS)


class BatchResult(DomainModel):
    """A batch applied whole: what it cost (negative: a refund) and the balance after."""

    batch_id: str
    count: int
    amount: Credits
    balance_after: Credits
