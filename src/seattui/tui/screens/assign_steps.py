"""The assignment wizard's steps, one unit each (cf. Textual's guide, screens/questions01.py).

A question step shows the draft's answer (`load`) and writes what its widgets say back into
the draft when it is left (`save`); `next_field` moves enter through the step's own fields
first. Between steps the draft (assignment.py) holds every answer; while a step is shown, its
widgets do, and nothing else. The review and the result are shown by the screen (assign.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from seattui.domain import errors
from seattui.domain.billing import MAX_PO_NUMBER, MAX_REFERENCE_NAME
from seattui.domain.catalog import Catalog, Product, ProductKind
from seattui.domain.licensing import MAX_COMMENT, LicenseEdit, Term
from seattui.domain.money import format_credits
from seattui.domain.pricing import Quote
from seattui.domain.roles import Permission
from seattui.domain.validation import build
from seattui.tui.assignment import Draft, Step, product_allowed, term_allowed, term_label, terms_for
from seattui.tui.widgets.choices import Choices, Picks
from seattui.tui.widgets.coupon_field import CouponField
from seattui.tui.widgets.key_list import KeyList
from seattui.tui.widgets.quote_view import QuoteView, Refunds

NEEDS_PURCHASE = " (buying needs an owner or an admin)"


@dataclass(frozen=True)
class Offer:
    """What the user may choose from: the portal's catalog and what their role allows."""

    catalog: Catalog | None
    permissions: frozenset[Permission]

    def product(self, draft: Draft) -> Product | None:
        return self.catalog.find(draft.product_id) if self.catalog and draft.product_id else None


def email_problem(typed: str) -> str:
    """What is wrong with an email as typed so far; nothing while it is empty or valid."""
    try:
        build(LicenseEdit, customer_email=typed)
    except errors.ValidationFailed as invalid:
        return invalid.fields.get("customer_email", invalid.message)
    return ""


class WizardStep(Vertical):
    """One question of the wizard."""

    STEP: ClassVar[Step]

    def load(self, draft: Draft, offer: Offer) -> None:
        """Show the draft's answer and focus the step's first field."""

    def save(self, draft: Draft, offer: Offer) -> None:
        """Write what the step's widgets say into the draft (ValidationFailed: not readable yet)."""

    def next_field(self, draft: Draft, offer: Offer) -> bool:
        """enter: focus the step's next field that matters now; False on its last one."""
        return False

    def focus_on(self, widget: object) -> None:
        # Screen.set_focus moves at once (Widget.focus waits for a refresh).
        self.screen.set_focus(widget)  # type: ignore[arg-type]


class KeyStep(WizardStep):
    STEP = Step.KEY

    def compose(self) -> ComposeResult:
        yield Static("Which key? Type to filter, enter picks, ctrl+n creates one.", classes="step-title")
        yield KeyList(with_created=False, id="assign-keys")

    @property
    def keys(self) -> KeyList:
        return self.query_one(KeyList)

    def load(self, draft: Draft, offer: Offer) -> None:
        self.focus_on(self.keys.table if draft.key else self.keys.filter_input)

    def save(self, draft: Draft, offer: Offer) -> None:
        """The highlighted key, but never one left over from before the last keystroke."""
        keys = self.keys
        if not keys.up_to_date:
            raise errors.ValidationFailed(f"Still finding the keys matching {keys.filter_text!r}; "
                                          "press enter again when they show.", {"key": "still being found"})
        current = keys.table.current
        if current is not None:
            draft.key, draft.key_name, draft.key_id = current.key, current.name, current.id


