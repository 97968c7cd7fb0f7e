"""The assignment wizard when things happen at once: keys typed in a burst while a step
changes, a slow portal while the review asks for its quote, a finished assignment left and
opened again, a key that already holds the product, and the idempotency key of each try."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from textual import events

from seattui.client import PortalClient
from seattui.domain.errors import PortalUnavailable
from seattui.tui.assignment import Step
from seattui.tui.screens.assign import AssignScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.widgets.key_list import KeyList

from harness import PortalHarness
from license_setup import a_license
from tui_support import burst, make_app, screen_text, until, until_screen, until_text

SIZE = (100, 32)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def paste(pilot: Any, text: str) -> None:
    pilot.app.screen.focused.post_message(events.Paste(text))
    await pilot.pause()


async def on_wizard(pilot: Any, key_name: str) -> AssignScreen:
    """The wizard opened as the screen's own entry, the key named `key_name` picked."""
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")
    pilot.app.action_open_screen("assign")
    wizard: AssignScreen = await until_screen(pilot, AssignScreen)
    await until(pilot, lambda: wizard.catalog is not None, what="the catalog")
    await paste(pilot, key_name)
    await until(pilot, lambda: wizard.query_one(KeyList).up_to_date
                and (row := wizard.query_one("#assign-keys-table").current) is not None
                and row.name == key_name, what=f"the key {key_name}")
    await pilot.press("enter")
    await until_text(pilot, "Which product?")
    return wizard


async def highlight(pilot: Any, wizard: AssignScreen, list_id: str, option_id: str) -> None:
    choices = wizard.query_one(f"#{list_id}")
    while choices.highlighted_option.id != option_id:
        await pilot.press("j")


async def to_term(pilot: Any, wizard: AssignScreen, edition: str = "standard") -> None:
    """RemoteDesk, the edition, the term step showing Permanent highlighted."""
    await highlight(pilot, wizard, "product-choices", "remotedesk")
    await pilot.press("enter")
    await highlight(pilot, wizard, "edition-choices", edition)
    await pilot.press("enter")
    await until_text(pilot, "Which term?")
    await highlight(pilot, wizard, "term-choices", "permanent")


async def to_review(pilot: Any, wizard: AssignScreen, quantity: str = "2") -> None:
    await to_term(pilot, wizard)
    await pilot.press("enter")
    await until_text(pilot, "How many?")
    await paste(pilot, quantity)
    # the quantity, then no email, no comment, no reference name, no PO number
    await pilot.press("enter", "enter", "enter", "enter", "enter")
    await until(pilot, lambda: wizard.step is Step.REVIEW, what="the review")


# -- keys typed ahead of a step change ---------------------------------------------------------


async def test_keys_typed_in_a_burst_reach_the_step_they_were_aimed_at(harness: PortalHarness) -> None:
    """enter, 5, enter on the term step: the 5 is the quantity, not lost into the 1 offered;
    and j, enter on the product step take the product below, not the one highlighted before."""
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await on_wizard(pilot, "Contoso HQ")
        products = wizard.query_one("#product-choices")
        first = products.highlighted_option.id
        below = products.get_option_at_index(products.highlighted + 1).id
        burst(pilot, "j", "enter")
        await until(pilot, lambda: wizard.step is not Step.PRODUCT, what="the step after the product")
        assert (first, wizard.draft.product_id) == (first, below)

        await pilot.press("escape")
        await until(pilot, lambda: wizard.step is Step.PRODUCT, what="back to the product")
        await to_term(pilot, wizard)
        burst(pilot, "enter", "5", "enter")
        await until(pilot, lambda: wizard.step is Step.CUSTOMER, what="the customer step")
        assert wizard.draft.quantity == "5"
        burst(pilot, *"it@contoso.example", "enter", *"desk", "enter", "enter", "enter")
        await until(pilot, lambda: wizard.step is Step.REVIEW, what="the review")
        assert (wizard.draft.customer_email, wizard.draft.comment) == ("it@contoso.example", "desk")
        await until_text(pilot, "Quantity  5 users")

        await pilot.press("escape", "escape")  # back on the quantity: 0 is refused, and the field stays as typed
        await until(pilot, lambda: wizard.step is Step.QUANTITY, what="the quantity step")
        burst(pilot, "0", "enter", "7")
        await until(pilot, lambda: wizard.query_one("#quantity").value == "07", what="the 7 after the 0")
        assert wizard.step is Step.QUANTITY and "from 1 to 100,000" in screen_text(app)


