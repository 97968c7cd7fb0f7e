"""The assignment wizard: key, product, edition (and add-ons), term, quantity, customer, review.

enter goes to the next step and escape to the previous one; every answer lives in one Draft,
so going back and forward keeps them all. The review asks the portal for a quote (balance,
cost, balance after); when the balance is short it says by how much and confirming is
impossible. Confirming sends the order with one idempotency key per review, so a double
press or a retry never charges twice; the result shows the key ready to copy.
"""

from __future__ import annotations

import uuid

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ContentSwitcher, Footer, Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from seattui.domain import errors
from seattui.domain.catalog import Catalog, Product, ProductKind
from seattui.domain.licensing import (
    MAX_COMMENT,
    ActivationKey,
    License,
    LicenseEdit,
    LicenseOrder,
    Subscription,
    SubscriptionOrder,
    Term,
)
from seattui.domain.money import format_credits
from seattui.domain.pricing import Quote
from seattui.domain.validation import build
from seattui.tui.changes import PURCHASE
from seattui.tui import commands
from seattui.tui.assignment import (
    STEP_TITLES,
    Draft,
    Step,
    product_allowed,
    steps_for,
    term_allowed,
    term_label,
    terms_for,
)
from seattui.tui.formatting import copy_key, plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.key_detail import license_ends, product_name
from seattui.tui.styles import style
from seattui.tui.widgets.choices import Choices, Picks
from seattui.tui.widgets.key_list import KeyList
from seattui.tui.widgets.paged_table import PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.quote_view import QuoteView
from seattui.tui.widgets.status_bar import StatusBar

NEEDS_PURCHASE = " (buying needs an owner or an admin)"
# The wizard's text fields, the draft's attribute for each, and the step each is on.
TEXT_FIELDS = {"trial-days": "trial_days", "channels": "channels", "quantity": "quantity",
               "customer-email": "customer_email", "comment": "comment"}
FIELD_STEPS = {"trial-days": Step.TERM, "channels": Step.TERM, "quantity": Step.QUANTITY,
               "customer-email": Step.CUSTOMER, "comment": Step.CUSTOMER}
# Where enter moves the focus before it leaves a step: the next field of the same step.
FIELD_ORDER = {
    "edition-choices": "addon-picks",
    "term-choices": "trial-days",
    "customer-email": "comment",
}


def email_problem(typed: str) -> str:
    """What is wrong with an email as typed so far; nothing while it is empty or valid."""
    try:
        build(LicenseEdit, customer_email=typed)
    except errors.ValidationFailed as invalid:
        return invalid.fields.get("customer_email", invalid.message)
    return ""


