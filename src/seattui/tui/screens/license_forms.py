"""The dialogs of the licenses and support screens. Each keeps what was typed when the portal
refuses it and says why inside the dialog; paid changes show the portal's live quote and then
ask for a confirmation with the exact cost before anything is charged."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from seattui.domain.billing import MAX_PO_NUMBER
from seattui.domain.catalog import Catalog, Product, ProductKind
from seattui.domain.errors import ValidationFailed
from seattui.domain.licensing import (
    MAX_SUPPORT_YEARS,
    BatchResult,
    SupportExtension,
    License,
    LicenseEdit,
    LicenseFacets,
    LicenseFilter,
    LicenseStatus,
    LicenseUpgrade,
    Term,
)
from seattui.domain.pricing import Quote
from seattui.domain.validation import build
from seattui.tui.changes import LICENSE_EDIT, PURCHASE
from seattui.tui import commands
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalModal
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.form import FormScreen
from seattui.tui.screens.license_list import LicenseText
from seattui.tui.styles import style
from seattui.tui.widgets.coupon_field import CouponField
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.quote_view import LICENSE_CHANGE, Refunds, license_refunds, quote_renderable, shortfall_words

class EditScreen(FormScreen):
    """The customer's email and the comment of one license (free, no confirmation)."""

    TITLE_TEXT = "Edit license"

    def __init__(self, license: License, text: LicenseText) -> None:
        super().__init__()
        self.license, self.text = license, text

    def fields(self) -> ComposeResult:
        yield Static(f"{self.license.key} · {self.text.describe(self.license)}", classes="form-about")
        yield Label("Customer email")
        yield Input(self.license.customer_email or "", placeholder="it@customer.example", id="edit-email")
        yield Label("Comment")
        yield Input(self.license.comment, placeholder="anything your team should know", id="edit-comment",
                    max_length=1000)

    def action_submit(self) -> None:
        try:
            edit = build(LicenseEdit, customer_email=self.query_one("#edit-email", Input).value,
                         comment=self.query_one("#edit-comment", Input).value)
        except ValidationFailed as error:
            self.refused(error, {"customer_email": "Customer email", "comment": "Comment"})
            return
        self.start_write("submit", partial(self._save, edit))

    async def _save(self, edit: LicenseEdit) -> None:
        license_id = self.license.id
        edited = await self.call_portal(lambda client: client.edit_license(license_id, edit))
        if edited is not None:
            self.seattui.announce_change(LICENSE_EDIT)
            self.dismiss(edited)


