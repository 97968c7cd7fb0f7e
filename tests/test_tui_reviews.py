"""Every paid review says how it is paid, in the portal's words: "Paid now from credits: balance
after …" (prepaid) or "On the March invoice: unpaid after …, limit …" (monthly terms), and on
monthly terms with credits left the user chooses, which changes what is charged (checked
through the API). The wizard's reference name and PO number, and the dialogs' PO number, reach
the order. Every delete confirmation says what comes back and how, or why nothing does. The
employee form and the import send one idempotency key per body, across retries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from seattui.client import PortalClient
from seattui.domain.billing import BillingTerms, InvoiceKind, OrderKind, PaymentMethod, PaymentTerms
from seattui.domain.errors import PortalUnavailable
from seattui.domain.licensing import SubscriptionOrder, Term
from seattui.domain.people import EmployeeFilter
from seattui.portal.context import Tx
from seattui.portal.services import accounts, billing, licenses
from seattui.tui.assignment import Step
from seattui.tui.screens.assign import AssignScreen
from seattui.tui.screens.channels import ChannelsScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.employee_import import ImportScreen
from seattui.tui.screens.employees import EmployeesScreen
from seattui.tui.screens.key_detail import KeyDetailScreen
from seattui.tui.screens.license_forms import ExtendScreen, UpgradeScreen
from seattui.tui.screens.licenses import LicensesScreen
from seattui.tui.screens.support import SupportScreen
from seattui.tui.widgets.key_list import KeyList

from harness import PortalHarness
from license_setup import a_license, on_device
from seat_support import staff
from tui_support import make_app, screen_text, shows, type_text, until, until_screen, until_text

SIZE = (120, 40)
PRICE = Decimal("98.00")  # RemoteDesk Standard, 2 users


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


async def monthly_terms(harness: PortalHarness, limit: str, org: str = "Acme") -> None:
    async with harness.portal.store.write() as conn:
        actor = await accounts.organization_by_name(conn, org)
        await billing.set_terms(Tx(conn=conn, actor=actor, catalog=harness.portal.catalog, now=harness.clock.now),
                                BillingTerms(terms=PaymentTerms.MONTHLY, credit_limit=Decimal(limit)))


async def on_dashboard(pilot: Any) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")


async def review_in_wizard(pilot: Any, key_name: str, *, reference: str = "", po: str = "") -> AssignScreen:
    """RemoteDesk Standard, permanent, 2 users on the key, with the invoice's names, to the review."""
    await on_dashboard(pilot)
    pilot.app.action_open_screen("assign")
    wizard: AssignScreen = await until_screen(pilot, AssignScreen)
    await until(pilot, lambda: wizard.catalog is not None, what="the catalog")
    await type_text(pilot, key_name)
    await until(pilot, lambda: wizard.query_one(KeyList).up_to_date
                and (row := wizard.query_one("#assign-keys-table").current) is not None
                and row.name == key_name, what=f"the key {key_name}")
    for step, list_id, option in ((Step.PRODUCT, "product-choices", "remotedesk"),
                                  (Step.EDITION, "edition-choices", "standard"),
                                  (Step.TERM, "term-choices", "permanent")):
        await pilot.press("enter")
        await until(pilot, lambda: wizard.step is step, what=step.value)
        choices = wizard.query_one(f"#{list_id}")
        while choices.highlighted_option.id != option:
            await pilot.press("j")
    await pilot.press("enter")
    await until(pilot, lambda: wizard.step is Step.QUANTITY, what="the quantity")
    await type_text(pilot, "2")
    await pilot.press("enter", "enter", "enter")  # the quantity, no email, no comment
    await type_text(pilot, reference)
    await pilot.press("enter")
    await type_text(pilot, po)
    await pilot.press("enter")
    await until(pilot, lambda: wizard.step is Step.REVIEW and wizard.quote is not None, what="the quote")
    return wizard


def paid_with(wizard: AssignScreen) -> PaymentMethod | None:
    quote = wizard.quote
    return quote.payment.method if quote is not None and quote.payment is not None else None


# -- the wizard ------------------------------------------------------------------------------------

