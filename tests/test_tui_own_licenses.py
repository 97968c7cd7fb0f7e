"""A customer's own login in the app: it opens on their licenses (and nobody else's), the `g`
box and `:` offer that screen and their subscriptions alone, `D` deactivates one of their
devices after asking, `w` writes their license file where they say; `g t` lists their own
subscriptions, and a login the organization disables is told so over the screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from seattui.domain.license_file import parse_keyring, verify_license_file
from seattui.domain.licensing import ActivationRequest
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.go import GoScreen
from seattui.tui.screens.jump import JumpScreen
from seattui.tui.screens.license_file_form import LicenseFileScreen
from seattui.tui.screens.own_licenses import OwnLicensesScreen

from harness import PortalHarness
from test_api_customer_accounts import PASSWORD, customer_session
from tui_support import log_in, make_app, screen_text, shows, type_text, until, until_screen, until_text

SIZE = (80, 24)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def opened(pilot: Any) -> OwnLicensesScreen:
    screen = await until_screen(pilot, OwnLicensesScreen)
    await until(pilot, lambda: screen.loaded and screen.text.catalog is not None, what="the list")
    return screen


async def test_a_customer_logs_in_to_their_own_licenses_and_no_screen_of_the_organization(
        harness: PortalHarness) -> None:
    ada, license_id = await customer_session(harness, "ada@example.org", "ada")
    _, other_id = await customer_session(harness, "bo@example.org", "bo")
    mine = await ada.license(license_id)
    owner = await harness.login("acme-owner")
    theirs = await owner.license(other_id)
    app = make_app(harness)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "ada", PASSWORD)
        screen = await opened(pilot)
        await until_text(pilot, mine.key)
        assert screen.table.total == 1 and not shows(app, theirs.key)
        assert shows(app, "Your licenses from Acme") and shows(app, "RemoteDesk")

        await pilot.press("g")
        go = await until_screen(pilot, GoScreen)
        assert [entry.id for entry in go.screens] == ["yours", "your_subscriptions"]
        assert "dashboard" not in screen_text(app) and "licenses" not in screen_text(app).replace("Your licenses", "")
        await pilot.press("l")  # the organization's licenses: not here
        await until_screen(pilot, OwnLicensesScreen)
        await pilot.press("colon")
        jump = await until_screen(pilot, JumpScreen)
        assert [entry.id for entry in jump.screens] == ["yours", "your_subscriptions"]
        await pilot.press("escape")
        await until_screen(pilot, OwnLicensesScreen)
        app.action_open_screen("dashboard")
        app.action_open_screen("customers")
        await pilot.pause()
        assert isinstance(app.screen, OwnLicensesScreen)


async def test_d_deactivates_their_device_after_asking(harness: PortalHarness) -> None:
    ada, license_id = await customer_session(harness, "ada@example.org", "ada")
    key = (await ada.license(license_id)).key
    await harness.client().activate(ActivationRequest(key=key, product_id="remotedesk",
                                                      fingerprint="ada-laptop-fp", hostname="ada-laptop"))
    app = make_app(harness, token=ada.token)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await until_text(pilot, "on ada-laptop")
        await pilot.press("D")
        asked = await until_screen(pilot, ConfirmScreen)
        assert asked.title_text == f"Deactivate RemoteDesk on {key} from ada-laptop?"
        await pilot.press("n")  # asked, and left alone
        await until_screen(pilot, OwnLicensesScreen)
        assert (await ada.license(license_id)).device is not None
        await pilot.press("D")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until_text(pilot, "not activated on a device")
        assert (await ada.license(license_id)).device is None


async def test_w_writes_their_license_file_where_asked(harness: PortalHarness, tmp_path: Path) -> None:
    ada, license_id = await customer_session(harness, "ada@example.org", "ada")
    key = (await ada.license(license_id)).key
    app = make_app(harness, token=ada.token)
    target = tmp_path / "mine.license"
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("w")
        form = await until_screen(pilot, LicenseFileScreen)
        form.query_one("#file-path", Input).value = ""
        await type_text(pilot, str(target))
        await pilot.press("ctrl+s")
        await until_screen(pilot, OwnLicensesScreen)
        await until(pilot, lambda: target.exists(), what="the file")
    keyring = parse_keyring((await harness.client().signing_keys()).text)
    assert verify_license_file(target.read_text(), keyring, now=harness.clock.now).key == key


async def test_g_t_shows_their_own_subscriptions_without_cost_and_w_writes_one_file(
        harness: PortalHarness, tmp_path: Path) -> None:
    from seattui.domain.licensing import SubscriptionOrder
    from seattui.tui.screens.own_subscriptions import OwnSubscriptionsScreen, SubscriptionFileScreen

    from test_api_billing import a_key

    owner = await harness.login("acme-owner")
    ada, _ = await customer_session(harness, "ada@example.org", "ada")
    theirs = await owner.create_subscription(SubscriptionOrder(
        key=await a_key(harness), product_id="connect", channels=3, customer_email="ada@example.org"))
    other = await owner.create_subscription(SubscriptionOrder(key=await a_key(harness), product_id="connect",
                                                              channels=2, customer_email="eve@example.org"))
    target = tmp_path / "connect.license"
    app = make_app(harness, token=ada.token)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("g", "t")
        screen = await until_screen(pilot, OwnSubscriptionsScreen)
        await until_text(pilot, theirs.key)
        assert not shows(app, other.key) and shows(app, "Your subscriptions from Acme · 1 live subscription")
        assert shows(app, f"{theirs.period_ends_on}") and not shows(app, "Monthly")
        assert not shows(app, "Cancel") and not shows(app, "Change")  # the organization's changes
        await pilot.press("w")
        form = await until_screen(pilot, SubscriptionFileScreen)
        form.query_one("#file-path", Input).value = ""
        await type_text(pilot, str(target))
        await pilot.press("ctrl+s")
        await until_screen(pilot, OwnSubscriptionsScreen)
        await until(pilot, lambda: target.exists(), what="the file")
        await pilot.press("escape")
        await until_screen(pilot, OwnLicensesScreen)
        assert screen is not None
    keyring = parse_keyring((await harness.client().signing_keys()).text)
    assert verify_license_file(target.read_text(), keyring, now=harness.clock.now).key == theirs.key


async def test_a_login_the_organization_disables_is_told_so_at_its_next_request(harness: PortalHarness) -> None:
    from seattui.domain.customers import CustomerFilter
    from seattui.tui.screens.relogin import ReloginScreen

    owner = await harness.login("acme-owner")
    ada, _ = await customer_session(harness, "ada@example.org", "ada")
    app = make_app(harness, token=ada.token)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        [customer] = (await owner.customers(CustomerFilter(text="ada@example.org"))).items
        await owner.set_customer_login_enabled(customer.id, False)
        await pilot.press("ctrl+r")
        await until_screen(pilot, ReloginScreen)
        await until_text(pilot, "Acme has disabled your login: ask Acme to enable it")


async def test_A_activates_their_own_offline_machine_from_its_request_file(harness: PortalHarness,
                                                                          tmp_path: Path) -> None:
    from seattui.domain.licensing import LicenseStatus
    from seattui.domain.license_file import DeviceFileRequest, device_request_text
    from seattui.tui.screens.license_file_form import OfflineActivationScreen

    ada, license_id = await customer_session(harness, "ada@example.org", "ada")
    key = (await ada.license(license_id)).key
    request = tmp_path / "request.txt"
    request.write_text(device_request_text(DeviceFileRequest(
        action="activate", key=key, product_id="remotedesk", fingerprint="air-gap-0001", hostname="vault")))
    response = tmp_path / "machine.license"
    app = make_app(harness, token=ada.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("A")
        form = await until_screen(pilot, OfflineActivationScreen)
        form.query_one("#offline-request", Input).value = str(request)
        form.query_one("#offline-response", Input).value = str(response)
        await pilot.press("ctrl+s")
        await until_screen(pilot, OwnLicensesScreen)
        await until(pilot, lambda: screen.loaded and screen.table.rows[0].status is LicenseStatus.ACTIVATED,
                    what="the license on its device")
    keyring = parse_keyring((await harness.client().signing_keys()).text)
    assert verify_license_file(response.read_text(), keyring, now=harness.clock.now, machine="air-gap-0001").key == key