class QuotedForm(FormScreen):
    """A paid change: every edit asks the portal for a quote (the newest wins); ctrl+s shows
    the confirmation with that quote; yes applies it with one idempotency key.

    Every paid change takes an optional purchase-order number for its invoice, and on monthly
    terms with credits left, the choice to pay it from credits now: the quote follows it."""

    HINT = "ctrl+s: review and confirm · escape: cancel"
    CONFIRM = "Pay"

    @property
    def refunds(self) -> Refunds:
        return LICENSE_CHANGE

    def purchase_fields(self) -> ComposeResult:
        with Horizontal(id="po-row"):
            yield Label("PO number, on the invoice (optional)")
            yield Input(placeholder="PO-2026-0042", max_length=MAX_PO_NUMBER, id="po-number")
        yield CouponField()
        yield Checkbox("Pay from credits now, not on the monthly invoice", False, id="pay-from-credits")

    def purchase(self) -> dict[str, Any]:
        """What the request carries for its invoice and its payment (domain.billing.Purchase)."""
        return {"po_number": self.query_one("#po-number", Input).value,
                "pay_from_credits": self.query_one("#pay-from-credits", Checkbox).value,
                "coupon": self.query_one(CouponField).code}

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#pay-from-credits").display = False  # offered once a quote says it may be

    def __init__(self) -> None:
        super().__init__()
        self.quote: Quote | None = None
        self.request_keys = RequestKeys()  # the same key for every try of the same change

    def wanted(self) -> Any:
        """What the fields ask for, validated (ValidationFailed names the field)."""
        raise NotImplementedError

    async def quote_for(self, client: Any, wanted: Any) -> Quote:
        raise NotImplementedError

    async def apply(self, client: Any, wanted: Any, key: str) -> Any:
        raise NotImplementedError

    def confirmation(self, wanted: Any) -> str:
        raise NotImplementedError

    def requote(self) -> None:
        self.quote = None
        self.query_one(CouponField).show(None)  # said again with the quote, if there is one
        try:
            wanted = self.wanted()
        except ValidationFailed as error:
            self.query_one("#form-quote", Static).update("")
            self.refused(error, self.FIELD_NAMES)
            return
        self.query_one(Problem).clear()
        hint = self.nothing_to_quote(wanted)
        if hint:
            self.query_one("#form-quote", Static).update(Text(hint, style="dim"))
            return
        self.query_one("#form-quote", Static).update(Text("Asking the portal for a quote …", style="dim"))
        self._quote(wanted)

    def nothing_to_quote(self, wanted: Any) -> str:
        """Why there is nothing to price yet (the fields ask for no change), or ''."""
        return ""

    FIELD_NAMES: ClassVar[dict[str, str]] = {}

    @work(exclusive=True, group="quote")  # the newest edit supersedes the last
    async def _quote(self, wanted: Any) -> None:
        quote = await self.call_portal(lambda client: self.quote_for(client, wanted))
        if quote is None:
            self.query_one("#form-quote", Static).update("")
            return
        self.quote = quote
        choice = self.query_one("#pay-from-credits", Checkbox)
        # Offered on monthly terms with credits left; kept while ticked, so it can be unticked.
        choice.display = choice.value or bool(quote.payment and quote.payment.may_pay_from_credits and quote.cost)
        self.query_one("#form-quote", Static).update(quote_renderable(quote, self.refunds))
        self.query_one(CouponField).show(quote)

    @on(CouponField.Editing)
    def _coupon_typed(self) -> None:
        self.quote = None  # ctrl+s waits for the quote of the code typed now

    @on(CouponField.Settled)
    def _coupon_settled(self) -> None:
        self.requote()

    def action_submit(self) -> None:
        try:
            wanted = self.wanted()
        except ValidationFailed as error:
            self.refused(error, self.FIELD_NAMES)
            return
        hint = self.nothing_to_quote(wanted)
        if hint:
            self.say(hint)
            return
        if self.quote is None:
            self.say("Wait for the quote, then press ctrl+s again.")
            return
        if self.quote.coupon_refusal:
            self.say(self.quote.coupon_refusal + " Clear the coupon code to go on without it.")
            return
        if not self.quote.affordable:
            self.say(shortfall_words(self.quote))
            return
        self.start_write("submit", partial(self._confirm_and_apply, wanted, self.quote))

    async def _confirm_and_apply(self, wanted: Any, quote: Quote) -> None:
        details = quote_renderable(quote, self.refunds)
        if not await self.app.push_screen_wait(ConfirmScreen(self.confirmation(wanted), details, confirm=self.CONFIRM)):
            return
        key = self.request_keys.key_for(wanted)  # the same for every try of this change: charged once
        result = await self.call_portal(lambda client: self.apply(client, wanted, key))
        if result is not None:
            self.request_keys.succeeded(wanted)
            self.seattui.announce_change(PURCHASE, balance=getattr(result, "balance_after", None))
            self.dismiss(result)


