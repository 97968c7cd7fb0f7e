"""The ledger and orders screen with Pilot: newest first, the portal's filters, an order's
lines, the CSV export of everything the filter matches, a refresh after a purchase, and a
portal that does not answer."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from seattui.domain import errors
from seattui.domain.licensing import LicenseUpgrade
from seattui.tui.changes import PURCHASE
from seattui.tui.screens import ledger_forms
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.ledger import LedgerScreen
from seattui.tui.screens.ledger_forms import DaysScreen, ExportScreen, OrderScreen

from harness import PortalHarness
from test_api_billing import a_key, permanent
from tui_support import make_app, screen_text, shows, slow_answers, toasts, type_text, until, until_screen, until_text

SIZE = (120, 40)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def three_orders(harness: PortalHarness) -> Any:
    """A purchase on 2 March (Front desk), an upgrade on 10 March (PO-2026-17), a purchase on 20 March."""
    owner = await harness.login("acme-owner")
    first = await owner.create_license(permanent(await a_key(harness), quantity=2, reference_name="Front desk"))
    harness.clock.advance(days=8)
    await owner.upgrade_license(first.id, LicenseUpgrade(quantity=4, po_number="PO-2026-17"))
    harness.clock.advance(days=10)
    await owner.create_license(permanent(await a_key(harness), quantity=1))
    return owner


async def on_ledger(pilot: Any) -> LedgerScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None,
                what="the dashboard")
    await pilot.press("g", "o")
    screen: LedgerScreen = await until_screen(pilot, LedgerScreen)
    await until(pilot, lambda: screen.source.loaded, what="the first page")
    return screen


def rows(screen: LedgerScreen) -> list[Any]:
    return list(screen.table.rows)


async def settle(pilot: Any, screen: LedgerScreen) -> None:
    await until(pilot, lambda: screen.source.loaded, what="the page")
    await pilot.pause()


async def test_ledger_then_orders_newest_first_and_an_order_shows_its_lines(harness: PortalHarness) -> None:
    owner = await three_orders(harness)
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_ledger(pilot)
        assert [(entry.reason.value, str(entry.amount)) for entry in rows(screen)] == [
            ("license", "-49.00"), ("upgrade", "-98.00"), ("license", "-98.00"), ("grant", "1000.00")]
        assert shows(app, "Ledger · every kind · any day")
        await pilot.press("2")
        await settle(pilot, screen)
        assert [order.kind.value for order in rows(screen)] == ["purchase", "upgrade", "purchase"]
        await until_text(pilot, "Front desk")
        await pilot.press("down", "enter")  # the upgrade of 10 March
        await until_screen(pilot, OrderScreen)
        for text in ("upgrade · 2026-03-10 09:30 · by acme-owner", "PO number: PO-2026-17", "Total 98.00",
                     "1. RemoteDesk Standard, 4 users", "Quantity 4 · unit price 49.00 · discount 0.00 · amount 196.00",
                     "2. Less the current configuration", "amount -98.00",
                     "Service period 2026-03-10 to 2027-03-02 · paid for license #"):
            assert shows(app, text), text
        await pilot.press("escape")
        await until_screen(pilot, LedgerScreen)
        await pilot.press("1")  # back to the ledger, which kept its own filter
        await settle(pilot, screen)
        assert rows(screen)[0].reason.value == "license"


async def test_text_kind_and_days_filter_in_the_portal_and_escape_clears_them(harness: PortalHarness) -> None:
    owner = await three_orders(harness)
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_ledger(pilot)
        await pilot.press("2")
        await settle(pilot, screen)
        await pilot.press("slash")
        await type_text(pilot, "po-2026")
        await until(pilot, lambda: screen.order_filter.q == "po-2026" and screen.source.loaded
                    and [order.kind.value for order in rows(screen)] == ["upgrade"], what="the text filter")
        await pilot.press("enter", "escape")  # out of the box, then the filter cleared
        await until(pilot, lambda: len(rows(screen)) == 3 and screen.source.loaded, what="every order again")
        await pilot.press("t")  # the first kind: purchases
        await until(pilot, lambda: screen.source.loaded and [o.kind.value for o in rows(screen)] == ["purchase"] * 2,
                    what="the purchases")
        assert shows(app, "Orders · purchase · any day")
        await pilot.press("3")
        await until_screen(pilot, DaysScreen)
        await type_text(pilot, "2026-03-15")
        await pilot.press("enter")
        await pilot.press("enter")  # the end left open
        await until_screen(pilot, LedgerScreen)
        await until(pilot, lambda: screen.source.loaded and [o.placed_at.date() for o in rows(screen)] == [
            date(2026, 3, 20)], what="the purchases since 15 March")
        assert shows(app, "Orders · purchase · from 2026-03-15")


async def test_days_backwards_are_refused_in_the_dialog_in_plain_words(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_ledger(pilot)
        await pilot.press("3")
        dialog = await until_screen(pilot, DaysScreen)
        dialog.query_one("#days-since").value = "2026-03-10"
        dialog.query_one("#days-until").value = "2026-03-01"
        await pilot.press("ctrl+s")
        await until_text(pilot, "must be on or before")
        dialog.query_one("#days-since").value = "10 March"
        await pilot.press("ctrl+s")
        await until_text(pilot, "From:")
        assert isinstance(app.screen, DaysScreen) and screen.ledger_filter.since is None


async def test_the_export_pages_through_the_portal_for_everything_the_filter_matches(
        harness: PortalHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await three_orders(harness)
    monkeypatch.setattr(ledger_forms, "EXPORT_PAGE", 1)  # one row a request: the export must follow the cursor
    target = tmp_path / "march.csv"
    messages: list[Any] = []
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await on_ledger(pilot)
        await pilot.press("w")
        dialog = await until_screen(pilot, ExportScreen)
        assert dialog.query_one("#export-path").value == "ledger.csv"  # in the folder seattui runs in
        dialog.query_one("#export-path").value = str(target)
        await pilot.press("ctrl+s")
        await until_screen(pilot, LedgerScreen)
        await until(pilot, lambda: any("Wrote 4 ledger entries" in toast for toast in toasts(messages)),
                    what="the toast")
        with target.open(newline="", encoding="utf-8") as file:
            written = list(csv.DictReader(file))
        assert [(row["reason"], row["amount"], row["balance_after"]) for row in written] == [
            ("license", "-49.00", "755.00"), ("upgrade", "-98.00", "804.00"), ("license", "-98.00", "902.00"),
            ("grant", "1000.00", "1000.00")]
        assert not (tmp_path / "march.csv.part").exists()

        await pilot.press("2", "t")  # the purchases only: a row per line
        await settle(pilot, screen)
        await pilot.press("w")
        dialog = await until_screen(pilot, ExportScreen)
        dialog.query_one("#export-path").value = str(tmp_path)  # a folder: the default name in it
        await pilot.press("ctrl+s")
        await until_screen(pilot, LedgerScreen)
        await until(pilot, lambda: (tmp_path / "orders.csv").exists(), what="the orders file")
        with (tmp_path / "orders.csv").open(newline="", encoding="utf-8") as file:
            lines = list(csv.DictReader(file))
        assert [(line["kind"], line["reference_name"], line["quantity"], line["unit_price"], line["amount"])
                for line in lines] == [("purchase", "", "1", "49.00", "49.00"),
                                        ("purchase", "Front desk", "2", "49.00", "98.00")]


async def test_an_export_to_a_folder_that_does_not_exist_says_so_and_writes_nothing(
        harness: PortalHarness, tmp_path: Path) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_ledger(pilot)
        await pilot.press("w")
        dialog = await until_screen(pilot, ExportScreen)
        dialog.query_one("#export-path").value = str(tmp_path / "nowhere" / "ledger.csv")
        await pilot.press("ctrl+s")
        await until_text(pilot, "there is no folder")
        assert isinstance(app.screen, ExportScreen)  # still asking where
        assert not (tmp_path / "nowhere").exists()


async def test_a_purchase_announced_elsewhere_refreshes_the_list(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_ledger(pilot)
        assert [entry.reason.value for entry in rows(screen)] == ["grant"]
        await owner.create_license(permanent(await a_key(harness), quantity=1))
        app.announce_change(PURCHASE)
        await until(pilot, lambda: [entry.reason.value for entry in rows(screen)] == ["license", "grant"],
                    what="the new entry")


async def test_a_portal_that_fails_is_a_message_on_the_screen(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_ledger(pilot)

        async def unavailable(*_args: Any, **_kwargs: Any) -> Any:
            raise errors.PortalUnavailable("Cannot reach the portal at http://portal.example.")

        assert app.client is not None
        app.client.orders = unavailable  # type: ignore[method-assign]
        await pilot.press("2")
        await until_text(pilot, "Cannot reach the portal at http://portal.example.")
        assert "ctrl+r" in screen_text(app)
        assert isinstance(app.screen, LedgerScreen) and rows(screen) == []


async def test_escape_stops_an_export_and_leaves_no_file(
        harness: PortalHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await three_orders(harness)
    monkeypatch.setattr(ledger_forms, "EXPORT_PAGE", 1)
    target = tmp_path / "ledger.csv"
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await on_ledger(pilot)
        assert app.client is not None
        slow_answers(app.client, "ledger", 5)  # each page a while in coming: the export is under way
        await pilot.press("w")
        dialog = await until_screen(pilot, ExportScreen)
        dialog.query_one("#export-path").value = str(target)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: (tmp_path / "ledger.csv.part").exists(), what="the export under way")
        await pilot.press("escape")
        await until_screen(pilot, LedgerScreen)
        await until(pilot, lambda: not (tmp_path / "ledger.csv.part").exists(), what="the half file gone")
        assert not target.exists()