async def test_a_prepaid_review_says_paid_now_from_credits_and_offers_no_choice(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await review_in_wizard(pilot, "Contoso HQ")
        await until_text(pilot, "Paid now from credits: balance after 902.00.")
        assert shows(app, "Refundable by deleting the license within 14 days of the purchase, while it was never "
                          "activated on a device.")
        assert wizard.check_action("pay_by", ()) is False and "Credits or invoice" not in screen_text(app)


async def test_on_monthly_terms_the_review_puts_it_on_the_invoice_with_its_names(harness: PortalHarness) -> None:
    await monthly_terms(harness, "5000.00")
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await review_in_wizard(pilot, "Contoso HQ", reference="Front desk", po="PO-2026-77")
        await until_text(pilot, "On the March invoice: unpaid after 98.00, limit 5,000.00.")
        assert shows(app, "Reference Front desk") and shows(app, "PO number PO-2026-77")
        assert shows(app, "ctrl+t: pay it from credits now instead (balance 1,000.00)")
        await pilot.press("ctrl+t")  # and back: the invoice again
        await until(pilot, lambda: paid_with(wizard) is PaymentMethod.CREDITS, what="the quote paid from credits")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: paid_with(wizard) is PaymentMethod.INVOICE, what="the quote on the invoice")
        await pilot.press("y")
        await until_text(pilot, "98.00 is on the March 2026 invoice; nothing was taken from credits")
    assert (await owner.balance()).balance == Decimal("1000.00")
    [order] = (await owner.orders()).items
    assert (order.paid_with, order.reference_name, order.po_number, order.total) == (
        PaymentMethod.INVOICE, "Front desk", "PO-2026-77", PRICE)
    [draft] = (await owner.invoices(unpaid=True)).items
    [line] = (await owner.invoice(str(draft.id))).lines
    assert (line.reference_name, line.amount) == ("Front desk", PRICE)


async def test_on_monthly_terms_p_pays_from_credits_now_instead(harness: PortalHarness) -> None:
    await monthly_terms(harness, "5000.00")
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await review_in_wizard(pilot, "Contoso HQ")
        assert paid_with(wizard) is PaymentMethod.INVOICE
        await pilot.press("ctrl+t")
        await until_text(pilot, "Paid now from credits: balance after 902.00.")
        assert shows(app, "ctrl+t: put it on the monthly invoice instead") and paid_with(wizard) is PaymentMethod.CREDITS
        await pilot.press("y")
        await until_text(pilot, "Paid 98.00 credits; the balance is now 902.00.")
    assert (await owner.balance()).balance == Decimal("902.00")
    [order] = (await owner.orders()).items
    assert order.paid_with is PaymentMethod.CREDITS
    assert [invoice.kind for invoice in (await owner.invoices()).items] == [InvoiceKind.ORDER]  # no draft


async def test_past_the_credit_limit_the_review_says_by_how_much_and_cannot_be_confirmed(
        harness: PortalHarness) -> None:
    await monthly_terms(harness, "50.00")
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await review_in_wizard(pilot, "Contoso HQ")
        await until_text(pilot, "Over the credit limit: the unpaid total would be 98.00, 48.00 over the limit of "
                                "50.00. Nothing is charged")
        assert wizard.check_action("confirm", ()) is False
        await pilot.press("ctrl+t")  # the credits cover it
        await until(pilot, lambda: paid_with(wizard) is PaymentMethod.CREDITS, what="the quote paid from credits")
        assert wizard.check_action("confirm", ()) is True


# -- upgrade, support, channels ------------------------------------------------------------------

async def test_the_upgrade_dialog_on_monthly_terms_may_pay_from_credits_and_sends_the_po(
        harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=2)  # prepaid: 902.00 left
    await monthly_terms(harness, "5000.00")
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        app.action_open_screen("licenses")
        screen = await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: screen.loaded and screen.text.catalog is not None, what="the list")
        await pilot.press("u")
        dialog = await until_screen(pilot, UpgradeScreen)
        await pilot.press("backspace")
        await type_text(pilot, "3")
        await until_text(pilot, "On the March invoice: unpaid after 49.00, limit 5,000.00.")
        choice = dialog.query_one("#pay-from-credits")
        assert choice.display
        dialog.set_focus(choice)
        await pilot.press("space")
        await until_text(pilot, "Paid now from credits: balance after 853.00.")
        dialog.set_focus(dialog.query_one("#po-number"))
        await type_text(pilot, "PO-9")
        await until(pilot, lambda: dialog.quote is not None, what="the quote")
        await pilot.press("ctrl+s")
        await until_screen(pilot, ConfirmScreen)
        assert shows(app, "Paid now from credits: balance after 853.00.")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen, what="the upgrade")
        await until_text(pilot, "853.00 credits")
    assert (await owner.balance()).balance == Decimal("853.00")
    order = (await owner.orders()).items[0]
    assert (order.kind, order.paid_with, order.po_number, order.lines[0].object_id) == (
        OrderKind.UPGRADE, PaymentMethod.CREDITS, "PO-9", license.id)


