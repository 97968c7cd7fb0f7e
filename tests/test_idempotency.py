"""The one idempotency rule of the terminal app: one key per request body, the same for every
try of it; another body, another key; after it went through, the same body again is new."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from seattui.client import PortalClient
from seattui.domain.errors import PortalUnavailable
from seattui.domain.licensing import LicenseOrder, Term
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.license_forms import UpgradeScreen
from seattui.tui.screens.licenses import LicensesScreen

from harness import PortalHarness
from license_setup import a_license
from tui_support import make_app, until, until_screen


def order(quantity: int) -> LicenseOrder:
    return LicenseOrder(key="ABCD-EFGH-JKLM-NPQR", product_id="remotedesk", edition_id="standard",
                        term=Term.PERMANENT, quantity=quantity)


def test_a_retry_of_the_same_body_has_the_same_key_and_another_body_a_new_one() -> None:
    keys = RequestKeys()
    first = keys.key_for(order(2))
    assert keys.key_for(order(2)) == first  # an equal body built again: a retry
    changed = keys.key_for(order(3))
    assert changed != first
    assert keys.key_for(order(2)) == first  # back to the first body: still its key
    assert keys.key_for("delete", [1, 2]) == keys.key_for("delete", [1, 2]) != keys.key_for("delete", [1, 3])


def test_a_body_that_went_through_gets_a_new_key_next_time() -> None:
    keys = RequestKeys()
    first = keys.key_for(order(2))
    keys.succeeded(order(2))
    assert keys.key_for(order(2)) != first


def test_each_screen_or_dialog_has_keys_of_its_own() -> None:
    assert RequestKeys().key_for(order(2)) != RequestKeys().key_for(order(2))


# -- the rule at a call site: the upgrade dialog ------------------------------------------------

@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def test_an_upgrade_retried_after_a_lost_answer_is_charged_once(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    license = await a_license(harness, quantity=2)
    upgrade = PortalClient.upgrade_license
    sent: list[tuple[int | None, str | None]] = []

    async def answer_lost_once(self: PortalClient, license_id: int, wanted: Any, *,
                               idempotency_key: str | None = None) -> Any:
        sent.append((wanted.quantity, idempotency_key))
        upgraded = await upgrade(self, license_id, wanted, idempotency_key=idempotency_key)
        if len(sent) == 1:
            raise PortalUnavailable("The connection to the portal failed: reset by peer. Retry in a moment.")
        return upgraded

    monkeypatch.setattr(PortalClient, "upgrade_license", answer_lost_once)
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.who is not None, what="the session")
        app.action_open_screen("licenses")
        screen = await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: screen.loaded and screen.text.catalog is not None, what="the list")
        await pilot.press("u")
        dialog = await until_screen(pilot, UpgradeScreen)
        dialog.query_one("#upgrade-quantity").value = "3"
        await until(pilot, lambda: dialog.quote is not None, what="the quote")
        for _ in range(2):  # the first answer is lost; ctrl+s again sends the same upgrade
            await pilot.press("ctrl+s")
            await until_screen(pilot, ConfirmScreen)
            await pilot.press("y")
            await until(pilot, lambda: bool(sent) and "submit" not in dialog.writes_running, what="the upgrade's answer")
            if app.screen is not dialog:
                break
        await until(pilot, lambda: app.screen is screen, what="the dialog closed")
    assert len(sent) == 2 and sent[0] == sent[1] and sent[0][1] is not None
    assert (await owner.license(license.id)).quantity == 3
    assert (await owner.balance()).balance == Decimal("1000.00") - Decimal("98.00") - Decimal("49.00")