class ProductStep(WizardStep):
    STEP = Step.PRODUCT

    def compose(self) -> ComposeResult:
        yield Static("Which product?", classes="step-title")
        yield Choices(id="product-choices")
        yield Static("", id="product-about", classes="step-hint")

    @property
    def choices(self) -> Choices:
        return self.query_one(Choices)

    def offer(self, offer: Offer) -> None:
        """The catalog arrived: list its products, those the role cannot use greyed out."""
        choices = self.choices
        choices.clear_options()
        for product in offer.catalog.products if offer.catalog else ():
            label = Text(product.name, style="bold")
            label.append(f"  {product_line(product)}", style="dim")
            allowed = product_allowed(product, offer.permissions)
            if not allowed:
                label.append(NEEDS_PURCHASE, style="dim")
            choices.add_option(Option(label, id=product.id, disabled=not allowed))

    def load(self, draft: Draft, offer: Offer) -> None:
        self.choices.highlight_id(draft.product_id or None)
        self.focus_on(self.choices)

    def save(self, draft: Draft, offer: Offer) -> None:
        option = self.choices.highlighted_option
        product = offer.catalog.find(option.id or "") if offer.catalog and option else None
        if product is not None:
            draft.choose_product(product, offer.permissions)

    def describe(self, product: Product | None) -> None:
        self.query_one("#product-about", Static).update(product.description if product else "")


def product_line(product: Product) -> str:
    unit = product.unit.label(1)
    if product.kind is ProductKind.SUBSCRIPTION:
        price = format_credits(product.channel_price_per_month or 0)
        return f"subscription by {product.unit.value}, {price} a month each"
    if product.kind is ProductKind.SEAT:
        return f"per {unit}, flexible or annual seat plans"
    low = min(edition.unit_price for edition in product.editions)
    return f"per {unit}, from {format_credits(low)}" + (", with add-ons" if product.addons else "")


class EditionStep(WizardStep):
    STEP = Step.EDITION

    def compose(self) -> ComposeResult:
        yield Static("Which edition?", classes="step-title")
        yield Choices(id="edition-choices")
        yield Static("Add-ons: space adds or removes one", id="addons-title", classes="step-title")
        yield Picks(id="addon-picks")

    def load(self, draft: Draft, offer: Offer) -> None:
        product = offer.product(draft)
        if product is None:
            return
        editions = self.query_one("#edition-choices", Choices)
        editions.clear_options()
        unit = product.unit.label(1)
        for edition in product.editions:
            label = Text(edition.name, style="bold")
            label.append(f"  {format_credits(edition.unit_price)} per {unit}, support "
                         f"{format_credits(edition.support_price_per_year)} a year", style="dim")
            editions.add_option(Option(label, id=edition.id))
        editions.highlight_id(draft.edition_id or None)
        picks = self.query_one(Picks)
        picks.clear_options()
        for addon in product.addons:
            picks.add_option((f"{addon.name}  {format_credits(addon.unit_price)} per {unit}", addon.id,
                              addon.id in draft.addons))
        picks.highlighted = 0 if product.addons else None
        for widget in ("#addons-title", "#addon-picks"):
            self.query_one(widget).display = bool(product.addons)
        self.focus_on(editions)

    def save(self, draft: Draft, offer: Offer) -> None:
        option = self.query_one("#edition-choices", Choices).highlighted_option
        if option is not None and option.id:
            draft.edition_id = option.id
        product = offer.product(draft)
        if product is not None and product.addons:
            draft.addons = tuple(sorted(self.query_one(Picks).selected))

    def next_field(self, draft: Draft, offer: Offer) -> bool:
        product = offer.product(draft)
        if self.screen.focused is self.query_one("#edition-choices") and product is not None and product.addons:
            self.focus_on(self.query_one(Picks))
            return True
        return False