async def test_the_support_extension_on_monthly_terms_goes_on_the_invoice_with_its_po(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=2)
    await monthly_terms(harness, "5000.00")
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        app.action_open_screen("support")
        screen = await until_screen(pilot, SupportScreen)
        await until(pilot, lambda: screen.loaded and screen.table.rows, what="the list")
        await pilot.press("x")
        dialog = await until_screen(pilot, ExtendScreen)
        await until_text(pilot, "On the March invoice: unpaid after 24.50, limit 5,000.00.")
        assert "Nothing is" in screen_text(app) and "taken from your credits now." in screen_text(app)
        dialog.set_focus(dialog.query_one("#po-number"))
        await type_text(pilot, "PO-SUP-1")
        await until(pilot, lambda: dialog.quote is not None, what="the quote")
        await pilot.press("ctrl+s")
        await until_screen(pilot, ConfirmScreen)
        assert shows(app, "On the March invoice: unpaid after 24.50")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen, what="the extension")
    assert (await owner.balance()).balance == Decimal("902.00")  # untouched: it is on the invoice
    order = (await owner.orders()).items[0]
    assert (order.kind, order.paid_with, order.po_number, order.total, order.lines[0].object_id) == (
        OrderKind.SUPPORT, PaymentMethod.INVOICE, "PO-SUP-1", Decimal("24.50"), license.id)


async def channels_dialog(pilot: Any, key_name: str) -> ChannelsScreen:
    await on_dashboard(pilot)
    await pilot.press("g", "k")
    await until_text(pilot, key_name)
    await pilot.press("enter")
    detail = await until_screen(pilot, KeyDetailScreen)
    await until_text(pilot, "Subscriptions (1)")
    await pilot.press("tab")
    await until(pilot, lambda: detail.subscription is not None, what="the subscription")
    await pilot.press("u")
    return await until_screen(pilot, ChannelsScreen)  # type: ignore[no-any-return]


@pytest.mark.parametrize("terms", ["prepaid", "monthly"])
async def test_the_channels_review_says_how_it_is_paid_and_sends_the_po(harness: PortalHarness, terms: str) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso HQ")
    await owner.create_subscription(SubscriptionOrder(key=key.key, product_id="connect", channels=3))  # 59.70
    if terms == "monthly":
        await monthly_terms(harness, "5000.00")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await channels_dialog(pilot, "Contoso HQ")
        await pilot.press("5")  # 2 more channels: 2 x 19.90
        words = ("On the March invoice: unpaid after 39.80, limit 5,000.00." if terms == "monthly"
                 else "Paid now from credits: balance after 900.50.")
        await until_text(pilot, words)
        assert dialog.query_one("#pay-from-credits").display is (terms == "monthly")
        dialog.set_focus(dialog.query_one("#po-number"))
        await type_text(pilot, "PO-CH")
        await until(pilot, lambda: dialog.quote is not None and dialog.quoted_purchase.get("po_number") == "PO-CH",
                    what="the quote with the PO")
        await pilot.press("ctrl+s")
        await until_screen(pilot, KeyDetailScreen)
    order = (await owner.orders()).items[0]
    method = PaymentMethod.INVOICE if terms == "monthly" else PaymentMethod.CREDITS
    assert (order.kind, order.paid_with, order.po_number) == (OrderKind.CHANNELS, method, "PO-CH")
    balance = Decimal("940.30") if terms == "monthly" else Decimal("900.50")
    assert (await owner.balance()).balance == balance


# -- the refund policy, before every delete ---------------------------------------------------------

async def confirm_delete(pilot: Any, license_ids: list[int]) -> LicensesScreen:
    await on_dashboard(pilot)
    pilot.app.action_open_screen("licenses")
    screen: LicensesScreen = await until_screen(pilot, LicensesScreen)
    await until(pilot, lambda: screen.loaded and screen.text.catalog is not None, what="the list")
    for row in list(screen.table.rows):
        await pilot.press("space" if row.id in license_ids else "down")
    await pilot.press("delete")
    await until_screen(pilot, ConfirmScreen)
    return screen