class UpgradeScreen(QuotedForm):
    """Edition up, quantity up, add-ons added, or a trial made permanent; never down."""

    TITLE_TEXT = "Upgrade license"
    CONFIRM = "Upgrade"
    FIELD_NAMES: ClassVar[dict[str, str]] = {"edition_id": "Edition", "quantity": "Quantity", "addons": "Add-ons",
                                             "to_permanent": "Permanent", "term": "Term", "po_number": "PO number"}

    def __init__(self, license: License, product: Product, text: LicenseText) -> None:
        super().__init__()
        self.license, self.product, self.text = license, product, text

    def fields(self) -> ComposeResult:
        license, product = self.license, self.product
        yield Static(f"{license.key} · {self.text.describe(license)}", classes="form-about")
        rank = product.edition_rank(license.edition_id) if license.edition_id else 0
        unit = product.unit.label(1)
        yield Label("Edition (up only)")
        yield Select([(f"{edition.name} · {edition.unit_price} per {unit}", edition.id)
                      for edition in product.editions[rank:]],
                     value=license.edition_id or Select.NULL, allow_blank=False, id="upgrade-edition")
        yield Label(f"Quantity ({product.unit.value}, at least {license.quantity:,})")
        yield Input(str(license.quantity), type="integer", id="upgrade-quantity")
        for addon in product.addons:
            have = addon.id in license.addons
            yield Checkbox(f"Add-on {addon.name} · {addon.unit_price} per {unit}", have, disabled=have,
                           id=f"addon-{addon.id}")
        if license.term is Term.TRIAL:
            yield Checkbox("Make it permanent (with 12 months of support)", True, id="upgrade-permanent")
        yield from self.purchase_fields()
        yield Static("", id="form-quote")

    @property
    def refunds(self) -> Refunds:
        term = Term.PERMANENT if self.license.term is Term.TRIAL else self.license.term
        return license_refunds(self.product.refund_policy(term.value), change=True, annual=term is Term.ANNUAL)

    def on_mount(self) -> None:
        super().on_mount()
        self.requote()

    def wanted(self) -> LicenseUpgrade:
        quantity_text = self.query_one("#upgrade-quantity", Input).value.strip()
        if not quantity_text.isdigit():
            raise ValidationFailed("Type the quantity as a whole number.", {"quantity": "a whole number, like 25"})
        addons = tuple(addon.id for addon in self.product.addons
                       if self.query_one(f"#addon-{addon.id}", Checkbox).value)
        permanent = self.license.term is Term.TRIAL and self.query_one("#upgrade-permanent", Checkbox).value
        edition = self.query_one("#upgrade-edition", Select).value
        return build(LicenseUpgrade, edition_id=edition if isinstance(edition, str) else None,
                     quantity=int(quantity_text), addons=addons, to_permanent=permanent, **self.purchase())

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        if self.is_mounted:
            self.requote()

    def nothing_to_quote(self, wanted: LicenseUpgrade) -> str:
        license = self.license
        if (wanted.edition_id == license.edition_id and wanted.quantity == license.quantity
                and set(wanted.addons or ()) == set(license.addons) and not wanted.to_permanent):
            return "Raise the edition or the quantity, or add an add-on, to see what it costs."
        return ""

    async def quote_for(self, client: Any, wanted: LicenseUpgrade) -> Quote:
        return await client.quote_upgrade(self.license.id, wanted)  # type: ignore[no-any-return]

    async def apply(self, client: Any, wanted: LicenseUpgrade, key: str) -> License:
        return await client.upgrade_license(self.license.id, wanted, idempotency_key=key)  # type: ignore[no-any-return]

    def confirmation(self, wanted: LicenseUpgrade) -> str:
        edition = next((e.name for e in self.product.editions if e.id == wanted.edition_id), "")
        becomes = f"{self.product.name} {edition}, {wanted.quantity:,} {self.product.unit.label(wanted.quantity or 1)}"
        if wanted.addons:
            becomes += " with " + ", ".join(self.product.addon(a).name for a in wanted.addons)
        if wanted.to_permanent:
            becomes += ", permanent"
        return f"Upgrade license {self.license.id} on {self.license.key} to {becomes}?"