class TermStep(WizardStep):
    STEP = Step.TERM

    def compose(self) -> ComposeResult:
        yield Static("Which term?", id="term-title", classes="step-title")
        yield Choices(id="term-choices")
        with Horizontal(id="trial-days-row", classes="field-row"):
            yield Label("Trial days (1-30)")
            yield Input(type="integer", max_length=4, id="trial-days")
        with Horizontal(id="channels-row", classes="field-row"):
            yield Label("Channels")
            yield Input(type="integer", max_length=7, id="channels")

    @property
    def terms(self) -> Choices:
        return self.query_one("#term-choices", Choices)

    def load(self, draft: Draft, offer: Offer) -> None:
        product = offer.product(draft)
        if product is None:
            return
        subscription = product.kind is ProductKind.SUBSCRIPTION
        terms = self.terms
        terms.display = not subscription
        self.query_one("#channels-row").display = subscription
        self.query_one("#trial-days", Input).value = draft.trial_days
        self.query_one("#channels", Input).value = draft.channels
        if subscription:
            price = format_credits(product.channel_price_per_month or 0)
            self.query_one("#term-title", Static).update(
                f"Monthly subscription: {price} credits per channel (concurrent session) a month. How many channels?")
            self.query_one("#trial-days-row").display = False
            self.focus_on(self.query_one("#channels", Input))
            return
        self.query_one("#term-title", Static).update("Which term?")
        terms.clear_options()
        for term in terms_for(product):
            allowed = term_allowed(term, offer.permissions)
            label = term_label(product, term) + ("" if allowed else NEEDS_PURCHASE)
            terms.add_option(Option(label, id=term.value, disabled=not allowed))
        terms.highlight_id(draft.term.value if draft.term else None)
        self._show_trial_days()
        self.focus_on(terms)

    def _highlighted_term(self) -> Term | None:
        option = self.terms.highlighted_option
        return Term(option.id) if option is not None and option.id and not option.disabled else None

    @on(OptionList.OptionHighlighted, "#term-choices")
    def _show_trial_days(self) -> None:
        self.query_one("#trial-days-row").display = self.terms.display and self._highlighted_term() is Term.TRIAL

    def save(self, draft: Draft, offer: Offer) -> None:
        if self.terms.display:
            term = self._highlighted_term()
            if term is not None:
                draft.term = term
        draft.trial_days = self.query_one("#trial-days", Input).value
        draft.channels = self.query_one("#channels", Input).value

    def next_field(self, draft: Draft, offer: Offer) -> bool:
        if self.screen.focused is self.terms and self._highlighted_term() is Term.TRIAL:
            self.focus_on(self.query_one("#trial-days", Input))
            return True
        return False


class QuantityStep(WizardStep):
    STEP = Step.QUANTITY

    def compose(self) -> ComposeResult:
        yield Static("How many?", classes="step-title")
        with Horizontal(classes="field-row"):
            yield Label("", id="quantity-label")
            yield Input(type="integer", max_length=7, id="quantity")
        yield Static("", id="quantity-hint", classes="step-hint")

    def load(self, draft: Draft, offer: Offer) -> None:
        product = offer.product(draft)
        if product is None:
            return
        self.query_one("#quantity-label", Label).update(product.unit.value.capitalize())
        hint = f"{product.name} is licensed per {product.unit.label(1)}."
        if draft.term in (Term.FLEXIBLE, Term.ANNUAL):
            hint += " " + term_label(product, draft.term) + "."
        self.query_one("#quantity-hint", Static).update(hint)
        field = self.query_one("#quantity", Input)
        field.value = draft.quantity
        self.focus_on(field)  # selects the number: typing replaces it

    def save(self, draft: Draft, offer: Offer) -> None:
        draft.quantity = self.query_one("#quantity", Input).value


