"""The subscriptions screen as an administrator uses it: every seat plan and channel
subscription on one list; `u` raises a flexible cap through the portal's quote and ctrl+s;
`delete` cancels a channel subscription, saying "no refund" before anything is agreed; `e`
sets an annual contract's renewal; a viewer sees the list without the change keys."""

from __future__ import annotations

from typing import Any

import pytest
from textual.message import Message

from seattui.domain.licensing import LicenseOrder, Renewal, SubscriptionOrder, Term
from seattui.domain.seat_plans import SubscriptionStatus
from seattui.tui.assignment import Step
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.subscription_change import SubscriptionChangeScreen
from seattui.tui.screens.subscriptions import SubscriptionsScreen

from harness import PortalHarness
from test_api_billing import a_key
from tui_support import changes_started, make_app, shows, type_text, until, until_screen, until_text

SIZE = (120, 40)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def three_plans(harness: PortalHarness) -> tuple[int, int, int]:
    """Acme holds a flexible plan (cap 5), an annual contract (10 seats, at most 12) and a
    channel subscription (2 channels)."""
    owner = await harness.login("acme-owner")
    key = await a_key(harness)
    flexible = await owner.create_license(LicenseOrder(key=key, product_id="workspace", term=Term.FLEXIBLE,
                                                       quantity=5))
    annual = await owner.create_license(LicenseOrder(key=key, product_id="workspace", term=Term.ANNUAL,
                                                     quantity=10, seat_cap=12))
    channels = await owner.create_subscription(SubscriptionOrder(key=key, product_id="connect", channels=2))
    return flexible.id, annual.id, channels.id


async def open_subscriptions(pilot: Any) -> SubscriptionsScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")
    await pilot.press("g", "u")
    screen = await until_screen(pilot, SubscriptionsScreen)
    await until(pilot, lambda: screen.source.loaded and len(screen.table.rows) == 3, what="the subscriptions")
    return screen


async def test_every_plan_on_one_list_and_u_raises_the_cap_through_the_review(harness: PortalHarness) -> None:
    flexible, _annual, _channels = await three_plans(harness)
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_subscriptions(pilot)
        assert [(row.plan, row.size) for row in screen.table.rows] == [("flexible", 5), ("annual", 10), ("monthly", 2)]
        assert shows(app, "0/5") and shows(app, "0/10")
        await pilot.press("u")
        await until_screen(pilot, SubscriptionChangeScreen)
        await until_text(pilot, "The cap is 5 seats already")
        await pilot.press("end", "backspace")
        await type_text(pilot, "8")
        await until_text(pilot, "Not refundable: seat-days used are billed at the end of the month")
        await pilot.press("ctrl+s")
        screen = await until_screen(pilot, SubscriptionsScreen)
        await until(pilot, lambda: screen.table.rows and screen.table.rows[0].size == 8, what="the new cap")
    owner = await harness.login("acme-owner")
    [plan] = [item for item in await owner.subscriptions() if item.id == flexible and item.plan == "flexible"]
    assert plan.size == 8


async def test_cancel_says_no_refund_before_agreeing_and_escape_changes_nothing(harness: PortalHarness) -> None:
    _flexible, _annual, channels = await three_plans(harness)
    messages: list[Message] = []
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await open_subscriptions(pilot)
        await pilot.press("end", "delete")
        await until_screen(pilot, SubscriptionChangeScreen)
        await until_text(pilot, "No refund: the month paid stays paid")
        await pilot.press("escape")
        await until_screen(pilot, SubscriptionsScreen)
        assert changes_started(app, messages) == []
        await pilot.press("delete")
        await until_screen(pilot, SubscriptionChangeScreen)
        await until_text(pilot, "No refund")
        await pilot.press("ctrl+s")
        screen = await until_screen(pilot, SubscriptionsScreen)
        await until(pilot, lambda: screen.table.rows[-1].status == SubscriptionStatus.ENDING, what="ending")
    owner = await harness.login("acme-owner")
    [row] = [item for item in await owner.subscriptions() if item.kind.value == "channels"]
    assert row.id == channels and row.status == SubscriptionStatus.ENDING