async def test_text_typed_right_after_tab_goes_in_the_field_tab_moves_to(harness: PortalHarness) -> None:
    """tab and the text after it in one burst (one SSH packet): the text is the next field's,
    not the end of the field being left; shift+tab likewise moves back before the text goes in."""
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await on_wizard(pilot, "Contoso HQ")
        await to_term(pilot, wizard)
        burst(pilot, "enter", "3", "enter")
        await until(pilot, lambda: wizard.step is Step.CUSTOMER, what="the customer step")
        burst(pilot, *"it@contoso.example", "tab", *"desk")
        await until(pilot, lambda: wizard.query_one("#comment").value == "desk", what="the comment typed after tab")
        assert wizard.query_one("#customer-email").value == "it@contoso.example"

        # A field tabbed into has its text selected (as when typed slowly): what is typed replaces it.
        burst(pilot, "shift+tab", *"nora@contoso.example")
        await until(pilot, lambda: wizard.query_one("#customer-email").value == "nora@contoso.example",
                    what="the email typed after shift+tab")
        assert wizard.query_one("#comment").value == "desk"


# -- one worker group per job -------------------------------------------------------------------


async def test_the_quote_does_not_cancel_the_naming_of_a_key_opened_from_elsewhere(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso HQ")
    gate = asyncio.Event()
    keys = PortalClient.keys

    async def slow_keys(self: PortalClient, **options: Any) -> Any:
        await gate.wait()
        return await keys(self, **options)

    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None,
                    what="the dashboard")
        monkeypatch.setattr(PortalClient, "keys", slow_keys)
        app.open_screen_with("assign", key.key)  # as the keys screen's "assign" does
        wizard: AssignScreen = await until_screen(pilot, AssignScreen)
        await until(pilot, lambda: wizard.catalog is not None and wizard.step is Step.PRODUCT, what="the product step")
        await to_review(pilot, wizard)  # the quote starts while the key's name is on its way
        gate.set()
        await until(pilot, lambda: wizard.quote is not None, what="the quote")
        await until_text(pilot, f"Key       {key.key} (Contoso HQ)")
        assert wizard.draft.key_name == "Contoso HQ"


