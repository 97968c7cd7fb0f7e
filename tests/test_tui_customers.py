"""The customers screen with Pilot: filter as you type, one customer's holdings and charges,
adding and editing, writing the list to CSV, and a purchase elsewhere showing up without a
refresh."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from seattui.domain.customers import CustomerFilter
from seattui.tui.changes import PURCHASE
from seattui.tui.screens.customer_forms import CustomerDetailScreen, CustomerExportScreen, CustomerForm
from seattui.tui.screens.customers import CustomersScreen
from seattui.tui.screens.dashboard import DashboardScreen

from harness import PortalHarness
from license_setup import a_license
from tui_support import make_app, screen_text, type_text, until, until_screen, until_text

SIZE = (100, 32)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


async def open_customers(pilot: Any, rows: int) -> CustomersScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.ready,
                what="the dashboard taking keys")
    await pilot.press("g", "c")
    screen: CustomersScreen = await until_screen(pilot, CustomersScreen)
    await until(pilot, lambda: len(screen.table.rows) == rows, what=f"{rows} customers")
    return screen


async def test_filter_then_a_customer_with_what_they_hold_and_were_charged(harness: PortalHarness) -> None:
    await a_license(harness, customer_email="ada@example.org", quantity=2)
    await a_license(harness, customer_email="bob@example.org", quantity=1)
    app = make_app(harness, token=(await harness.login("acme-viewer")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customers(pilot, 2)
        await until_text(pilot, "2 customers")
        await pilot.press("slash")
        await type_text(pilot, "ada")
        await until(pilot, lambda: [c.email for c in screen.table.rows] == ["ada@example.org"], what="ada only")
        await pilot.press("enter", "enter")
        detail: CustomerDetailScreen = await until_screen(pilot, CustomerDetailScreen)
        await until_text(pilot, "RemoteDesk permanent, 2 users")
        assert "98.00" in screen_text(app)  # what her license's order line charged
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="back on the list")
        assert detail is not None


async def test_add_then_edit_a_customer_and_write_the_list_to_csv(harness: PortalHarness, tmp_path: Path) -> None:
    client = await harness.login("acme-op")
    app = make_app(harness, token=client.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customers(pilot, 0)
        await until_text(pilot, "No customers yet")
        await pilot.press("n")
        await until_screen(pilot, CustomerForm)
        await type_text(pilot, "Grace@Example.org")
        await pilot.press("tab")
        await type_text(pilot, "Grace Hopper")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen, what="the form closed")
        await until(pilot, lambda: [c.email for c in screen.table.rows] == ["grace@example.org"], what="the row")
        await pilot.press("e")
        await until_screen(pilot, CustomerForm)
        await pilot.press("tab")  # to the company
        await type_text(pilot, "US Navy")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen and screen.table.rows[0].company == "US Navy",
                    what="the edit shown")
        [saved] = (await client.customers(CustomerFilter(text="navy"))).items
        assert (saved.name, saved.company) == ("Grace Hopper", "US Navy")

        await pilot.press("w")
        export: CustomerExportScreen = await until_screen(pilot, CustomerExportScreen)
        box = export.query_one("#export-path")
        box.value = ""  # type: ignore[attr-defined]
        await type_text(pilot, str(tmp_path / "nowhere" / "c.csv"))
        await pilot.press("ctrl+s")
        await until_text(pilot, "there is no folder")
        box.value = ""  # type: ignore[attr-defined]
        await type_text(pilot, str(tmp_path))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen, what="the export done")
        await until(pilot, lambda: any("Wrote 1 customer to" in note.message for note in app._notifications),
                    what="the rows written, said")
        rows = list(csv.DictReader((tmp_path / "customers.csv").open(encoding="utf-8")))
        assert [(r["email"], r["name"], r["company"]) for r in rows] == [
            ("grace@example.org", "Grace Hopper", "US Navy")]
        assert not (tmp_path / "customers.csv.part").exists()  # written under a part name, then renamed


async def test_a_purchase_for_a_new_email_shows_its_customer_without_a_refresh(harness: PortalHarness) -> None:
    await a_license(harness, customer_email="ada@example.org", quantity=1)
    app = make_app(harness, token=(await harness.login("acme-owner")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customers(pilot, 1)
        await a_license(harness, customer_email="new@example.org", quantity=1)
        app.announce_change(PURCHASE)  # as the wizard does once it has bought
        await until(pilot, lambda: sorted(c.email for c in screen.table.rows) == [
            "ada@example.org", "new@example.org"], what="the new customer")


async def test_n_on_a_customer_mails_them_a_code_into_their_own_account_after_asking(harness: PortalHarness) -> None:
    from seattui.domain.customers import CustomerMailChange
    from seattui.tui.screens.confirm import ConfirmScreen

    owner = await harness.login("acme-owner")
    await owner.set_customer_mail(CustomerMailChange(mail=False))  # the key mail invites nobody then
    await a_license(harness, customer_email="ada@example.org", quantity=1)
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await open_customers(pilot, 1)
        await pilot.press("enter")
        await until_screen(pilot, CustomerDetailScreen)
        await until_text(pilot, "No login of their own yet")
        assert "n: invite to their own account" in screen_text(app)
        await pilot.press("n")
        await until_screen(pilot, ConfirmScreen)
        await until_text(pilot, "Mail ada@example.org a code into their own account?")
        await pilot.press("y")
        await until_text(pilot, "Invited into their own account until")
    [customer] = (await owner.customers()).items
    assert (await owner.customer(customer.id)).invited_until is not None

    viewer = make_app(harness, token=(await harness.login("acme-viewer")).token)
    async with viewer.run_test(size=SIZE) as pilot:
        await open_customers(pilot, 1)
        await pilot.press("enter")
        await until_screen(pilot, CustomerDetailScreen)
        await until_text(pilot, "Invited into their own account until")
        assert "n: invite" not in screen_text(viewer)


async def test_L_disables_and_enables_a_customers_login_and_m_mails_a_password_code_each_after_asking(
        harness: PortalHarness) -> None:
    from seattui.domain.errors import LoginDisabled
    from seattui.tui.screens.confirm import ConfirmScreen

    from test_api_customer_accounts import PASSWORD, customer_session

    ada, license_id = await customer_session(harness, "ada@example.org", "ada")
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        await open_customers(pilot, 1)
        await pilot.press("enter")
        detail: CustomerDetailScreen = await until_screen(pilot, CustomerDetailScreen)
        await until_text(pilot, "Their own login: ada")
        assert "L: disable their login" in screen_text(app) and "n: invite" not in screen_text(app)
        await pilot.press("n")  # they have their login: no invitation
        await pilot.press("L")
        await until_screen(pilot, ConfirmScreen)
        await until_text(pilot, "Disable the login ada of ada@example.org?")
        await pilot.press("n")  # declined: nothing changes
        await until(pilot, lambda: app.screen is detail, what="back on the detail")
        await ada.license(license_id)
        await pilot.press("L")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until_text(pilot, "disabled since")
        assert "L: enable their login" in screen_text(app) and "m: mail" not in screen_text(app)
        with pytest.raises(LoginDisabled):
            await ada.license(license_id)

        await pilot.press("L")
        await until_screen(pilot, ConfirmScreen)
        await until_text(pilot, "Enable the login ada of ada@example.org?")
        await pilot.press("y")
        await until_text(pilot, "m: mail a code for a new password")
        await harness.login("ada", PASSWORD)
        await pilot.press("m")
        await until_screen(pilot, ConfirmScreen)
        await until_text(pilot, "Mail ada@example.org a code for a new password?")
        await pilot.press("y")
        await until_text(pilot, "a code for a new password waits until")
    [customer] = (await owner.customers()).items
    assert (await owner.customer(customer.id)).invited_until is not None

    viewer = make_app(harness, token=(await harness.login("acme-viewer")).token)
    async with viewer.run_test(size=SIZE) as pilot:
        await open_customers(pilot, 1)
        await pilot.press("enter")
        await until_screen(pilot, CustomerDetailScreen)
        await until_text(pilot, "Their own login: ada")
        assert "L: disable" not in screen_text(viewer) and "m: mail" not in screen_text(viewer)