async def test_e_sets_the_annual_contracts_renewal(harness: PortalHarness) -> None:
    _flexible, annual, _channels = await three_plans(harness)
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_subscriptions(pilot)
        await pilot.press("down", "e")
        await until_screen(pilot, SubscriptionChangeScreen)
        await until_text(pilot, "End at term end")
        await pilot.press("down", "down", "enter")  # the radio set's third choice
        await until_text(pilot, "Not refundable: a renewed term")
        await pilot.press("ctrl+s")
        screen = await until_screen(pilot, SubscriptionsScreen)
        await until(pilot, lambda: screen.table.rows[1].renewal is Renewal.END, what="the renewal set")
    owner = await harness.login("acme-owner")
    [row] = [item for item in await owner.subscriptions() if item.id == annual and item.plan == "annual"]
    assert row.renewal is Renewal.END


async def test_a_viewer_sees_the_list_without_the_change_keys(harness: PortalHarness) -> None:
    await three_plans(harness)
    app = make_app(harness, token=(await harness.login("acme-viewer")).token)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_subscriptions(pilot)
        assert shows(app, "/ Filter")  # the footer
        assert not shows(app, "u Change") and not shows(app, "e Renewal") and not shows(app, "del Cancel")
        await pilot.press("u", "delete", "e")
        await pilot.pause()
        assert isinstance(app.screen, SubscriptionsScreen)
        assert changes_started(app, messages) == []


async def test_the_dashboards_renewals_open_the_list_of_what_renews_within_a_week(harness: PortalHarness) -> None:
    await three_plans(harness)  # the subscription is paid a month ahead; the annual term a year
    harness.clock.advance(days=26)  # its month ends within the week now
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        dashboard = await until_screen(pilot, DashboardScreen)
        await until(pilot, lambda: dashboard.view is not None and dashboard.fresh, what="the dashboard")
        [index] = [i for i, figure in enumerate(dashboard.view.figures) if figure.preset == "renews_soon"]
        assert dashboard.view.figures[index].count == 1
        # Drawn at the screen's next refresh, after the figures came.
        await until(pilot, lambda: shows(app, "1 renewals within 7 days"), what="the figure drawn")
        attention = dashboard.query_one("#attention")
        attention.focus()
        attention.highlighted = index
        await pilot.press("enter")
        screen = await until_screen(pilot, SubscriptionsScreen)
        await until(pilot, lambda: screen.source.loaded and screen.filter_text == "renews soon", what="the filter")
        await until(pilot, lambda: [row.plan for row in screen.table.rows] == ["monthly"], what="the one renewing")


async def test_u_adds_annual_seats_charged_now_and_not_refundable(harness: PortalHarness) -> None:
    _flexible, annual, _channels = await three_plans(harness)
    owner = await harness.login("acme-owner")
    before = (await owner.balance()).balance
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_subscriptions(pilot)
        await pilot.press("down", "u")
        await until_screen(pilot, SubscriptionChangeScreen)
        # The contract's maximum is 12: the box says the portal's limit before anything is typed.
        await until_text(pilot, "Seats to add (at most 2)")
        await until_text(pilot, "Type a whole number of seats from 1 to 2.")  # nothing typed yet: nothing quoted
        await type_text(pilot, "3")
        await until_text(pilot, "Type a whole number of seats from 1 to 2.")
        assert app.screen.quote is None
        await pilot.press("backspace")
        await type_text(pilot, "2")
        await until_text(pilot, "never refunded")
        assert app.screen.quote is not None and app.screen.quote.cost > 0
        cost = app.screen.quote.cost
        assert shows(app, "Paid now from credits")
        await pilot.press("ctrl+s")
        screen = await until_screen(pilot, SubscriptionsScreen)
        await until(pilot, lambda: screen.table.rows[1].size == 12, what="the seats added")
    owner = await harness.login("acme-owner")
    [row] = [item for item in await owner.subscriptions() if item.id == annual and item.plan == "annual"]
    assert row.size == 12 and (await owner.balance()).balance == before - cost


