"""The product catalog: products, editions, add-ons, units and plans. Data, loaded from TOML."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from pydantic import ConfigDict, Field, model_validator

from seattui.domain.base import Credits, DomainModel
from seattui.domain.errors import ValidationFailed


class ProductKind(StrEnum):
    PERPETUAL = "perpetual"
    SUBSCRIPTION = "subscription"
    SEAT = "seat"


class Unit(StrEnum):
    USERS = "users"
    MAILBOXES = "mailboxes"
    AGENTS = "agents"
    SITES = "sites"
    CHANNELS = "channels"
    SEATS = "seats"

    def label(self, quantity: int) -> str:
        if quantity == 1:
            return {"mailboxes": "mailbox"}.get(self.value, self.value.removesuffix("s"))
        return self.value


class SeatPlan(StrEnum):
    FLEXIBLE = "flexible"
    ANNUAL = "annual"


class RefundPolicy(DomainModel):
    """How long a purchase's price is refundable when it is deleted: for `days` after it was
    bought (none: at any time; 0: never), and only while never activated on a device when
    `until_activated`. Without a policy in the catalog a price is refundable at any time."""

    model_config = ConfigDict(frozen=True)

    days: int | None = Field(default=None, ge=0, le=3650)
    until_activated: bool = False

    def refusal(self, *, bought_on: date, today: date, activated: bool) -> str | None:
        """None when the price is refundable today, else why it is not, in words."""
        if self.days == 0:
            return "not refundable"
        if self.until_activated and activated:
            return "not refundable once activated on a device"
        if self.days is not None and (today - bought_on).days > self.days:
            return f"refundable for {self.days} days after purchase; bought on {bought_on.isoformat()}"
        return None

    def words(self) -> str:
        if self.days == 0:
            return "never refundable"
        window = "refundable at any time" if self.days is None else f"refundable for {self.days} days"
        return window + (" while not activated" if self.until_activated else "")


class Edition(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    unit_price: Credits
    support_price_per_year: Credits


class Addon(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    unit_price: Credits
    support_price_per_year: Credits = Decimal("0.00")


class SeatPlanOffer(DomainModel):
    """Flexible: priced per seat per month, seats go up and down up to the purchase cap.
    Annual: priced per seat per year, seats only grow during the term, up to the contract maximum."""

    model_config = ConfigDict(frozen=True)

    plan: SeatPlan
    price_per_seat: Credits
    max_seats: int = Field(ge=1)
    refund: RefundPolicy = RefundPolicy()


class Product(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    kind: ProductKind
    unit: Unit
    description: str = ""
    trial: bool = True
    editions: tuple[Edition, ...] = ()
    addons: tuple[Addon, ...] = ()
    channel_price_per_month: Credits | None = None
    seat_plans: tuple[SeatPlanOffer, ...] = ()
    refund: RefundPolicy = RefundPolicy()

    @model_validator(mode="after")
    def _complete_for_its_kind(self) -> Product:
        if self.kind is ProductKind.PERPETUAL and not self.editions:
            raise ValueError(f"perpetual product {self.id!r} needs at least one edition")
        if self.kind is ProductKind.SUBSCRIPTION and self.channel_price_per_month is None:
            raise ValueError(f"subscription product {self.id!r} needs channel_price_per_month")
        if self.kind is ProductKind.SEAT and not self.seat_plans:
            raise ValueError(f"seat product {self.id!r} needs at least one seat plan")
        return self

    def edition(self, edition_id: str) -> Edition:
        for edition in self.editions:
            if edition.id == edition_id:
                return edition
        names = ", ".join(edition.id for edition in self.editions) or "none"
        raise ValidationFailed(
            f"{self.name} has no edition {edition_id!r}; choose one of: {names}.",
            {"edition_id": f"unknown edition; choose one of: {names}"},
        )

    def edition_rank(self, edition_id: str) -> int:
        """Editions are listed from the smallest to the largest; upgrades go up this list."""
        return self.editions.index(self.edition(edition_id))

    def addon(self, addon_id: str) -> Addon:
        for addon in self.addons:
            if addon.id == addon_id:
                return addon
        names = ", ".join(addon.id for addon in self.addons) or "none"
        raise ValidationFailed(
            f"{self.name} has no add-on {addon_id!r}; choose from: {names}.",
            {"addons": f"unknown add-on {addon_id!r}; choose from: {names}"},
        )

    def refund_policy(self, term: str) -> RefundPolicy:
        """The policy of a license on `term`: its seat plan's, else the product's."""
        for offer in self.seat_plans:
            if offer.plan.value == term:
                return offer.refund
        return self.refund

    def seat_plan(self, plan: SeatPlan) -> SeatPlanOffer:
        for offer in self.seat_plans:
            if offer.plan is plan:
                return offer
        raise ValidationFailed(
            f"{self.name} is not sold on the {plan.value} plan.",
            {"term": f"{self.name} has no {plan.value} plan"},
        )


class Catalog(DomainModel):
    model_config = ConfigDict(frozen=True)

    products: tuple[Product, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalog:
        ids = [product.id for product in self.products]
        duplicates = sorted({product_id for product_id in ids if ids.count(product_id) > 1})
        if duplicates:
            raise ValueError(f"product ids appear twice: {', '.join(duplicates)}")
        return self

    @cached_property
    def products_by_id(self) -> dict[str, Product]:
        # Every device call looks its product up: by id, not along the list. (Kept on the
        # instance: a catalog is made by validation, never copied with other products.)
        return {product.id: product for product in self.products}

    def product(self, product_id: str) -> Product:
        product = self.find(product_id)
        if product is not None:
            return product
        names = ", ".join(product.id for product in self.products)
        raise ValidationFailed(
            f"There is no product {product_id!r} in the catalog; choose one of: {names}.",
            {"product_id": f"unknown product; choose one of: {names}"},
        )

    def find(self, product_id: str) -> Product | None:
        return self.products_by_id.get(product_id)