class ExtendScreen(QuotedForm):
    """Support of many licenses extended by whole years: one quote, one transaction."""

    TITLE_TEXT = "Extend support"
    CONFIRM = "Extend"
    FIELD_NAMES: ClassVar[dict[str, str]] = {"years": "Years", "license_ids": "Licenses", "po_number": "PO number"}

    def __init__(self, license_ids: list[int]) -> None:
        super().__init__()
        self.license_ids = license_ids

    def fields(self) -> ComposeResult:
        count = len(self.license_ids)
        yield Static(f"{count:,} license{'s' if count != 1 else ''}: an expired support extends from today, "
                     "a running one from its end date.", classes="form-about")
        yield Label(f"Years (1 to {MAX_SUPPORT_YEARS})")
        yield Input("1", type="integer", id="extend-years", max_length=1)
        yield from self.purchase_fields()
        yield Static("", id="form-quote")

    def on_mount(self) -> None:
        super().on_mount()
        self.requote()

    def wanted(self) -> SupportExtension:
        text = self.query_one("#extend-years", Input).value.strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_SUPPORT_YEARS:
            raise ValidationFailed("Years", {"years": f"a whole number from 1 to {MAX_SUPPORT_YEARS}"})
        return build(SupportExtension, license_ids=self.license_ids, years=int(text), **self.purchase())

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        if self.is_mounted:
            self.requote()

    @staticmethod
    def _purchase(wanted: SupportExtension) -> dict[str, Any]:
        return wanted.model_dump(include={"po_number", "reference_name", "pay_from_credits", "coupon"})

    async def quote_for(self, client: Any, wanted: SupportExtension) -> Quote:
        return await client.quote_support(  # type: ignore[no-any-return]
            wanted.license_ids, wanted.years, **self._purchase(wanted))

    async def apply(self, client: Any, wanted: SupportExtension, key: str) -> BatchResult:
        return await client.extend_support(  # type: ignore[no-any-return]
            wanted.license_ids, wanted.years, idempotency_key=key, **self._purchase(wanted))

    def confirmation(self, wanted: SupportExtension) -> str:
        years = wanted.years
        count = len(self.license_ids)
        return (f"Extend the support of {count:,} license{'s' if count != 1 else ''} "
                f"by {years} year{'s' if years != 1 else ''}?")


class DateRangeScreen(FormScreen):
    """Licenses whose support ends between two dates (either may be left empty)."""

    TITLE_TEXT = "Support ends between"
    HINT = "ctrl+s or enter: show · escape: cancel"

    def __init__(self, wanted: LicenseFilter) -> None:
        super().__init__()
        self.wanted = wanted

    def fields(self) -> ComposeResult:
        yield Label("From (YYYY-MM-DD, empty: no start)")
        yield Input(str(self.wanted.support_from or ""), placeholder="2026-01-01", id="range-from")
        yield Label("To (YYYY-MM-DD, empty: no end)")
        yield Input(str(self.wanted.support_to or ""), placeholder="2026-12-31", id="range-to")

    def action_submit(self) -> None:
        values = {name: self.query_one(f"#range-{name}", Input).value.strip() or None for name in ("from", "to")}
        try:
            wanted = build(LicenseFilter, **(self.wanted.model_dump(exclude={"support", "support_from", "support_to"})
                                             | {"support_from": values["from"], "support_to": values["to"]}))
        except ValidationFailed as error:
            names = {"support_from": "From", "support_to": "To", "body": "Dates"}
            self.refused(error, names)
            return
        self.dismiss(wanted)


# -- facets -------------------------------------------------------------------------------------

FACET_LABELS = {"product": "Product", "edition": "Edition", "term": "Term", "status": "Status"}
STATUS_WORDS = {LicenseStatus.ASSIGNED.value: "assigned", LicenseStatus.ACTIVATED.value: "activated",
                LicenseStatus.TRIAL_ENDED.value: "trial ended", LicenseStatus.TERM_ENDED.value: "term ended"}


def facet_value(wanted: LicenseFilter, facet: str) -> str | None:
    value = {"product": wanted.product_id, "edition": wanted.edition_id, "term": wanted.term,
             "status": wanted.status}[facet]
    return None if value is None else str(value)


def facet_name(facet: str, value: str, catalog: Catalog | None) -> str:
    if facet == "product" and catalog and catalog.find(value):
        return catalog.product(value).name
    if facet == "edition" and catalog:
        return next((e.name for p in catalog.products for e in p.editions if e.id == value), value)
    if facet == "status":
        return STATUS_WORDS.get(value, value)
    return value


def with_facet(wanted: LicenseFilter, facet: str, value: str | None) -> LicenseFilter:
    field = {"product": "product_id", "edition": "edition_id", "term": "term", "status": "status"}[facet]
    return build(LicenseFilter, **(wanted.model_dump() | {field: value}))