async def test_a_purchase_on_its_way_greys_out_confirm_and_is_sent_once(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    gate = asyncio.Event()
    create = PortalClient.create_license
    sent: list[str | None] = []

    async def slow_create(self: PortalClient, order: Any, *, idempotency_key: str | None = None) -> Any:
        sent.append(idempotency_key)
        await gate.wait()
        return await create(self, order, idempotency_key=idempotency_key)

    monkeypatch.setattr(PortalClient, "create_license", slow_create)
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await on_wizard(pilot, "Contoso HQ")
        await to_review(pilot, wizard)
        await until(pilot, lambda: wizard.quote is not None, what="the quote")
        assert "y Confirm" in screen_text(app)
        await pilot.press("y")
        await until(pilot, lambda: len(sent) == 1, what="the purchase sent")
        await until(pilot, lambda: wizard.check_action("confirm", ()) is None, what="confirm greyed out")
        assert [worker.name for worker in app.workers if worker.group == "write"] == ["confirm"]  # q asks first
        await pilot.press("y", "escape")  # neither a second purchase nor leaving mid-purchase
        assert len(sent) == 1 and wizard.step is Step.REVIEW
        gate.set()
        await until_text(pilot, "is on the key")
        assert wizard.check_action("again", ()) is True
    assert len(sent) == 1 and (await owner.keys()).items[0].license_count == 1


# -- after a finished assignment ----------------------------------------------------------------


async def test_after_a_finished_assignment_c_copies_a_assigns_again_and_the_screen_entry_starts_anew(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await on_wizard(pilot, "Contoso HQ")
        await to_review(pilot, wizard)
        await until(pilot, lambda: wizard.quote is not None, what="the quote")
        await pilot.press("y")
        await until_text(pilot, "is on the key")
        await until_text(pilot, "the balance is now 902.00")  # the balance after, not the one quoted against
        await pilot.press("c")
        assert app.clipboard == key.key
        await pilot.press("a")  # another license on the same key
        await until_text(pilot, "Which product?")
        assert (wizard.step, wizard.draft.key) == (Step.PRODUCT, key.key) and wizard.result is None
        await to_review(pilot, wizard, quantity="1")
        await until(pilot, lambda: wizard.quote is not None, what="the second quote")
        await pilot.press("y")
        await until_text(pilot, "is on the key")

        app.action_open_screen("dashboard")
        await until_screen(pilot, DashboardScreen)
        app.action_open_screen("assign")  # the screen's own entry, however it is mapped
        await until_screen(pilot, AssignScreen)
        await until_text(pilot, "Which key?")
        assert wizard.step is Step.KEY and wizard.result is None and wizard.draft.key == ""
        filter_box = wizard.query_one("#assign-keys-filter")
        await pilot.press(*"paa")  # typed into the visible filter, where it shows
        assert app.screen.focused is filter_box and filter_box.value == "paa"
    assert (await owner.keys()).items[0].license_count == 2


# -- what the key holds already -----------------------------------------------------------------


async def test_the_review_says_the_key_already_holds_the_product(harness: PortalHarness) -> None:
    held = await a_license(harness, comment="Contoso HQ", quantity=10)
    owner = await harness.login("acme-owner")
    await owner.create_key("Fabrikam Lab")  # holds nothing
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await on_wizard(pilot, "Contoso HQ")
        await to_review(pilot, wizard)
        await until(pilot, lambda: wizard.quote is not None, what="the quote")
        await until_text(pilot, f"{held.key} already holds RemoteDesk: license {held.id} (permanent, Standard, "
                                "10 users). This one is added beside it, not in its place")
        assert "y Confirm" in screen_text(app)  # said plainly, and still the user's choice

        await pilot.press("escape", "escape", "escape", "escape", "escape", "escape")
        await until_text(pilot, "Which key?")
        wizard.query_one("#assign-keys-filter").value = "Fabrikam"
        await until(pilot, lambda: wizard.query_one(KeyList).up_to_date
                    and (row := wizard.query_one("#assign-keys-table").current) is not None
                    and row.name == "Fabrikam Lab", what="the other key")
        await pilot.press("enter")
        await to_review(pilot, wizard)
        await until(pilot, lambda: wizard.quote is not None, what="the quote")
        assert "already holds" not in screen_text(app)


# -- one idempotency key per order --------------------------------------------------------------


async def test_a_retry_sends_the_same_key_and_a_changed_order_a_new_one(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    create = PortalClient.create_license
    sent: list[tuple[int, str | None]] = []
    failures = [True, True]  # the first two tries never reach the portal

    async def flaky(self: PortalClient, order: Any, *, idempotency_key: str | None = None) -> Any:
        sent.append((order.quantity, idempotency_key))
        if failures:
            failures.pop()
            raise PortalUnavailable("The connection to the portal failed: reset by peer. Retry in a moment.")
        return await create(self, order, idempotency_key=idempotency_key)

    monkeypatch.setattr(PortalClient, "create_license", flaky)
    owner = await harness.login("acme-owner")
    await owner.create_key("Contoso HQ")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await on_wizard(pilot, "Contoso HQ")
        await to_review(pilot, wizard, quantity="2")
        await until(pilot, lambda: wizard.quote is not None, what="the quote")
        await pilot.press("y")
        await until_text(pilot, "Press y to retry.")
        await pilot.press("y")  # the same order again
        await until(pilot, lambda: len(sent) == 2, what="the retry")
        await until_text(pilot, "Press y to retry.")
        await pilot.press("escape", "escape")  # back to the quantity
        await until(pilot, lambda: wizard.step is Step.QUANTITY, what="the quantity step")
        await paste(pilot, "3")
        await pilot.press("enter", "enter", "enter", "enter", "enter")
        await until(pilot, lambda: wizard.quote is not None and wizard.step is Step.REVIEW, what="the new quote")
        await pilot.press("y")
        await until_text(pilot, "is on the key")
        await pilot.press("a")  # the same order once more is a purchase of its own
        await to_review(pilot, wizard, quantity="3")
        await until(pilot, lambda: wizard.quote is not None, what="the quote")
        await pilot.press("y")
        await until_text(pilot, "is on the key")
    (two, first), (two_again, retried), (three, changed), (three_again, another) = sent
    assert (two, two_again, three, three_again) == (2, 2, 3, 3)
    assert first == retried and len({first, changed, another}) == 3
    assert (await owner.keys()).items[0].license_count == 2
    assert (await owner.balance()).balance == Decimal("1000.00") - 2 * Decimal("147.00")