async def test_the_delete_confirmation_says_what_comes_back_of_each_license_and_why_not(
        harness: PortalHarness) -> None:
    late = await a_license(harness, quantity=1)  # 49.00, bought more than 14 days ago
    harness.clock.advance(days=15)
    refundable = await a_license(harness, quantity=2)  # 98.00
    used = await a_license(harness, quantity=3)
    await on_device(harness, used, "desk-1")
    async with harness.as_org("Acme") as tx:
        await licenses.release_device(tx, used.id)
    trial = await a_license(harness, term=Term.TRIAL, trial_days=7, quantity=5)
    owner = await harness.login("acme-owner")
    before = (await owner.balance()).balance
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await confirm_delete(pilot, [late.id, refundable.id, used.id, trial.id])
        await until_text(pilot, "Delete 4 licenses?")
        # The dialog's lines wrap: each reason is looked for in a piece that stays on one line.
        assert shows(app, f"Refund of license {refundable.id}: RemoteDesk Standard 98.00")
        assert shows(app, f"No refund of license {late.id}") and shows(app, "refundable for 14 days after purchase")
        assert shows(app, f"No refund of license {used.id}") and shows(app, "refundable once activated on a device")
        assert shows(app, f"Nothing to refund of license {trial.id}") and shows(app, "a trial is free")
        assert shows(app, "Credits back now 98.00")
        assert shows(app, "98.00 comes back to your credits now, with the deletion.")
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the deletion")
        await until_text(pilot, f"{before + PRICE:,.2f} credits")
    assert (await owner.balance()).balance == before + PRICE


async def test_the_delete_confirmation_of_a_trial_alone_says_nothing_comes_back(harness: PortalHarness) -> None:
    trial = await a_license(harness, term=Term.TRIAL, trial_days=7, quantity=5)
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        await confirm_delete(pilot, [trial.id])
        await until_text(pilot, "Delete 1 license?")
        assert shows(app, f"Nothing to refund of license {trial.id}") and shows(app, "a trial is free")
        assert shows(app, "Nothing comes back: each line says why.") and "Credits back" not in screen_text(app)


async def test_the_delete_confirmation_of_an_invoiced_license_says_it_comes_back_as_a_credit_note(
        harness: PortalHarness) -> None:
    await monthly_terms(harness, "5000.00")
    invoiced = await a_license(harness, quantity=2)
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await confirm_delete(pilot, [invoiced.id])
        await until_text(pilot, "Delete 1 license?")
        assert shows(app, "note on the March invoice)") and shows(app, "As a credit note on the invoice 98.00")
        assert shows(app, "98.00 comes back as a credit note on this month's invoice,")
        assert shows(app, "not as credits.")
        assert shows(app, "Credits back now 0.00")
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the deletion")
    assert (await owner.balance()).balance == Decimal("1000.00")
    assert (await owner.orders()).items[0].kind is OrderKind.CREDIT_NOTE


# -- one idempotency key per body, in the employee form and the import -------------------------------

