"""The assignment wizard: key, product, edition (and add-ons), term, quantity, customer, review.

enter goes to the next step and escape to the previous one; each step is a unit
(assign_steps.py) that loads its answer from the one Draft and saves it back, so going back
and forward keeps them all. Keys typed while a step changes go to the step they were aimed at
(widgets/typed_ahead.py). The review asks the portal for a quote (balance, cost, balance
after, how it is paid and what can come back) and says what the key already holds of the
product; when the balance is short it says by how much and confirming is impossible.
Confirming sends the order with one idempotency key per order (tui/idempotency.py), so a
double press or a retry never charges twice; the result shows the key ready to copy.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Input, OptionList, Static

from seattui.domain import errors
from seattui.domain.billing import Payment, PaymentMethod
from seattui.domain.catalog import Catalog, Product, ProductKind
from seattui.domain.licensing import ActivationKey, License, LicenseOrder, Subscription, SubscriptionOrder, Term
from seattui.domain.money import format_credits
from seattui.domain.pricing import Quote
from seattui.tui import commands
from seattui.tui.assignment import STEP_TITLES, Draft, Step, held_already, steps_for
from seattui.tui.changes import PURCHASE, Area
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.assign_steps import QUESTIONS, DoneStep, KeyStep, Offer, ProductStep, ReviewStep, WizardStep
from seattui.tui.formatting import copy_key, plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.key_detail import license_ends, product_name
from seattui.tui.styles import style
from seattui.tui.widgets.choices import Picks
from seattui.tui.widgets.coupon_field import CouponField
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_table import PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.quote_view import SUBSCRIPTION, Refunds, license_refunds, on_invoice, payment_choice
from seattui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from seattui.client import PortalClient

# enter and escape move between steps at the moment they are pressed, so the keys typed after
# them wait for the step they were meant for (the screen's TypedAhead), wherever the focus was.
MOVES = ("next", "back")
BINDINGS = [replace(binding, priority=True) if binding.action in MOVES else binding
            for binding in commands.screen_bindings("assign")]


def refunds_for(product: Product, term: Term | None) -> Refunds:
    if product.kind is ProductKind.SUBSCRIPTION or term is None:
        return SUBSCRIPTION
    return license_refunds(product.refund_policy(term.value), annual=term is Term.ANNUAL)


class AssignScreen(PortalScreen):
    SCOPE = "assign"
    CSS_PATH = style("assign.tcss")
    BINDINGS = BINDINGS
    # A purchase elsewhere moves the balance a review shows; a new key belongs in the key list.
    SHOWS = frozenset({Area.CREDITS, Area.KEYS})
    AUTO_FOCUS = ""  # each step focuses its own field, never one of a hidden step

    # What the footer offers follows these (reactive bindings), never a hand-called refresh.
    step: reactive[Step] = reactive(Step.KEY, bindings=True, init=False)
    quote: reactive[Quote | None] = reactive(None, bindings=True, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.draft = Draft()
        self.catalog: Catalog | None = None
        self.order: LicenseOrder | SubscriptionOrder | None = None
        self.request_keys = RequestKeys()
        self.result: License | Subscription | None = None
        self.balance_after: Any = None  # the balance the portal reported after the purchase
        self.paid_by: Payment | None = None  # how the purchase shown as the result was paid
        self._preset: tuple[str, str | None] | None = None  # the key (and product) to open on
        self._ready = False  # composed and showing its first step
        self._mode = ""  # the app's mode this screen is the base of
        self._keys_stale = True  # the key list is read when the key step shows
        self._key_wait: Timer | None = None  # an enter waiting for the keys matching the filter

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="assign-steps")
        yield Static("", id="assign-answers")
        with ContentSwitcher(initial="step-key", id="assign-body"):
            for unit in QUESTIONS:
                yield unit(id=f"step-{unit.STEP.value}")
            yield ReviewStep(id="step-review")
            yield DoneStep(id="step-done")
        yield Problem(id="assign-problem")
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self._load_catalog()
        self._show(Step.KEY)
        self._ready = True
        self._mode = self.app.current_mode
        self.app.mode_change_signal.subscribe(self, self._mode_changed)
        if self._preset is not None:
            self.show_preset(*self._preset)

    @property
    def offer(self) -> Offer:
        return Offer(self.catalog, self.seattui.permissions)

    @property
    def product(self) -> Product | None:
        return self.offer.product(self.draft)

    def unit(self, step: Step) -> Any:
        return self.query_one(f"#step-{step.value}")

    @work(group="catalog")
    async def _load_catalog(self) -> None:
        catalog = await self.call_portal(lambda client: client.catalog())
        if catalog is None:
            return
        self.catalog = catalog
        self.query_one(ProductStep).offer(self.offer)
        if self.step is not Step.KEY:
            self._show(self.step)

    # -- opening it -----------------------------------------------------------------------

    def resume(self, draft: Draft, step: Step) -> None:
        """Show `step` with these answers: a key picked elsewhere, another license on the same key."""
        self._start_over(draft)
        self._show(step)

    def show_preset(self, key: str, product_id: str | None = None) -> None:
        """Open on a key (from the keys screen): the key step is answered; with a product (another
        plan of a subscription's product), the product step shows it chosen, enter takes it."""
        if not self._ready:
            self._preset = (key, product_id)
            return
        self._preset = None
        draft = Draft() if self.step is Step.DONE else self.draft
        draft.key, draft.key_name, draft.key_id = key, "", None
        if product_id is not None:
            draft.product_id = product_id
        self.resume(draft, Step.PRODUCT)
        self._name_key(key)

    @work(group="key-name", exclusive=True)  # a newer preset supersedes the last
    async def _name_key(self, key: str) -> None:
        page = await self.call_portal(lambda client: client.keys(query=key, limit=1))
        if page and page.items and page.items[0].key == key and self.draft.key == key:
            self.draft.key_name, self.draft.key_id = page.items[0].name, page.items[0].id
            self._show_progress()
            if self.step is Step.REVIEW:
                self.query_one(ReviewStep).show_order(self._review_answers())

    def _mode_changed(self, mode: str) -> None:
        # Left for another screen (a dialog over it is no mode change) with a finished
        # assignment shown: coming back starts a new one, not the finished one and its balance.
        if mode != self._mode and self.step is Step.DONE:
            self.resume(Draft(), Step.KEY)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        if Area.KEYS in areas:
            self._keys_stale = self.step is not Step.KEY  # a hidden list is read when its step shows
            if not self._keys_stale:
                self.query_one(KeyStep).keys.reload()
        if Area.CREDITS in areas and self.step is Step.REVIEW and not self.purchasing and self.order is not None:
            self._show(Step.REVIEW)  # the balance moved: quote again

    # -- moving between steps -------------------------------------------------------------

    def _show(self, step: Step) -> None:
        self.step = step
        self.query_one(Problem).clear()
        self.query_one(ContentSwitcher).current = f"step-{step.value}"
        unit = self.unit(step)
        if step is Step.KEY and self._keys_stale:
            self._keys_stale = False
            unit.keys.reload()
        if isinstance(unit, WizardStep):
            unit.load(self.draft, self.offer)
        elif step is Step.REVIEW:
            self._review()
        else:
            self._done()
        self._show_progress()

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

    async def action_next(self) -> None:
        await self.after_typed(self._next)

    async def action_back(self) -> None:
        await self.after_typed(self._back)

    # A click on a choice (or a remapped enter reaching a field) answers the step as enter does.
    @on(OptionList.OptionSelected)
    @on(Input.Submitted)
    @on(PagedTable.Selected)
    @on(Picks.Done)
    def _entered(self, event: Message) -> None:
        event.stop()
        if self.step not in (Step.REVIEW, Step.DONE):
            self._next()

    def _next(self) -> None:
        unit = self.unit(self.step)
        if not isinstance(unit, WizardStep):
            return
        problem = self.query_one(Problem)
        if isinstance(unit, KeyStep) and not unit.keys.up_to_date:
            self._wait_for_keys(unit)
            return
        try:
            unit.save(self.draft, self.offer)
        except errors.ValidationFailed as invalid:
            problem.say(invalid.message)
            return
        if unit.next_field(self.draft, self.offer):
            return
        product = self.product
        try:
            self.draft.check(self.step, product, self.seattui.permissions)
        except errors.ValidationFailed as invalid:
            problem.say(invalid.message)
            return
        steps = steps_for(product)
        self._show(steps[steps.index(self.step) + 1])

    def _wait_for_keys(self, step: KeyStep) -> None:
        """enter while the keys matching the filter as typed are on their way: it is meant for
        them, so it takes the first of them once they show (never a row of an older filter)."""
        self.query_one(Problem).note(f"Finding the keys matching {step.keys.filter_text!r} …; "
                                     "enter takes the first of them when they show.")
        if self._key_wait is None:
            self._key_wait = self.set_interval(0.05, self._keys_found)

    def _keys_found(self) -> None:
        step = self.query_one(KeyStep)
        if self.step is Step.KEY and not step.keys.up_to_date:
            return
        if self._key_wait is not None:
            self._key_wait.stop()
            self._key_wait = None
        if self.step is Step.KEY:
            self._next()

    def _back(self) -> None:
        unit = self.unit(self.step)
        if isinstance(unit, WizardStep):
            with suppress(errors.ValidationFailed):  # a key list still loading: nothing to keep
                unit.save(self.draft, self.offer)
        if self.step is Step.DONE:
            self.resume(Draft(), Step.KEY)
            self.seattui.action_open_screen("dashboard")
            return
        steps = steps_for(self.product)
        index = steps.index(self.step)
        if index == 0:
            self.seattui.action_open_screen("dashboard")
            return
        self._show(steps[index - 1])

    @on(OptionList.OptionHighlighted, "#product-choices")
    def _product_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        product = self.catalog.find(event.option.id or "") if self.catalog else None
        self.query_one(ProductStep).describe(product)
        if self.step is Step.PRODUCT:
            self.query_one(ProductStep).save(self.draft, self.offer)
            self._show_progress()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        available = {
            "next": self.step not in (Step.REVIEW, Step.DONE),
            "back": not self.purchasing,
            "new_key": self.step is Step.KEY,
            "confirm": self.step is Step.REVIEW and self.quote is not None and self.quote.affordable
            and not self.quote.coupon_refusal,
            "pay_by": self.step is Step.REVIEW and self.quote is not None and not self.purchasing
            and bool(payment_choice(self.quote, "ctrl+t")),
            "copy_key": self.step is Step.DONE,
            "again": self.step is Step.DONE,
        }.get(action, True)
        return available and super().check_action(action, parameters)

    @property
    def purchasing(self) -> bool:
        """The confirmed purchase is on its way (start_write's "confirm")."""
        return "confirm" in self.writes_running

    def _start_over(self, draft: Draft) -> None:
        self.draft = draft
        self.result, self.quote, self.order, self.balance_after = None, None, None, None
        self.request_keys = RequestKeys()

    def action_restart(self) -> None:
        self.resume(Draft(), Step.KEY)

    def action_again(self) -> None:
        """Another license on the same key."""
        self.resume(Draft(key=self.draft.key, key_name=self.draft.key_name, key_id=self.draft.key_id), Step.PRODUCT)

    def action_new_key(self) -> None:
        from seattui.tui.screens.key_form import KeyFormScreen

        keys = self.query_one(KeyStep).keys

        def created(key: ActivationKey | None) -> None:
            if key is not None:
                keys.show_new(key)
                self.draft.key, self.draft.key_name, self.draft.key_id = key.key, key.name, key.id
                self._show(Step.PRODUCT)

        self.app.push_screen(KeyFormScreen(name=keys.filter_text), created)

    # -- review and result ----------------------------------------------------------------

    def _review_answers(self) -> list[tuple[str, str]]:
        answers = self.draft.answers(self.product, Step.REVIEW)
        for title, value in (("Comment", self.draft.comment), ("Reference", self.draft.reference_name),
                             ("PO number", self.draft.po_number)):
            if value.strip():
                answers.append((title, value.strip()))
        return answers

    def _review(self, *, focus: bool = True) -> None:
        product = self.product
        review = self.query_one(ReviewStep)
        self.quote = None
        if product is None:
            return
        try:
            order = self.draft.order(product)
        except errors.ValidationFailed as invalid:
            review.clear()
            self.query_one(Problem).say(invalid.message + " Go back (escape) to fix it.")
            return
        self.order = order
        # A new order starts without the last one's coupon; the same order keeps its own.
        review.query_one(CouponField).set_code(self.draft.coupon)
        review.title("Review.")
        review.show_order(self._review_answers())
        review.waiting()
        if focus:
            self.set_focus(review)
        self._quote(order, product)

    # The coupon field says when typing pauses; each quote supersedes the last (exclusive
    # worker), so the newest code's answer is the one shown.
    @on(CouponField.Editing)
    def _coupon_typed(self) -> None:
        self.quote = None  # y waits for the quote of what is typed now

    @on(CouponField.Settled)
    def _coupon_settled(self, event: CouponField.Settled) -> None:
        self.draft.coupon = event.code
        if self.step is Step.REVIEW:
            self._review(focus=False)

    @work(exclusive=True, group="quote")  # a newer review supersedes the last
    async def _quote(self, order: LicenseOrder | SubscriptionOrder, product: Product) -> None:
        draft = self.draft

        async def quote_and_holdings(client: PortalClient) -> tuple[Quote, str]:
            return await asyncio.gather(
                client.quote_license(order) if isinstance(order, LicenseOrder)
                else client.quote_subscription(order),
                self._held_already(client, draft, product),
            )

        answer = await self.call_portal(quote_and_holdings)
        review = self.query_one(ReviewStep)
        if answer is None:
            review.clear()
            return
        quote, held = answer
        self.seattui.balance = quote.balance
        review.show_held(held)
        review.show_quote(quote, refunds_for(product, draft.term), choice="ctrl+t")
        review.title(
            "Review. The coupon does not apply: clear it or type another." if quote.coupon_refusal
            else "Review. The balance is short: this cannot be confirmed." if not quote.affordable
            else "Review. y confirms: it is created; nothing is charged." if not quote.cost
            else "Review. y confirms: it is created and put on the invoice in one step." if on_invoice(quote)
            else "Review. y confirms: it is created and the cost debited in one step.")
        self.quote = quote

    @staticmethod
    async def _held_already(client: PortalClient, draft: Draft, product: Product) -> str:
        """What the key already holds of the product, said before the user pays for another."""
        key_id = draft.key_id
        if key_id is None:
            page = await client.keys(query=draft.key, limit=1)
            found = [key for key in page.items if key.key == draft.key]
            if not found:
                return ""
            key_id = draft.key_id = found[0].id
        return held_already(await client.key(key_id), product)

    def action_pay_by(self) -> None:
        """Monthly terms with credits left: pay this order from credits now, or put it on the
        month's invoice; the review quotes again, and the order sent says which."""
        self.draft.pay_from_credits = not self.draft.pay_from_credits
        self._show(Step.REVIEW)

    def action_confirm(self) -> None:
        order = self.order
        if order is None or self.quote is None:
            return
        # The one write mechanism: never cancelled by another key, y greyed out, q asks meanwhile.
        if self.start_write("confirm", partial(self._create, order, self.quote, self.request_keys.key_for(order))):
            self.query_one(ReviewStep).title("Creating …")

    async def _create(self, order: LicenseOrder | SubscriptionOrder, quote: Quote, idempotency_key: str) -> None:
        try:
            result = await self.call_portal(
                lambda client: client.create_license(order, idempotency_key=idempotency_key)
                if isinstance(order, LicenseOrder)
                else client.create_subscription(order, idempotency_key=idempotency_key),
                retry_key="y",
                raising=(errors.InsufficientCredits,),
            )
        except errors.InsufficientCredits as short:  # a credit limit reached too
            self.writes_running.discard("confirm")  # so the review quotes again at once
            self._show(Step.REVIEW)  # the balance or the unpaid total moved since the quote
            self.query_one(Problem).say(short.message)
            return
        if result is None:
            self.query_one(ReviewStep).title("Review. y tries again, safely: it is charged once.")
            return
        self.request_keys.succeeded(order)
        try:
            self.balance_after = (await self.seattui.portal_call(lambda client: client.balance())).balance
        except errors.SeattuiError:
            self.balance_after = None  # the header reads it again; the result says what was paid
        self.result, self.paid_by = result, quote.payment
        self.seattui.announce_change(PURCHASE, balance=self.balance_after)
        self._show(Step.DONE)

    def _done(self) -> None:
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
        paid_by = self.paid_by
        if paid_by is not None and paid_by.method is PaymentMethod.INVOICE and result.paid:
            paid = (f"{format_credits(result.paid)} is on the {paid_by.invoice_month} invoice; "
                    "nothing was taken from credits")
        else:
            paid = f"Paid {format_credits(result.paid)} credits"
        if self.balance_after is not None:
            paid += f"; the balance is now {format_credits(self.balance_after)}"
        self.query_one(DoneStep).show(title, result.key, ", ".join(what) + f".\n{paid}.\n\n"
                                      "c copies the key · a assigns another to this key · escape: the dashboard")
        self.set_focus(None)

    def action_copy_key(self) -> None:
        if self.result is not None:
            copy_key(self, self.result.key)