class CustomerStep(WizardStep):
    """Who it is for, and what the invoice calls the order (its reference name and PO number)."""

    STEP = Step.CUSTOMER
    FIELDS = ("customer-email", "comment", "reference-name", "po-number")

    def compose(self) -> ComposeResult:
        yield Static("Who is it for?", classes="step-title")
        yield Label("Customer email (optional)")
        yield Input(placeholder="it@customer.example", max_length=254, id="customer-email")
        yield Static("", id="email-feedback")
        yield Label("Comment (optional)")
        yield Input(placeholder="what it is for", max_length=MAX_COMMENT, id="comment")
        with Horizontal(id="invoice-names"):
            with Vertical():
                yield Label("Reference on the invoice (optional)")
                yield Input(placeholder="Front desk", max_length=MAX_REFERENCE_NAME, id="reference-name")
            with Vertical():
                yield Label(f"PO number (optional, up to {MAX_PO_NUMBER})")
                yield Input(placeholder="PO-2026-0042", max_length=MAX_PO_NUMBER, id="po-number")

    def _field(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    @staticmethod
    def fields_for(draft: Draft) -> tuple[str, ...]:
        # A trial is free: no order, no invoice to name it on.
        return CustomerStep.FIELDS[:2] if draft.term is Term.TRIAL else CustomerStep.FIELDS

    def load(self, draft: Draft, offer: Offer) -> None:
        for name in self.FIELDS:
            self._field(name).value = getattr(draft, name.replace("-", "_"))
        self.query_one("#invoice-names").display = draft.term is not Term.TRIAL
        self.focus_on(self._field("customer-email"))

    def save(self, draft: Draft, offer: Offer) -> None:
        for name in self.fields_for(draft):
            setattr(draft, name.replace("-", "_"), self._field(name).value)

    def next_field(self, draft: Draft, offer: Offer) -> bool:
        fields = self.fields_for(draft)
        focused = [name for name in fields if self._field(name) is self.screen.focused]
        if focused and focused[0] != fields[-1]:
            self.focus_on(self._field(fields[fields.index(focused[0]) + 1]))
            return True
        return False

    @on(Input.Changed, "#customer-email")
    def _email_typed(self, event: Input.Changed) -> None:
        self.query_one("#email-feedback", Static).update(email_problem(event.value))


QUESTIONS: tuple[type[WizardStep], ...] = (KeyStep, ProductStep, EditionStep, TermStep, QuantityStep, CustomerStep)


class ReviewStep(VerticalScroll):
    """The order in words, what the key already holds of the product, and the quote."""

    def compose(self) -> ComposeResult:
        yield Static("", id="review-title", classes="step-title")
        yield Static("", id="review-order")
        yield Static("", id="review-held")
        # Above the quote, so that it shows at 80x24 without scrolling.
        yield CouponField(placeholder="optional (tab)", input_id="review-coupon", row_classes="field-row",
                          beside=False)
        yield QuoteView(id="review-quote")

    def on_mount(self) -> None:
        self.query_one("#review-held").display = False

    def title(self, text: str) -> None:
        self.query_one("#review-title", Static).update(text)

    def show_order(self, answers: list[tuple[str, str]]) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        for title, value in answers:
            table.add_row(title, value)
        self.query_one("#review-order", Static).update(table)

    def waiting(self) -> None:
        """A new quote is on its way: nothing of the last one stays."""
        self.show_held("")
        self.query_one(QuoteView).waiting()

    def show_held(self, words: str) -> None:
        held = self.query_one("#review-held", Static)
        held.update(words)
        held.display = bool(words)

    def show_quote(self, quote: Quote, refunds: Refunds, *, choice: str = "") -> None:
        self.query_one(QuoteView).show_quote(quote, refunds, choice=choice)
        self.query_one(CouponField).show(quote)

    def clear(self) -> None:
        self.query_one(QuoteView).clear()


class DoneStep(Vertical):
    """What was created, the key ready to copy, and what may come next."""

    def compose(self) -> ComposeResult:
        yield Static("", id="done-title", classes="step-title")
        yield Static("", id="done-key")
        yield Static("", id="done-details")

    def show(self, title: str, key: str, details: str) -> None:
        self.query_one("#done-title", Static).update(title)
        self.query_one("#done-key", Static).update(Text(key, style="bold"))
        self.query_one("#done-details", Static).update(details)