async def test_the_employee_form_retried_after_a_lost_answer_adds_the_employee_once(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    await staff(harness, 1, 0)
    add = PortalClient.add_employee
    sent: list[str | None] = []

    async def answer_lost_once(self: PortalClient, person: Any, *, idempotency_key: str | None = None) -> Any:
        sent.append(idempotency_key)
        added = await add(self, person, idempotency_key=idempotency_key)
        if len(sent) == 1:
            raise PortalUnavailable("The connection to the portal failed: reset by peer. Retry in a moment.")
        return added

    monkeypatch.setattr(PortalClient, "add_employee", answer_lost_once)
    client = await harness.login("acme-op")
    app = make_app(harness, token=client.token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.who is not None, what="the session")
        app.action_open_screen("employees")
        screen = await until_screen(pilot, EmployeesScreen)
        await until(pilot, lambda: len(screen.employees.table.rows) == 1, what="the list")
        await pilot.press("n")
        await type_text(pilot, "Grace Hopper")
        await pilot.press("enter")
        await type_text(pilot, "grace@acme.example")
        await pilot.press("ctrl+s")
        await until_text(pilot, "reset by peer")
        await pilot.press("ctrl+s")  # the same fields again
        await until(pilot, lambda: len(screen.employees.table.rows) == 2, what="the new employee listed")
    assert len(sent) == 2 and sent[0] is not None and sent[0] == sent[1]
    assert [e.name for e in (await client.employees(EmployeeFilter(text="grace"))).items] == ["Grace Hopper"]


async def test_the_import_retried_after_a_lost_answer_imports_the_file_once(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    await staff(harness, 1, 0)
    people = tmp_path / "people.csv"
    people.write_text("name,email,department\nAda Lovelace,ada@acme.example,Eng\n")
    imported = PortalClient.import_employees
    sent: list[str | None] = []

    async def answer_lost_once(self: PortalClient, text: str, *, idempotency_key: str | None = None) -> Any:
        sent.append(idempotency_key)
        result = await imported(self, text, idempotency_key=idempotency_key)
        if len(sent) == 1:
            raise PortalUnavailable("The connection to the portal failed: reset by peer. Retry in a moment.")
        return result

    monkeypatch.setattr(PortalClient, "import_employees", answer_lost_once)
    client = await harness.login("acme-op")
    app = make_app(harness, token=client.token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.who is not None, what="the session")
        app.action_open_screen("employees")
        screen = await until_screen(pilot, EmployeesScreen)
        await until(pilot, lambda: len(screen.employees.table.rows) == 1, what="the list")
        await pilot.press("i")
        path = (await until_screen(pilot, ImportScreen)).query_one("#import-path")
        path.value = str(people)
        await pilot.press("enter")
        await until_text(pilot, "reset by peer")
        await pilot.press("enter")  # the same file again
        await until(pilot, lambda: len(screen.employees.table.rows) == 2, what="the imported employee")
    assert len(sent) == 2 and sent[0] is not None and sent[0] == sent[1]
    assert (await client.employees()).total == 2


# -- the wizard's coupon field -------------------------------------------------------------------

async def test_the_coupon_field_says_why_a_code_does_not_apply_and_the_code_that_does_reaches_the_order(
    harness: PortalHarness,
) -> None:
    from seattui.portal.services import discounts

    async with harness.portal.store.write() as conn:
        await discounts.create_coupon(conn, harness.portal.catalog, harness.clock.now, "SPRING",
                                      percent=Decimal("10"), amount=None)
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await review_in_wizard(pilot, "Contoso HQ")
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "review-coupon"
        await type_text(pilot, "nope")
        await until_text(pilot, "There is no coupon NOPE; check the code.")
        assert wizard.quote is not None and wizard.quote.cost == PRICE
        assert wizard.check_action("confirm", ()) is False  # the order would be refused
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "spring")
        await until_text(pilot, "Applies: 9.80 credits off.")
        assert wizard.quote is not None and wizard.quote.cost == Decimal("88.20")
        assert shows(app, "Coupon SPRING: 10% off")
        wizard.set_focus(wizard.query_one("#step-review"))
        await pilot.press("y")
        await until(pilot, lambda: wizard.step is Step.DONE, what="the license")
    [order] = (await owner.orders()).items
    assert (order.total, order.lines[-1].description) == (Decimal("88.20"), "Coupon SPRING: 10% off")


async def test_the_upgrade_dialog_takes_a_coupon_and_refuses_to_go_on_with_one_that_does_not_apply(
        harness: PortalHarness) -> None:
    from seattui.portal.services import discounts

    await a_license(harness, quantity=2)  # prepaid: 902.00 left
    async with harness.portal.store.write() as conn:
        await discounts.create_coupon(conn, harness.portal.catalog, harness.clock.now, "UP",
                                      percent=None, amount=Decimal("9.00"))
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        app.action_open_screen("licenses")
        screen = await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: screen.loaded and screen.text.catalog is not None, what="the list")
        await pilot.press("u")
        dialog = await until_screen(pilot, UpgradeScreen)
        await pilot.press("backspace")
        await type_text(pilot, "3")
        dialog.set_focus(dialog.query_one("#coupon"))
        await type_text(pilot, "DOWN")
        await until_text(pilot, "There is no coupon DOWN; check the code.")
        await pilot.press("ctrl+s")
        await until_text(pilot, "Clear the coupon code to go")
        assert app.screen is dialog
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "up")
        await until_text(pilot, "Coupon UP: 9.00 credits off")
        await until(pilot, lambda: dialog.quote is not None and dialog.quote.cost == Decimal("40.00"), what="the quote")
        await pilot.press("ctrl+s")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen, what="the upgrade")
    assert (await owner.balance()).balance == Decimal("862.00")  # 49.00 less the coupon's 9.00
    order = (await owner.orders()).items[0]
    assert (order.total, order.lines[-1].description) == (Decimal("40.00"), "Coupon UP: 9.00 credits off")


