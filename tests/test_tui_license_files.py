"""`w` on the licenses screen writes the signed file of the license under the cursor where the
user says (a machine file only for the machine that holds the activation); `A` activates a
machine offline from its request file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import Input

from seattui.domain.license_file import DeviceFileRequest, device_request_text, parse_keyring, verify_license_file
from seattui.domain.licensing import LicenseStatus
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.license_file_form import LicenseFileScreen, OfflineActivationScreen
from seattui.tui.screens.licenses import LicensesScreen

from harness import PortalHarness
from license_setup import a_license, on_device
from tui_support import make_app, type_text, until, until_screen, until_text

SIZE = (120, 40)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def open_licenses(pilot: Any) -> LicensesScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), what="the dashboard")
    pilot.app.action_open_screen("licenses")
    screen = await until_screen(pilot, LicensesScreen)
    await until(pilot, lambda: screen.loaded and screen.text.catalog is not None, what="the list")
    return screen


async def write_to(pilot: Any, path: str, machine: str | None = None) -> LicenseFileScreen:
    await pilot.press("w")
    form = await until_screen(pilot, LicenseFileScreen)
    form.query_one("#file-path", Input).value = ""
    await type_text(pilot, path)
    if machine is not None:
        form.query_one("#file-machine", Input).value = machine
    await pilot.press("ctrl+s")
    return form


async def test_w_writes_the_license_file_where_asked(harness: PortalHarness, tmp_path: Path) -> None:
    license = await a_license(harness, quantity=3)
    app = make_app(harness, token=(await harness.login("acme-viewer")).token)
    async with app.run_test(size=SIZE) as pilot:
        await open_licenses(pilot)
        target = tmp_path / "for-the-customer.license"
        await write_to(pilot, str(target))
        await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: any(f"to {target}" in note.message for note in app._notifications),
                    what="the toast naming the file")
    keys = parse_keyring((await harness.client().signing_keys()).text)
    facts = verify_license_file(target.read_text(), keys, now=harness.clock.now)
    assert (facts.object_id, facts.quantity, facts.machine) == (license.id, 3, None)


async def test_a_machine_file_is_written_only_for_the_machine_holding_the_activation(
        harness: PortalHarness, tmp_path: Path) -> None:
    license = await a_license(harness, quantity=1)
    await on_device(harness, license, "vault")
    app = make_app(harness, token=(await harness.login("acme-admin")).token)
    async with app.run_test(size=SIZE) as pilot:
        await open_licenses(pilot)
        await write_to(pilot, str(tmp_path / "wrong.license"), machine="someone-elses-machine")
        await until_text(pilot, "is not activated on machine someone-elses-machine")
        assert isinstance(app.screen, LicenseFileScreen) and not (tmp_path / "wrong.license").exists()
        app.screen.query_one("#file-machine", Input).value = "fp-vault-0001"
        await pilot.press("ctrl+s")
        await until_screen(pilot, LicensesScreen)
    keys = parse_keyring((await harness.client().signing_keys()).text)
    facts = verify_license_file((tmp_path / "wrong.license").read_text(), keys, now=harness.clock.now,
                                machine="fp-vault-0001")
    assert (facts.machine, facts.hostname, facts.valid_until) == ("fp-vault-0001", "vault", None)


async def test_a_folder_that_does_not_exist_is_said_in_the_dialog(harness: PortalHarness, tmp_path: Path) -> None:
    await a_license(harness)
    app = make_app(harness, token=(await harness.login("acme-viewer")).token)
    async with app.run_test(size=SIZE) as pilot:
        await open_licenses(pilot)
        await write_to(pilot, str(tmp_path / "missing" / "x.license"))
        await until_text(pilot, "there is no folder")
        assert isinstance(app.screen, LicenseFileScreen)


async def test_A_activates_a_machine_offline_from_its_request_file(harness: PortalHarness, tmp_path: Path) -> None:
    license = await a_license(harness, quantity=1)
    request = tmp_path / "request.txt"
    request.write_text(device_request_text(DeviceFileRequest(
        action="activate", key=license.key, product_id="remotedesk", fingerprint="air-gap-0001", hostname="vault")))
    response = tmp_path / "machine.license"
    app = make_app(harness, token=(await harness.login("acme-op")).token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_licenses(pilot)
        await pilot.press("A")
        form = await until_screen(pilot, OfflineActivationScreen)
        form.query_one("#offline-request", Input).value = str(request)
        form.query_one("#offline-response", Input).value = str(response)
        await pilot.press("ctrl+s")
        await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: screen.loaded and screen.table.rows[0].status is LicenseStatus.ACTIVATED,
                    what="the license on its device")
    keys = parse_keyring((await harness.client().signing_keys()).text)
    facts = verify_license_file(response.read_text(), keys, now=harness.clock.now, machine="air-gap-0001")
    assert (facts.object_id, facts.hostname) == (license.id, "vault")


async def test_a_viewer_cannot_activate_offline(harness: PortalHarness) -> None:
    await a_license(harness)
    app = make_app(harness, token=(await harness.login("acme-viewer")).token)
    messages: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await open_licenses(pilot)
        assert screen.check_action("offline_activate", ()) is False
        before = len(messages)
        await pilot.press("A", "r")  # r: a refresh after it, so the A has been handled when it starts
        await until(pilot, lambda: any(isinstance(m, events.Key) and m.key == "r" for m in messages[before:]),
                    what="the keys to arrive")
        assert isinstance(app.screen, LicensesScreen)
        assert not any(isinstance(m, events.ScreenSuspend) for m in messages[before:])  # no dialog opened