class AssignScreen(PortalScreen):
    SCOPE = "assign"
    CSS_PATH = style("assign.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.draft = Draft()
        self.catalog: Catalog | None = None
        self.step = Step.KEY
        self.order: LicenseOrder | SubscriptionOrder | None = None
        self.quote: Quote | None = None
        self.review_token: tuple[str, str] | None = None  # (the order as sent, its idempotency key)
        self.result: License | Subscription | None = None
        self.confirming = False
        self._ready = False
        self._preset: str | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="assign-steps")
        yield Static("", id="assign-answers")
        with ContentSwitcher(initial="step-key", id="assign-body"):
            with Vertical(id="step-key"):
                yield Static("Which key? Type to filter, enter picks, ctrl+n creates one.", classes="step-title")
                yield KeyList(with_created=False, id="assign-keys")
            with Vertical(id="step-product"):
                yield Static("Which product?", classes="step-title")
                yield Choices(id="product-choices")
                yield Static("", id="product-about", classes="step-hint")
            with Vertical(id="step-edition"):
                yield Static("Which edition?", classes="step-title")
                yield Choices(id="edition-choices")
                yield Static("Add-ons: space adds or removes one", id="addons-title", classes="step-title")
                yield Picks(id="addon-picks")
            with Vertical(id="step-term"):
                yield Static("Which term?", id="term-title", classes="step-title")
                yield Choices(id="term-choices")
                with Horizontal(id="trial-days-row", classes="field-row"):
                    yield Label("Trial days (1-30)")
                    yield Input(type="integer", max_length=4, id="trial-days")
                with Horizontal(id="channels-row", classes="field-row"):
                    yield Label("Channels")
                    yield Input(type="integer", max_length=7, id="channels")
            with Vertical(id="step-quantity"):
                yield Static("How many?", classes="step-title")
                with Horizontal(classes="field-row"):
                    yield Label("", id="quantity-label")
                    yield Input(type="integer", max_length=7, id="quantity")
                yield Static("", id="quantity-hint", classes="step-hint")
            with Vertical(id="step-customer"):
                yield Static("Who is it for?", classes="step-title")
                yield Label("Customer email (optional)")
                yield Input(placeholder="it@customer.example", max_length=254, id="customer-email")
                yield Static("", id="email-feedback")
                yield Label("Comment (optional)")
                yield Input(placeholder="what it is for", max_length=MAX_COMMENT, id="comment")
            with VerticalScroll(id="step-review"):
                yield Static("", id="review-title", classes="step-title")
                yield Static("", id="review-order")
                yield QuoteView(id="review-quote")
            with Vertical(id="step-done"):
                yield Static("", id="done-title", classes="step-title")
                yield Static("", id="done-key")
                yield Static("", id="done-details")
        yield Problem(id="assign-problem")
        yield Footer()

    def on_mount(self) -> None:
        self._load_catalog()
        self.query_one(KeyList).reload()
        self._go(Step.KEY)
        self._ready = True
        if self._preset is not None:
            self.show_preset(self._preset)

    @work(group="load")
    async def _load_catalog(self) -> None:
        catalog = await self.call_portal(lambda client: client.catalog())
        if catalog is None:
            return
        self.catalog = catalog
        products = self.query_one("#product-choices", Choices)
        permissions = self.seattui.permissions
        for product in catalog.products:
            label = Text(product.name, style="bold")
            label.append(f"  {self._product_line(product)}", style="dim")
            allowed = product_allowed(product, permissions)
            if not allowed:
                label.append(NEEDS_PURCHASE, style="dim")
            products.add_option(Option(label, id=product.id, disabled=not allowed))
        products.highlight_id(self.draft.product_id or None)
        self._go(self.step)

    @staticmethod
    def _product_line(product: Product) -> str:
        unit = product.unit.label(1)
        if product.kind is ProductKind.SUBSCRIPTION:
            price = format_credits(product.channel_price_per_month or 0)
            return f"subscription by {product.unit.value}, {price} a month each"
        if product.kind is ProductKind.SEAT:
            return f"per {unit}, flexible or annual seat plans"
        low = min(edition.unit_price for edition in product.editions)
        return f"per {unit}, from {format_credits(low)}" + (", with add-ons" if product.addons else "")

    @property
    def product(self) -> Product | None:
        return self.catalog.find(self.draft.product_id) if self.catalog and self.draft.product_id else None

    # -- moving between steps -------------------------------------------------------------

    def show_preset(self, key: str) -> None:
        """Open on a key (from the keys screen): the key step is answered."""
        if not self._ready:
            self._preset = key
            return
        self._preset = None
        if self.step is Step.DONE:
            self.draft = Draft()
        self.draft.key, self.draft.key_name = key, ""
        self._name_key(key)
        self._go(Step.PRODUCT)

    @work(group="load")
    async def _name_key(self, key: str) -> None:
        page = await self.call_portal(lambda client: client.keys(query=key, limit=1))
        if page and page.items and page.items[0].key == key:
            self.draft.key_name = page.items[0].name
            self._show_progress()

    # Focus moves at once (Screen.set_focus), not after a refresh (Widget.focus): keys typed
    # quickly after a step changes go to the new step's field, not the old one.

    def _go(self, step: Step) -> None:
        self.step = step
        self.query_one(Problem).clear()
        self.query_one(ContentSwitcher).current = f"step-{step.value}"
        getattr(self, f"_show_{step.value}")()
        self._show_progress()
        self.refresh_bindings()

    def _show_progress(self) -> None:
        product = self.product
        live = steps_for(product)
        crumbs = Text(no_wrap=True, overflow="ellipsis")
        for number, step in enumerate(STEP_TITLES, start=1):
            if crumbs:
                crumbs.append(" › ", style="dim")
            style = "bold reverse" if step is self.step else ("" if step in live else "dim strike")
            crumbs.append(f"{number} {STEP_TITLES[step]}", style=style)
        self.query_one("#assign-steps", Static).update(crumbs)
        answers = Text(overflow="ellipsis", no_wrap=False)
        for title, value in self.draft.answers(product, self.step):
            if answers:
                answers.append(" · ", style="dim")
            answers.append(f"{title} ", style="dim")
            answers.append(value)
        shown = self.query_one("#assign-answers", Static)
        shown.update(answers)
        # The review and the result show every answer themselves.
        shown.display = bool(answers) and self.step not in (Step.REVIEW, Step.DONE)

    def _steps(self) -> list[Step]:
        return steps_for(self.product)

    def _sync_answers(self) -> None:
        """Read the step's widgets into the draft before leaving it: keys typed quickly can
        reach the next-step binding before the fields' change messages reach the screen, and
        a list rebuilt with the same option on top sends no highlight message at all."""
        for field_id, name in TEXT_FIELDS.items():
            if FIELD_STEPS[field_id] is self.step:
                setattr(self.draft, name, self.query_one(f"#{field_id}", Input).value)
        if self.step is Step.PRODUCT:
            option = self.query_one("#product-choices", Choices).highlighted_option
            product = self.catalog.find(option.id or "") if self.catalog and option else None
            if product is not None:
                self.draft.choose_product(product, self.seattui.permissions)
        elif self.step is Step.EDITION:
            option = self.query_one("#edition-choices", Choices).highlighted_option
            if option is not None and option.id:
                self.draft.edition_id = option.id
        elif self.step is Step.TERM and self.query_one("#term-choices").display:
            option = self.query_one("#term-choices", Choices).highlighted_option
            if option is not None and option.id and not option.disabled:
                self.draft.term = Term(option.id)

    # enter reaches the step as the focused widget's own message (a list's selection, a
    # field's submission, the table's open), in order with the keys typed before it: "10"
    # then enter orders 10. The screen's enter binding serves only where nothing takes enter.

    def action_next(self) -> None:
        self._next()

    @on(OptionList.OptionSelected)
    @on(Input.Submitted)
    @on(PagedTable.Selected)
    @on(Picks.Done)
    def _entered(self, event: Message) -> None:
        event.stop()
        if self.step not in (Step.REVIEW, Step.DONE):
            self._next()

    def _next(self) -> None:
        self._sync_answers()
        focused = self.focused.id if self.focused else None
        follow = FIELD_ORDER.get(focused or "")
        if follow and self._field_next(focused or "", follow):
            return
        if self.step is Step.KEY and not self._pick_key():
            return
        try:
            self.draft.check(self.step, self.product, self.seattui.permissions)
        except errors.ValidationFailed as invalid:
            self.query_one(Problem).say(invalid.message)
            return
        steps = self._steps()
        self._go(steps[steps.index(self.step) + 1])

    def _field_next(self, focused: str, follow: str) -> bool:
        """Move to the step's next field first where it has one that matters now."""
        product = self.product
        if focused == "edition-choices" and not (product and product.addons):
            return False
        if focused == "term-choices" and self.draft.term is not Term.TRIAL:
            return False
        self.set_focus(self.query_one(f"#{follow}"))
        return True

    def _pick_key(self) -> bool:
        """Take the highlighted key, but never one left over from before the last keystroke."""
        key_list = self.query_one(KeyList)
        if not key_list.up_to_date:
            self.query_one(Problem).say(f"Still finding the keys matching {key_list.filter_text!r}; "
                                        "press enter again when they show.")
            return False
        current = key_list.table.current
        if current is not None:
            self.draft.key, self.draft.key_name = current.key, current.name
        return True

    def action_back(self) -> None:
        self._sync_answers()
        if self.step is Step.DONE:
            self._start_over()
            self.seattui.action_open_screen("dashboard")
            return
        steps = self._steps()
        index = steps.index(self.step)
        if index == 0:
            self.seattui.action_open_screen("dashboard")
            return
        self._go(steps[index - 1])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        available = {
            "next": self.step not in (Step.REVIEW, Step.DONE),
            "back": not self.confirming,
            "new_key": self.step is Step.KEY,
            "confirm": self.step is Step.REVIEW and self.quote is not None and self.quote.affordable
            and not self.confirming,
            "copy_key": self.step is Step.DONE,
            "again": self.step is Step.DONE,
        }.get(action, True)
        return available and super().check_action(action, parameters)

    def _start_over(self, key: str = "", key_name: str = "") -> None:
        self.draft = Draft(key=key, key_name=key_name)
        self.result, self.quote, self.review_token = None, None, None
        products = self.query_one("#product-choices", Choices)
        products.highlight_id(None)

    def action_restart(self) -> None:
        self._start_over()
        self._go(Step.KEY)

    def action_again(self) -> None:
        self._start_over(self.draft.key, self.draft.key_name)
        self._go(Step.PRODUCT)

    # -- the steps ------------------------------------------------------------------------

    def _show_key(self) -> None:
        key_list = self.query_one(KeyList)
        if self.draft.key:
            self.set_focus(key_list.table)
        else:
            self.set_focus(key_list.filter_input)

    def action_new_key(self) -> None:
        from seattui.tui.screens.key_form import KeyFormScreen

        def created(key: ActivationKey | None) -> None:
            if key is not None:
                self.query_one(KeyList).show_new(key)
                self.draft.key, self.draft.key_name = key.key, key.name
                self._go(Step.PRODUCT)

        self.app.push_screen(KeyFormScreen(name=self.query_one(KeyList).filter_text), created)

    def _show_product(self) -> None:
        products = self.query_one("#product-choices", Choices)
        products.highlight_id(self.draft.product_id or None)
        self.set_focus(products)

    @on(OptionList.OptionHighlighted, "#product-choices")
    def _product_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        product = self.catalog.find(event.option.id or "") if self.catalog else None
        if product is None:
            return
        self.draft.choose_product(product, self.seattui.permissions)
        self.query_one("#product-about", Static).update(product.description)
        if self.step is Step.PRODUCT:
            self._show_progress()

    def _show_edition(self) -> None:
        product = self.product
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
        editions.highlight_id(self.draft.edition_id or None)
        picks = self.query_one("#addon-picks", Picks)
        picks.clear_options()
        for addon in product.addons:
            picks.add_option((f"{addon.name}  {format_credits(addon.unit_price)} per {unit}", addon.id,
                              addon.id in self.draft.addons))
        picks.highlighted = 0 if product.addons else None
        for widget in ("#addons-title", "#addon-picks"):
            self.query_one(widget).display = bool(product.addons)
        self.set_focus(editions)

    @on(OptionList.OptionHighlighted, "#edition-choices")
    def _edition_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.draft.edition_id = event.option.id

    @on(SelectionList.SelectedChanged, "#addon-picks")
    def _addons_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.draft.addons = tuple(sorted(event.selection_list.selected))

    def _show_term(self) -> None:
        product = self.product
        if product is None:
            return
        subscription = product.kind is ProductKind.SUBSCRIPTION
        terms = self.query_one("#term-choices", Choices)
        terms.display = not subscription
        self.query_one("#channels-row").display = subscription
        for field_id in ("trial-days", "channels"):
            field = self.query_one(f"#{field_id}", Input)
            field.value = getattr(self.draft, TEXT_FIELDS[field_id])
        if subscription:
            price = format_credits(product.channel_price_per_month or 0)
            self.query_one("#term-title", Static).update(
                f"Monthly subscription: {price} credits per channel (concurrent session) a month. How many channels?")
            self.query_one("#trial-days-row").display = False
            self.set_focus(self.query_one("#channels", Input))
            return
        self.query_one("#term-title", Static).update("Which term?")
        terms.clear_options()
        permissions = self.seattui.permissions
        for term in terms_for(product):
            allowed = term_allowed(term, permissions)
            label = term_label(product, term) + ("" if allowed else NEEDS_PURCHASE)
            terms.add_option(Option(label, id=term.value, disabled=not allowed))
        terms.highlight_id(self.draft.term.value if self.draft.term else None)
        self.query_one("#trial-days-row").display = self.draft.term is Term.TRIAL
        self.set_focus(terms)

    @on(OptionList.OptionHighlighted, "#term-choices")
    def _term_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.draft.term = Term(event.option.id)
            self.query_one("#trial-days-row").display = self.draft.term is Term.TRIAL

    def _show_quantity(self) -> None:
        product = self.product
        if product is None:
            return
        self.query_one("#quantity-label", Label).update(product.unit.value.capitalize())
        hint = f"{product.name} is licensed per {product.unit.label(1)}."
        if self.draft.term in (Term.FLEXIBLE, Term.ANNUAL):
            hint += " " + term_label(product, self.draft.term) + "."
        self.query_one("#quantity-hint", Static).update(hint)
        field = self.query_one("#quantity", Input)
        field.value = self.draft.quantity
        self.set_focus(field)  # selects the number: typing replaces it

    def _show_customer(self) -> None:
        self.query_one("#customer-email", Input).value = self.draft.customer_email
        self.query_one("#comment", Input).value = self.draft.comment
        self.set_focus(self.query_one("#customer-email", Input))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        name = TEXT_FIELDS.get(event.input.id or "")
        if name is not None:
            setattr(self.draft, name, event.value)
        if event.input.id == "customer-email":
            self.query_one("#email-feedback", Static).update(email_problem(event.value))

    # -- review and result ----------------------------------------------------------------

    def _show_review(self) -> None:
        product = self.product
        view = self.query_one(QuoteView)
        self.quote = None
        if product is None:
            return
        try:
            order = self.draft.order(product)
        except errors.ValidationFailed as invalid:
            view.clear()
            self.query_one(Problem).say(invalid.message + " Go back (escape) to fix it.")
            return
        self.order = order
        sent = order.model_dump_json()
        if self.review_token is None or self.review_token[0] != sent:
            self.review_token = (sent, str(uuid.uuid4()))
        self.query_one("#review-title", Static).update("Review.")
        self.query_one("#review-order", Static).update(self._order_table(product))
        view.waiting()
        self.set_focus(self.query_one("#step-review"))
        self._quote(order)

    def _order_table(self, product: Product) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        for title, value in self.draft.answers(product, Step.REVIEW):
            table.add_row(title, value)
        if self.draft.comment.strip():
            table.add_row("Comment", self.draft.comment.strip())
        return table

    @work(exclusive=True, group="load")
    async def _quote(self, order: LicenseOrder | SubscriptionOrder) -> None:
        quote = await self.call_portal(
            lambda client: client.quote_license(order) if isinstance(order, LicenseOrder)
            else client.quote_subscription(order)  # type: ignore[arg-type]
        )
        view = self.query_one(QuoteView)
        if quote is None:
            view.clear()
            return
        self.quote = quote
        self.seattui.balance = quote.balance
        view.show_quote(quote)
        self.query_one("#review-title", Static).update(
            "Review. The balance is short: this cannot be confirmed." if not quote.affordable
            else "Review. y confirms: it is created; nothing is charged." if not quote.cost
            else "Review. y confirms: it is created and the cost debited in one step.")
        self.refresh_bindings()

    def action_confirm(self) -> None:
        if self.order is None or self.review_token is None:
            return
        self.confirming = True
        self.refresh_bindings()
        self.query_one("#review-title", Static).update("Creating …")
        self._create(self.order, self.review_token[1])

    @work(exclusive=True, group="write")
    async def _create(self, order: LicenseOrder | SubscriptionOrder, idempotency_key: str) -> None:
        try:
            result = await self.call_portal(
                lambda client: client.create_license(order, idempotency_key=idempotency_key)
                if isinstance(order, LicenseOrder)
                else client.create_subscription(order, idempotency_key=idempotency_key),  # type: ignore[arg-type]
                retry_key="y",
                raising=(errors.InsufficientCredits,),
            )
        except errors.InsufficientCredits as short:
            self.confirming = False
            self._show_review()  # the balance moved since the quote: quote again
            self.query_one(Problem).say(short.message)
            return
        self.confirming = False
        if result is None:
            self.query_one("#review-title", Static).update("Review. y tries again, safely: it is charged once.")
            self.refresh_bindings()
            return
        self.result = result
        self.seattui.announce_change(PURCHASE)
        self._go(Step.DONE)

    def _show_done(self) -> None:
        result, product = self.result, self.product
        if result is None or product is None:
            return
        if isinstance(result, License):
            title = f"License {result.id} is on the key."
            what = [product_name(self.catalog, result.product_id, result.edition_id), result.term.value,
                    plural(result.quantity, product.unit.label(1), product.unit.value)]
            if result.addons:
                what.append("add-ons " + ", ".join(result.addons))
            ends = license_ends(result)
            if ends:
                what.append(("trial ends " if result.term is Term.TRIAL else "support to " if
                             result.term is Term.PERMANENT else "term to ") + ends)
        else:
            title = f"Subscription {result.id} is on the key."
            what = [product.name, plural(result.channels, "channel"), f"paid to {result.period_ends_on:%Y-%m-%d}"]
        paid = f"Paid {format_credits(result.paid)} credits"
        if self.seattui.balance is not None:
            paid += f"; the balance is now {format_credits(self.seattui.balance)}"
        self.query_one("#done-title", Static).update(title)
        self.query_one("#done-key", Static).update(Text(result.key, style="bold"))
        self.query_one("#done-details", Static).update(
            ", ".join(what) + f".\n{paid}.\n\nc copies the key · a assigns another to this key · escape: the dashboard")
        self.set_focus(None)

    def action_copy_key(self) -> None:
        if self.result is not None:
            copy_key(self, self.result.key)