def test_a_line_rounded_once_over_its_days_shows_no_product_that_is_off_by_a_cent() -> None:
    """2 seats × 80.00 × 215/365 = 94.246…, charged 94.25: the review never says 2 × 47.13 = 94.25."""
    from rich.console import Console

    from seattui.domain.pricing import PriceLine, Quote
    from seattui.tui.widgets.quote_view import SUBSCRIPTION, quote_renderable

    prorated = PriceLine(description="Workspace, annual plan, 2 more seats (2 × 80.00 a seat a year × 215/365 days "
                         "= 94.25)", quantity=2, unit_price=Decimal("47.13"), amount=Decimal("94.25"))
    whole = PriceLine(description="Support, 1 year", quantity=3, unit_price=Decimal("10.00"), amount=Decimal("30.00"))
    quote = Quote(lines=[prorated, whole], cost=Decimal("124.25"), balance=Decimal("500.00"),
                  balance_after=Decimal("375.75"), affordable=True, shortfall=Decimal("0.00"))
    console = Console(width=120, record=True, color_system=None)
    console.print(quote_renderable(quote, SUBSCRIPTION))
    text = console.export_text()
    assert "2 × 47.13" not in text and "2 × 80.00 a seat a year × 215/365 days" in text and "94.25" in text
    assert "3 × 10.00" in text


# -- the coupon field of every other paid review ----------------------------------------------------

async def test_the_channels_review_checks_a_coupon_once_typing_pauses_and_charges_what_it_quoted(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.message import Message

    from seattui.portal.services import discounts
    from seattui.tui.widgets.coupon_field import CouponField

    async with harness.portal.store.write() as conn:
        await discounts.create_coupon(conn, harness.portal.catalog, harness.clock.now, "SPRING",
                                      percent=Decimal("10"), amount=None)
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso HQ")
    await owner.create_subscription(SubscriptionOrder(key=key.key, product_id="connect", channels=3))  # 59.70
    asked: list[str | None] = []
    quote_channels = PortalClient.quote_channels

    async def counted(client: PortalClient, subscription_id: int, channels: int, **purchase: Any) -> Any:
        asked.append(purchase.get("coupon"))
        return await quote_channels(client, subscription_id, channels, **purchase)

    monkeypatch.setattr(PortalClient, "quote_channels", counted)
    monkeypatch.setattr(CouponField, "PAUSE", 60.0)  # no pause ends by itself: enter ends it
    posted: list[Message] = []
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        dialog = await channels_dialog(pilot, "Contoso HQ")
        await pilot.press("5")  # 2 more channels: 2 x 19.90
        await until_text(pilot, "Paid now from credits: balance after 900.50.")
        dialog.set_focus(dialog.query_one("#coupon"))
        await type_text(pilot, "nope")
        await until_text(pilot, "Checking the code")
        # While the code is typed nothing is quoted, and the last quote cannot be confirmed.
        assert [m for m in posted if isinstance(m, CouponField.Editing)]
        assert not [m for m in posted if isinstance(m, CouponField.Settled)]
        assert "NOPE" not in asked and "N" not in asked and dialog.quote is None
        await pilot.press("ctrl+s")
        assert app.screen is dialog
        await pilot.press("enter")  # ends the pause at once
        await until_text(pilot, "There is no coupon NOPE; check the code.")
        assert [code for code in asked if code] == ["nope"]
        await until(pilot, lambda: dialog.quote is not None, what="the quote")
        assert dialog.quote is not None and dialog.quote.cost == Decimal("39.80")
        await pilot.press("ctrl+s")  # an order with a coupon that does not apply is not sent
        await until_text(pilot, "Clear the coupon code to go")
        assert app.screen is dialog and len((await owner.orders()).items) == 1  # the subscription's own
        monkeypatch.setattr(CouponField, "PAUSE", 0.3)
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "spring")
        await until_text(pilot, "Applies: 3.98 credits off.")  # after the pause, no enter
        await until(pilot, lambda: dialog.quote is not None and dialog.quote.cost == Decimal("35.82"),
                    what="the quote with the coupon")
        assert shows(app, "Coupon SPRING: 10% off")
        await pilot.press("ctrl+s")
        await until_screen(pilot, KeyDetailScreen)
    order = (await owner.orders()).items[0]
    assert (order.kind, order.total, order.lines[-1].description) == (
        OrderKind.CHANNELS, Decimal("35.82"), "Coupon SPRING: 10% off")
    assert (await owner.balance()).balance == Decimal("904.48")
