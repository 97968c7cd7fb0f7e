"""The assignment wizard's answers, kept apart from its screen: one draft that every step reads
and writes, so going back and forward never loses an answer, and the order it makes.

Text fields keep what was typed (even when it is not valid yet); they are read as numbers
or an email only when a step is left, with a message that says what to type instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from seattui.domain.billing import Purchase
from seattui.domain.catalog import Product, ProductKind, SeatPlan
from seattui.domain.errors import ValidationFailed
from seattui.domain.licensing import (
    MAX_CHANNELS,
    MAX_QUANTITY,
    MAX_TRIAL_DAYS,
    KeyDetail,
    License,
    LicenseEdit,
    LicenseOrder,
    LicenseStatus,
    SubscriptionOrder,
    Term,
)
from seattui.domain.money import format_credits
from seattui.domain.pricing import Configuration, check_configuration
from seattui.domain.roles import Permission
from seattui.domain.validation import build, whole_number

DEFAULT_TRIAL_DAYS = "14"


class Step(StrEnum):
    KEY = "key"
    PRODUCT = "product"
    EDITION = "edition"
    TERM = "term"
    QUANTITY = "quantity"
    CUSTOMER = "customer"
    REVIEW = "review"
    DONE = "done"


STEP_TITLES = {
    Step.KEY: "Key",
    Step.PRODUCT: "Product",
    Step.EDITION: "Edition",
    Step.TERM: "Term",
    Step.QUANTITY: "Quantity",
    Step.CUSTOMER: "Customer",
    Step.REVIEW: "Review",
}
ALL_STEPS = list(STEP_TITLES)


def steps_for(product: Product | None) -> list[Step]:
    """The steps a product asks: editions and add-ons only where it has them; a subscription
    is sized by channels on its term step, so it has no quantity step."""
    if product is None or product.kind is ProductKind.PERPETUAL:
        return ALL_STEPS
    if product.kind is ProductKind.SEAT:
        return [step for step in ALL_STEPS if step is not Step.EDITION]
    return [step for step in ALL_STEPS if step not in (Step.EDITION, Step.QUANTITY)]


def terms_for(product: Product) -> list[Term]:
    if product.kind is ProductKind.SUBSCRIPTION:
        return []
    trial = [Term.TRIAL] if product.trial else []
    if product.kind is ProductKind.PERPETUAL:
        return [*trial, Term.PERMANENT]
    return [*trial, *(Term(offer.plan.value) for offer in product.seat_plans)]


def term_label(product: Product, term: Term) -> str:
    unit = product.unit.label(1)
    if term is Term.TRIAL:
        return f"Trial, free for 1 to {MAX_TRIAL_DAYS} days"
    if term is Term.PERMANENT:
        return "Permanent, with 12 months of support"
    offer = product.seat_plan(SeatPlan(term.value))
    if offer.plan is SeatPlan.FLEXIBLE:
        return (f"Flexible plan, {format_credits(offer.price_per_seat)} per {unit} a month for the days "
                f"each is assigned, billed after the month; a cap up to {offer.max_seats:,}")
    return (f"Annual plan, {format_credits(offer.price_per_seat)} per {unit} a year, "
            f"seats only grow, up to {offer.max_seats:,}")


def may_buy(permissions: frozenset[Permission]) -> bool:
    return Permission.PURCHASE in permissions


def term_allowed(term: Term, permissions: frozenset[Permission]) -> bool:
    """Operators start trials; everything that costs credits needs the right to purchase."""
    return term is Term.TRIAL or may_buy(permissions)


def product_allowed(product: Product, permissions: frozenset[Permission]) -> bool:
    return may_buy(permissions) or any(term is Term.TRIAL for term in terms_for(product))


@dataclass
class Draft:
    key: str = ""
    key_name: str = ""
    key_id: int | None = None  # known once the key was picked from a list or looked up
    product_id: str = ""
    edition_id: str = ""
    addons: tuple[str, ...] = ()
    term: Term | None = None
    trial_days: str = DEFAULT_TRIAL_DAYS
    quantity: str = "1"
    channels: str = "1"
    customer_email: str = ""
    comment: str = ""
    # What the invoice shows of the order, and how it is paid (monthly terms with credits left).
    reference_name: str = ""
    po_number: str = ""
    pay_from_credits: bool = False
    coupon: str = ""  # typed in the review; the quote says whether it applies
    # Answers given for other products, so trying another product and coming back keeps them.
    _per_product: dict[str, tuple[str, tuple[str, ...], Term | None]] = field(default_factory=dict, repr=False)

    def choose_product(self, product: Product, permissions: frozenset[Permission]) -> None:
        if product.id == self.product_id:
            return
        if self.product_id:
            self._per_product[self.product_id] = (self.edition_id, self.addons, self.term)
        self.product_id = product.id
        kept = self._per_product.get(product.id)
        if kept is not None:
            self.edition_id, self.addons, self.term = kept
            return
        self.edition_id = product.editions[0].id if product.editions else ""
        self.addons = ()
        allowed = [term for term in terms_for(product) if term_allowed(term, permissions)]
        self.term = allowed[0] if allowed else None

    def check(self, step: Step, product: Product | None, permissions: frozenset[Permission]) -> None:
        """Refuse to leave a step whose answer will not do, saying what to do instead."""
        if step is Step.KEY and not self.key:
            raise ValidationFailed("Pick a key from the list (enter), or press ctrl+n to create one.",
                                   {"key": "required"})
        if step is Step.PRODUCT:
            if product is None:
                raise ValidationFailed("Pick a product.", {"product_id": "required"})
            if not product_allowed(product, permissions):
                raise ValidationFailed(f"{product.name} has no trial, and buying needs an owner or an admin.",
                                       {"product_id": "needs the right to purchase"})
        if product is None:
            return
        if step is Step.EDITION and product.editions and not self.edition_id:
            raise ValidationFailed(f"Pick an edition of {product.name}.", {"edition_id": "required"})
        if step is Step.TERM:
            if product.kind is ProductKind.SUBSCRIPTION:
                whole_number(self.channels, 1, MAX_CHANNELS, "channels")
                return
            if self.term is None or not term_allowed(self.term, permissions):
                raise ValidationFailed("Pick a term you may use: buying needs an owner or an admin.",
                                       {"term": "required"})
            if self.term is Term.TRIAL:
                whole_number(self.trial_days, 1, MAX_TRIAL_DAYS, "trial days", field="trial_days")
        if step is Step.QUANTITY:
            quantity = whole_number(self.quantity, 1, MAX_QUANTITY, product.unit.value, field="quantity")
            if self.term is not None:
                check_configuration(product, Configuration(self.term, self.edition_id or None, self.addons, quantity))
        if step is Step.CUSTOMER:
            build(LicenseEdit, customer_email=self.customer_email, comment=self.comment)
            build(Purchase, reference_name=self.reference_name, po_number=self.po_number)

    def order(self, product: Product) -> LicenseOrder | SubscriptionOrder:
        """The order to quote and create, from answers each step has already checked."""
        customer = {"customer_email": self.customer_email, "comment": self.comment,
                    "reference_name": self.reference_name, "po_number": self.po_number,
                    "pay_from_credits": self.pay_from_credits, "coupon": self.coupon}
        if product.kind is ProductKind.SUBSCRIPTION:
            return build(SubscriptionOrder, key=self.key, product_id=product.id,
                         channels=whole_number(self.channels, 1, MAX_CHANNELS, "channels"), **customer)
        assert self.term is not None
        trial = self.term is Term.TRIAL
        return build(
            LicenseOrder,
            key=self.key,
            product_id=product.id,
            edition_id=self.edition_id or None,
            addons=tuple(sorted(self.addons)),
            term=self.term,
            trial_days=whole_number(self.trial_days, 1, MAX_TRIAL_DAYS, "trial days") if trial else None,
            quantity=whole_number(self.quantity, 1, MAX_QUANTITY, product.unit.value),
            **customer,
        )

    def answers(self, product: Product | None, upto: Step) -> list[tuple[str, str]]:
        """What has been answered before `upto`, in words, for the line above each step."""
        shown: list[tuple[str, str]] = []
        steps = steps_for(product)
        before = steps[: steps.index(upto)] if upto in steps else steps
        for step in before:
            value = self._answer(step, product)
            if value:
                shown.append((STEP_TITLES[step], value))
        return shown

    def _answer(self, step: Step, product: Product | None) -> str:
        if step is Step.KEY:
            return f"{self.key} ({self.key_name})" if self.key_name else self.key
        if product is None:
            return ""
        if step is Step.PRODUCT:
            return product.name
        if step is Step.EDITION:
            edition = next((e.name for e in product.editions if e.id == self.edition_id), "")
            addons = [a.name for a in product.addons if a.id in self.addons]
            return " + ".join([edition, *addons])
        if step is Step.TERM:
            if product.kind is ProductKind.SUBSCRIPTION:
                return f"monthly, {_count(self.channels, product)}"
            if self.term is Term.TRIAL:
                return f"trial, {self.trial_days.strip()} days"
            return self.term.value if self.term else ""
        if step is Step.QUANTITY:
            return _count(self.quantity, product)
        if step is Step.CUSTOMER:
            return self.customer_email.strip() or "no email"
        return ""


def _count(text: str, product: Product) -> str:
    typed = text.strip()
    return f"{typed} {product.unit.label(1) if typed == '1' else product.unit.value}"


LIVE = (LicenseStatus.ASSIGNED, LicenseStatus.ACTIVATED)


def held_already(detail: KeyDetail, product: Product) -> str:
    """What the key already holds of this product, in words, to say before paying for another
    beside it; '' when it holds none."""
    licenses = [license for license in detail.licenses if license.product_id == product.id and license.status in LIVE]
    subscriptions = [sub for sub in detail.subscriptions if sub.product_id == product.id]
    held = [f"license {license.id} ({_license_words(license, product)})" for license in licenses]
    held += [f"subscription {sub.id} ({sub.channels:,} channel{'' if sub.channels == 1 else 's'})"
             for sub in subscriptions]
    if not held:
        return ""
    instead = ("change its channels on the key's page (keys screen, enter) instead" if subscriptions
               else "to add users, raise the edition or make a trial permanent, upgrade that license "
               "(licenses screen) instead")
    return (f"{detail.key.key} already holds {product.name}: {', '.join(held)}. This one is added beside "
            f"it, not in its place; {instead}.")


def _license_words(license: License, product: Product) -> str:
    edition = next((e.name for e in product.editions if e.id == license.edition_id), "")
    count = f"{license.quantity:,} {product.unit.label(1) if license.quantity == 1 else product.unit.value}"
    if license.term is Term.TRIAL:
        ends = f", to {license.trial_ends_on:%Y-%m-%d}" if license.trial_ends_on else ""
        return " ".join(filter(None, ["trial", edition])) + f", {count}{ends}"
    return ", ".join(filter(None, [license.term.value, edition, count]))