async def test_n_opens_the_wizard_on_the_key_and_product_under_the_cursor(harness: PortalHarness) -> None:
    from seattui.tui.screens.assign import AssignScreen

    await three_plans(harness)
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_subscriptions(pilot)
        key, product = screen.table.rows[0].key, screen.table.rows[0].product_id
        await pilot.press("n")
        wizard = await until_screen(pilot, AssignScreen)
        await until(pilot, lambda: wizard.draft.key == key, what="the key answered")
        choices = wizard.query_one("#product-choices")
        await until(pilot, lambda: choices.highlighted_option is not None and choices.highlighted_option.id == product,
                    what="the subscription's product chosen")
        await pilot.press("enter")
        await until(pilot, lambda: wizard.step is Step.TERM and wizard.draft.product_id == product,
                    what="the product taken")


async def test_u_converts_a_trial_to_an_annual_contract_at_the_quoted_price(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    trial = await owner.create_license(LicenseOrder(key=await a_key(harness), product_id="workspace",
                                                    term=Term.TRIAL, quantity=3, trial_days=14))
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None,
                    what="the dashboard")
        await pilot.press("g", "u")
        screen = await until_screen(pilot, SubscriptionsScreen)
        await until(pilot, lambda: [row.plan for row in screen.table.rows] == ["trial"], what="the trial")
        await pilot.press("u")
        await until_screen(pilot, SubscriptionChangeScreen)
        await until_text(pilot, "Flexible (cap)")
        await pilot.press("end", "backspace")
        await type_text(pilot, "5")
        await pilot.press("shift+tab", "down", "enter")  # the plan: annual
        await until(pilot, lambda: app.screen.quote is not None and app.screen.quote.cost == 400, what="a year of 5")
        await pilot.press("ctrl+s")
        await until_screen(pilot, SubscriptionsScreen)
    converted = await (await harness.login("acme-owner")).license(trial.id)
    assert (converted.term, converted.quantity) == (Term.ANNUAL, 5)


async def test_seats_added_take_a_coupon_the_review_checks_and_the_charge_is_the_one_quoted(
        harness: PortalHarness) -> None:
    from decimal import Decimal

    from seattui.portal.services import discounts

    _flexible, annual, _channels = await three_plans(harness)
    async with harness.portal.store.write() as conn:
        await discounts.create_coupon(conn, harness.portal.catalog, harness.clock.now, "SEATS5",
                                      percent=None, amount=Decimal("5.00"), product_ids=["workspace"])
    owner = await harness.login("acme-owner")
    before = (await owner.balance()).balance
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await open_subscriptions(pilot)
        await pilot.press("down", "u")
        dialog = await until_screen(pilot, SubscriptionChangeScreen)
        await type_text(pilot, "2")
        await until(pilot, lambda: dialog.quote is not None, what="the quote")
        assert dialog.quote is not None
        full = dialog.quote.cost
        dialog.set_focus(dialog.query_one("#coupon"))
        await type_text(pilot, "bad")
        await until_text(pilot, "There is no coupon BAD; check the code.")
        assert dialog.query_one("#confirm").disabled
        await pilot.press("ctrl+s")  # refused here: nothing is sent
        await until_text(pilot, "Clear the coupon code to go")
        assert app.screen is dialog
        await pilot.press(*["backspace"] * 3)
        await type_text(pilot, "seats5")
        await until_text(pilot, "Applies: 5.00 credits off.")
        await until(pilot, lambda: dialog.quote is not None and dialog.quote.cost == full - Decimal("5.00"),
                    what="the quote with the coupon")
        await pilot.press("ctrl+s")
        await until_screen(pilot, SubscriptionsScreen)
    assert (await owner.balance()).balance == before - full + Decimal("5.00")
    order = (await owner.orders()).items[0]
    assert (order.total, order.lines[-1].description, order.lines[0].object_id) == (
        full - Decimal("5.00"), "Coupon SEATS5: 5.00 credits off workspace", annual)
