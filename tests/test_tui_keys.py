"""The activation keys screen and the assignment wizard with Pilot: create, copy and filter
keys; a trial, a permanent license and a subscription by channels through the wizard; a
short balance stopped at the review; going back and forward with every answer kept; the
issue's "done when" from the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest

from seattui.client import PortalClient
from seattui.domain.errors import PortalUnavailable
from seattui.domain.licensing import KeyHolds, SubscriptionOrder, Term
from seattui.domain.money import format_credits
from seattui.tui.assignment import Step
from seattui.tui.screens.assign import AssignScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.key_detail import KeyDetailScreen
from seattui.tui.screens.key_form import KeyFormScreen
from seattui.tui.screens.keys import KeysScreen

from textual import events
from textual.message import Message

from harness import PortalHarness
from tui_support import (
    changes_started,
    keys_pressed,
    make_app,
    screen_text,
    type_text,
    until,
    until_screen,
    until_text,
)

SIZE = (100, 32)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


async def signed_in(harness: PortalHarness, login: str = "acme-owner") -> PortalClient:
    return await harness.login(login)


async def on_dashboard(pilot: Any) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")


@asynccontextmanager
async def wizard_on(harness: PortalHarness, key_name: str, login: str = "acme-owner", *,
                    messages: list[Message] | None = None) -> AsyncIterator[tuple[PortalClient, Any, AssignScreen]]:
    """The app logged in as `login`, on the wizard, the key step answered with a new key; every
    message the app posts goes to `messages`, if given."""
    client = await signed_in(harness, login)
    await client.create_key(key_name)
    app = make_app(harness, token=client.token)
    async with app.run_test(size=SIZE, message_hook=messages.append if messages is not None else None) as pilot:
        await on_dashboard(pilot)
        yield client, pilot, await open_wizard(pilot, key_name)


async def open_wizard(pilot: Any, key_name: str) -> AssignScreen:
    """From the dashboard: `g a`, then pick the key named `key_name` by filtering for it."""
    await pilot.press("g", "a")
    wizard: AssignScreen = await until_screen(pilot, AssignScreen)
    await until(pilot, lambda: wizard.catalog is not None, what="the catalog")
    await paste(pilot, key_name)
    await until(pilot, lambda: (row := wizard.query_one("#assign-keys-table").current) is not None
                and row.name == key_name, what=f"the key {key_name}")
    await pilot.press("enter")
    await until_text(pilot, "Which product?")
    return wizard


async def choose(pilot: Any, wizard: AssignScreen, list_id: str, option_id: str) -> None:
    """Move the highlight of a list of choices down to an option, then enter."""
    choices = wizard.query_one(f"#{list_id}")
    while choices.highlighted_option.id != option_id:
        await pilot.press("j")
    await pilot.press("enter")


async def order(pilot: Any, wizard: AssignScreen, product: str, edition: str | None, term: str | None,
                *answers: str) -> None:
    """The steps after the key: the product, its edition and term where it has them, then each
    typed answer (trial days, quantity or channels, email, comment) followed by enter."""
    await choose(pilot, wizard, "product-choices", product)
    for list_id, option in (("edition-choices", edition), ("term-choices", term)):
        if option is not None:
            await choose(pilot, wizard, list_id, option)
    for text in answers:
        await answer(pilot, text)


async def until_notified(pilot: Any, text: str) -> None:
    """A toast (notifications are drawn over the screen, not in its text)."""
    await until(pilot, lambda: any(text in note.message for note in pilot.app._notifications),
                what=f"a notification saying {text!r}")


async def paste(pilot: Any, text: str) -> None:
    """Text pasted into the focused field: one event, where typing is one per character."""
    pilot.app.screen.focused.post_message(events.Paste(text))
    await pilot.pause()


async def answer(pilot: Any, text: str) -> None:
    if text:
        await paste(pilot, text)
    await pilot.press("enter")


async def confirm(pilot: Any, wizard: AssignScreen) -> None:
    await until(pilot, lambda: wizard.quote is not None, what="the quote")
    await pilot.press("y")
    await until_text(pilot, "is on the key")


# -- the keys screen --------------------------------------------------------------------------


async def test_the_keys_screen_creates_copies_and_filters(harness: PortalHarness) -> None:
    owner = await signed_in(harness)
    for name in ("Contoso HQ", "Fabrikam Lab", "Tailspin Toys"):
        await owner.create_key(name)
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        await pilot.press("g", "k")
        keys: KeysScreen = await until_screen(pilot, KeysScreen)
        await until_text(pilot, "3 keys")

        await pilot.press("n")  # a random key
        await until_screen(pilot, KeyFormScreen)
        await answer(pilot, "Initech")
        await until_screen(pilot, KeysScreen)
        created = keys.key_list.table.current
        assert created is not None and created.name == "Initech"
        await until_notified(pilot, f"Created {created.key}")
        await pilot.press("c")
        assert app.clipboard == created.key
        await until_notified(pilot, f"Copied {created.key}")

        await pilot.press("n")  # a custom key, checked as it is typed
        form = await until_screen(pilot, KeyFormScreen)
        await paste(pilot, "Globex Corp")
        await pilot.press("tab", "down", "enter", "tab")  # the custom kind, then its field
        await type_text(pilot, "gbx1-")
        await until_text(pilot, "An activation key is 4 groups of 4")
        await paste(pilot, "2345-6789-abcd")
        await until_text(pilot, "✓ GBX1-2345-6789-ABCD")
        await pilot.click("#save")  # the button does what ctrl+s does
        await until_screen(pilot, KeysScreen)
        assert keys.key_list.table.current.key == "GBX1-2345-6789-ABCD"

        await pilot.press("n")  # the same custom key again: refused beside the field, nothing lost
        form = await until_screen(pilot, KeyFormScreen)
        await paste(pilot, "Again")
        await pilot.press("tab", "down", "enter", "tab")
        await paste(pilot, "GBX1234567 89ABCD")
        await pilot.press("ctrl+s")
        await until_text(pilot, "The key GBX1-2345-6789-ABCD is taken")
        assert app.screen is form and form.query_one("#key-name").value == "Again"
        await pilot.click("#cancel")  # as escape
        await until_screen(pilot, KeysScreen)

        await pilot.press("ctrl+a", "delete")  # every key; only those holding nothing can go
        await until_text(pilot, "Delete 5 keys?")
        await pilot.press("n")
        await pilot.press("U")
        assert not keys.key_list.table.marked

        await pilot.press("slash")
        # "I" is not in a random key's alphabet, so no key but the name can match (one did "FAB").
        await type_text(pilot, "fabrik")
        await until_text(pilot, "1 key matching 'fabrik'")
        assert [row.name for row in keys.key_list.table.rows] == ["Fabrikam Lab"]
        await pilot.press("escape", "delete")  # out of the filter, then delete the key under the cursor
        await until_text(pilot, "Delete 1 key?")
        await pilot.press("y")
        await until_notified(pilot, "Deleted 1 key.")
        await pilot.press("escape")  # the filter cleared
        await until_text(pilot, "4 keys")
    assert "Fabrikam Lab" not in {key.name for key in (await owner.keys()).items}


async def test_a_keys_detail_shows_what_it_holds_and_resizes_a_subscription(harness: PortalHarness) -> None:
    owner = await signed_in(harness)
    key = await owner.create_key("Contoso HQ")
    subscription = await owner.create_subscription(SubscriptionOrder(key=key.key, product_id="connect", channels=3))
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        await pilot.press("g", "k")
        await until_text(pilot, "Contoso HQ")
        await pilot.press("enter")
        detail = await until_screen(pilot, KeyDetailScreen)
        await until_text(pilot, "Subscriptions (1)")
        assert "Connect Cloud" in screen_text(app)
        await pilot.press("tab")  # to the subscriptions
        await until(pilot, lambda: detail.subscription is not None)
        await pilot.press("u")
        await until_text(pilot, "Change the channels")
        await pilot.press("5")  # replaces the 3 shown
        await until_text(pilot, "Connect Cloud, 2 more channels for 30 days")
        await pilot.press("ctrl+s")
        await until_screen(pilot, KeyDetailScreen)
        await until_notified(pilot, "The subscription has 5 channels now")
    changed = await owner.subscription(subscription.id)
    assert changed.channels == 5
    # 31 days are left of the month paid; a share is at most a whole (30-day) month: 2 x 19.90.
    assert (await owner.balance()).balance == Decimal("1000.00") - Decimal("59.70") - Decimal("39.80")


async def test_the_dashboards_figures_open_the_keys_screen(harness: PortalHarness) -> None:
    owner = await signed_in(harness)
    held = await owner.create_key("holds one")
    await owner.create_key("holds none")
    await owner.create_subscription(SubscriptionOrder(key=held.key, product_id="connect", channels=2))
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_dashboard(pilot)
        dashboard = app.screen
        attention = dashboard.query_one("#attention")

        def figure(words: str) -> int:  # the At a glance line that says this
            return next(i for i in range(attention.option_count) if words in str(attention.get_option_at_index(i).prompt))

        attention.highlighted = figure("subscriptions, ")
        await pilot.press("enter")
        keys = await until_screen(pilot, KeysScreen)
        await until_text(pilot, "1 key with subscriptions")
        assert keys.key_list.holds is KeyHolds.SUBSCRIPTIONS
        await pilot.press("g", "d")
        await until_screen(pilot, DashboardScreen)
        attention.highlighted = figure("activation keys")
        await pilot.press("enter")
        await until_screen(pilot, KeysScreen)
        await until_text(pilot, "2 keys")


# -- the wizard -------------------------------------------------------------------------------


async def test_an_operator_starts_a_trial_and_cannot_pick_a_paid_term(harness: PortalHarness) -> None:
    async with wizard_on(harness, "Contoso HQ", "acme-op") as (operator, pilot, wizard):
        app = pilot.app
        assert "Connect Cloud  subscription" in screen_text(app) and "(buying needs an owner or an admin)" in screen_text(app)
        await choose(pilot, wizard, "product-choices", "remotedesk")
        await choose(pilot, wizard, "edition-choices", "professional")
        await until_text(pilot, "Which term?")
        assert "Permanent, with 12 months of support (buying needs an owner or an admin)" in screen_text(app)
        await pilot.press("j", "enter")  # the paid term cannot be highlighted: still the trial
        await answer(pilot, "21")  # replaces the 14 days offered
        await answer(pilot, "3")
        await answer(pilot, "it@contoso.example")
        await answer(pilot, "pilot")
        await until_text(pilot, "Free: nothing is charged.")
        await confirm(pilot, wizard)
        await until_text(pilot, "trial ends 2026-03-23")
    license = (await operator.key((await operator.keys()).items[0].id)).licenses[0]
    assert (license.term, license.edition_id, license.quantity, license.customer_email) == (
        Term.TRIAL, "professional", 3, "it@contoso.example")
    assert (await operator.balance()).balance == Decimal("1000.00")


async def test_a_permanent_license_with_add_ons_debits_the_quoted_cost(harness: PortalHarness) -> None:
    async with wizard_on(harness, "Fabrikam Lab") as (owner, pilot, wizard):
        app = pilot.app
        await choose(pilot, wizard, "product-choices", "mailguard")
        await choose(pilot, wizard, "edition-choices", "advanced")  # on to the add-ons
        await pilot.press("space", "enter")  # Archiving
        await choose(pilot, wizard, "term-choices", "permanent")
        await until_text(pilot, "Mailboxes")
        await answer(pilot, "10")
        await answer(pilot, "postmaster@fabrikam.example")
        await pilot.press("enter", "enter", "enter")  # no comment, reference name or PO number
        await until_text(pilot, "Add-on Archiving")
        await until(pilot, lambda: wizard.quote is not None)
        assert wizard.quote.cost == Decimal("270.00") and "Balance after 730.00" in " ".join(screen_text(app).split())
        await confirm(pilot, wizard)
        await until_text(pilot, "730.00 credits")  # the header balance follows
        await pilot.press("c")
        assert app.clipboard == wizard.result.key
    assert (await owner.balance()).balance == Decimal("730.00")


async def test_a_subscription_by_channels_through_the_wizard(harness: PortalHarness) -> None:
    async with wizard_on(harness, "Tailspin Toys") as (owner, pilot, wizard):
        await order(pilot, wizard, "connect", None, None)
        await until_text(pilot, "How many channels?")  # no edition and no quantity step
        for text in ("4", "", "", "", ""):
            await answer(pilot, text)
        await until_text(pilot, "Connect Cloud, 4 channels, first month")
        await confirm(pilot, wizard)
        await until_text(pilot, "Subscription")
    assert (await owner.balance()).balance == Decimal("920.40")


async def test_a_short_balance_stops_at_the_review_and_charges_nothing(harness: PortalHarness) -> None:
    messages: list[Message] = []
    async with wizard_on(harness, "Contoso HQ", messages=messages) as (owner, pilot, wizard):
        app = pilot.app
        await order(pilot, wizard, "vaultbackup", "datacenter", "permanent", "5", "", "", "", "")
        await until_text(pilot, "Not enough credits: 200.00 short")
        assert not wizard.quote.affordable and "y Confirm" not in screen_text(app)
        messages.clear()
        await pilot.press("y", "y")
        assert keys_pressed(messages) == ["y", "y"]  # both arrived,
        assert changes_started(app, messages) == []  # and neither started a purchase
        assert wizard.result is None and app.screen is wizard
    assert (await owner.balance()).balance == Decimal("1000.00")
    assert (await owner.keys()).items[0].license_count == 0


async def test_going_back_two_steps_and_forward_again_keeps_every_answer(harness: PortalHarness) -> None:
    async with wizard_on(harness, "Contoso HQ") as (owner, pilot, wizard):
        await order(pilot, wizard, "remotedesk", "enterprise", "permanent", "7")
        await paste(pilot, "it@contoso.example")
        await pilot.press("escape", "escape")  # back to the quantity, then to the term
        await until_text(pilot, "Which term?")
        assert wizard.query_one("#term-choices").highlighted_option.id == "permanent"
        await pilot.press("enter")
        assert wizard.query_one("#quantity").value == "7"
        await pilot.press("enter")
        assert wizard.query_one("#customer-email").value == "it@contoso.example"
        await pilot.press("enter", "enter", "enter", "enter")
        await until_text(pilot, "RemoteDesk Enterprise, 7 users, with 12 months of support")


async def test_done_when_from_the_dashboard(harness: PortalHarness) -> None:
    """The issue's acceptance: a random key, a 14-day trial, a permanent 10-user license and a
    3-channel subscription, the balance dropping by exactly the quoted costs; then a purchase
    that does not fit is stopped at the review with the shortfall."""
    owner = await signed_in(harness)
    app = make_app(harness, token=owner.token)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await on_dashboard(pilot)
        await pilot.press("g", "k")
        keys = await until_screen(pilot, KeysScreen)
        await pilot.press("n")
        await until_screen(pilot, KeyFormScreen)
        await answer(pilot, "Initech")
        await until_notified(pilot, "Created")
        key = keys.key_list.table.current.key
        await pilot.press("a")
        wizard: AssignScreen = await until_screen(pilot, AssignScreen)
        await until_text(pilot, "Which product?")
        assert f"Key {key} (Initech)" in screen_text(app)

        quoted: list[Decimal] = []
        await order(pilot, wizard, "remotedesk", "standard", "trial", "", "10", "", "")  # 14 days, as offered
        await confirm(pilot, wizard)
        quoted.append(wizard.quote.cost)
        assert "trial ends 2026-03-16" in screen_text(app)
        for product, edition, term, answers in (("remotedesk", "standard", "permanent", ("10", "", "", "", "")),
                                                 ("connect", None, None, ("3", "", "", "", ""))):
            await pilot.press("a")  # another on the same key
            await order(pilot, wizard, product, edition, term, *answers)
            await confirm(pilot, wizard)
            quoted.append(wizard.quote.cost)

        assert quoted == [Decimal("0.00"), Decimal("490.00"), Decimal("59.70")]
        balance = Decimal("1000.00") - sum(quoted)
        await until_text(pilot, f"{format_credits(balance)} credits")

        await pilot.press("a")
        await order(pilot, wizard, "remotedesk", "enterprise", "permanent", "10", "", "", "", "")
        await until_text(pilot, f"Not enough credits: {format_credits(Decimal('1490.00') - balance)} short")
        messages.clear()
        await pilot.press("y")
        assert keys_pressed(messages) == ["y"] and changes_started(app, messages) == []
        assert wizard.result is None and "The balance is short: this cannot be confirmed" in screen_text(app)
    assert (await owner.balance()).balance == Decimal("450.30")
    detail = await owner.key((await owner.keys()).items[0].id)
    assert (len(detail.licenses), len(detail.subscriptions)) == (2, 1)


async def test_enter_takes_the_first_key_of_the_filter_as_typed_never_one_left_over_from_before(
    harness: PortalHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await signed_in(harness)
    await owner.create_key("Fabrikam Lab")
    async with wizard_on(harness, "Contoso HQ") as (_, pilot, wizard):
        await pilot.press("escape")  # back to the key step, the filter showing Contoso HQ
        await until_text(pilot, "Which key?")
        gate = asyncio.Event()
        keys = PortalClient.keys

        async def slow_keys(self: PortalClient, **options: Any) -> Any:
            await gate.wait()
            return await keys(self, **options)

        monkeypatch.setattr(PortalClient, "keys", slow_keys)
        wizard.query_one("#assign-keys-filter").value = "Fabrikam"
        await pilot.press("enter")  # the list still shows Contoso HQ: enter waits for Fabrikam's keys
        await until_text(pilot, "Finding the keys matching 'Fabrikam'")
        assert wizard.step is Step.KEY and wizard.draft.key_name == "Contoso HQ"
        gate.set()
        await until_text(pilot, "Which product?")  # no second enter needed
        assert wizard.draft.key_name == "Fabrikam Lab"


async def test_a_confirm_whose_answer_was_lost_is_retried_and_charged_once(
    harness: PortalHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portal bought it but the answer never came back: y again sends the same
    idempotency key, and the portal answers with the first purchase."""
    create = PortalClient.create_license
    sent_keys: list[str | None] = []

    async def answer_lost_once(self: PortalClient, order: Any, *, idempotency_key: str | None = None) -> Any:
        sent_keys.append(idempotency_key)
        license = await create(self, order, idempotency_key=idempotency_key)
        if len(sent_keys) == 1:
            raise PortalUnavailable("The connection to the portal failed: reset by peer. Retry in a moment.")
        return license

    monkeypatch.setattr(PortalClient, "create_license", answer_lost_once)
    async with wizard_on(harness, "Contoso HQ") as (owner, pilot, wizard):
        await order(pilot, wizard, "remotedesk", "standard", "permanent", "2", "", "", "", "")
        await until(pilot, lambda: wizard.quote is not None)
        await pilot.press("y")
        await until_text(pilot, "reset by peer. Retry in a moment. Press y to retry.")
        await pilot.press("y")
        await until_text(pilot, "is on the key")
    assert len(sent_keys) == 2 and sent_keys[0] == sent_keys[1] is not None
    assert (await owner.balance()).balance == Decimal("902.00")
    assert (await owner.keys()).items[0].license_count == 1