class FacetScreen(PortalModal[LicenseFilter | None]):
    """Product, edition, term and status, each with how many licenses it would show; enter
    picks the value under the cursor (or any), tab goes to the next facet."""

    CSS_PATH = style("license_forms.tcss")
    BINDINGS = commands.bindings("facets")

    def __init__(self, wanted: LicenseFilter, catalog: Catalog | None) -> None:
        super().__init__()
        self.wanted, self.catalog = wanted, catalog

    def compose(self) -> ComposeResult:
        with Vertical(id="facets"):
            yield Static("Filter by · enter picks · tab next facet · escape closes", id="form-title")
            yield Problem(id="facets-problem")
            with Grid(id="facet-grid"):
                for facet, label in FACET_LABELS.items():
                    with Vertical(classes="facet"):
                        yield Static(label, classes="facet-title")
                        yield OptionList(Option(Text("counting …", style="dim"), disabled=True), id=f"facet-{facet}")

    def on_mount(self) -> None:
        self.query_one("#facet-product", OptionList).focus()
        self._count()

    @work(exclusive=True, group="load")
    async def _count(self) -> None:
        wanted = self.wanted
        counts = await self.call_portal(lambda client: client.license_facets(wanted))
        if counts is not None:
            self._show(counts)

    def _show(self, counts: LicenseFacets) -> None:
        by_facet = {"product": counts.products, "edition": counts.editions, "term": counts.terms,
                    "status": counts.statuses}
        for facet, values in by_facet.items():
            chosen = facet_value(self.wanted, facet)
            lister = self.query_one(f"#facet-{facet}", OptionList)
            lister.clear_options()
            total = sum(values.values())
            lister.add_option(Option(self._label("any", total, chosen is None), id=f"{facet}:"))
            for value, count in sorted(values.items(), key=lambda item: facet_name(facet, item[0], self.catalog)):
                lister.add_option(Option(self._label(facet_name(facet, value, self.catalog), count, value == chosen),
                                         id=f"{facet}:{value}"))
            if chosen is not None and chosen not in values:  # chosen, but nothing left under the other facets
                lister.add_option(Option(self._label(facet_name(facet, chosen, self.catalog), 0, True),
                                         id=f"{facet}:{chosen}"))
            index = next((i for i, option in enumerate(lister.options) if option.id == f"{facet}:{chosen or ''}"), 0)
            lister.highlighted = index

    @staticmethod
    def _label(name: str, count: int, chosen: bool) -> Text:
        return Text.assemble(("● " if chosen else "  ", "bold"), (name, "bold" if chosen else ""),
                             (f"  {count:,}", "dim"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        facet, _, value = (event.option.id or "").partition(":")
        if facet in FACET_LABELS:
            self.dismiss(with_facet(self.wanted, facet, value or None))

    def action_cancel(self) -> None:
        self.dismiss(None)


def facets_text(wanted: LicenseFilter, catalog: Catalog | None) -> Text:
    """The chosen facets in a line, or how to choose some."""
    chosen = [(FACET_LABELS[facet].lower(), facet_name(facet, value, catalog)) for facet in FACET_LABELS
              if (value := facet_value(wanted, facet)) is not None]
    if wanted.trial_ending:
        chosen.append(("trials", "ending within 7 days"))
    if not chosen:
        return Text("all products · f: facets", style="dim")
    return Text(" · ".join(f"{name}: {value}" for name, value in chosen), style="bold")


class Upgrades:
    """`u` on a list of licenses (the licenses and the support screens): edition up, quantity
    up, add-ons, or a trial made permanent, for the license under the cursor."""

    table: Any
    text: LicenseText
    app: Any
    notify: Any

    def action_upgrade(self) -> None:
        license = self.table.current
        if license is None:
            return
        product = self.text.catalog.find(license.product_id) if self.text.catalog else None
        if product is None or product.kind is not ProductKind.PERPETUAL:
            name = product.name if product else license.product_id
            self.notify(f"{name} licenses are not upgraded here; seat plans change on the employees screen.",
                        severity="warning")
            return
        self.app.push_screen(UpgradeScreen(license, product, self.text), self._upgraded)

    def _upgraded(self, license: License | None) -> None:
        if license is not None:
            self.table.replace_row(license)
            self.notify(f"License {license.id} is now {self.text.describe(license)}.")
