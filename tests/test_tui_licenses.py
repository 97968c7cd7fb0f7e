"""The licenses and support screens with Pilot: filtering as you type and by facets, the
upgrade with its quote and confirmation, edits, deletes refused while activated and refunded
otherwise, a forced deactivation, the batch support extension, and the dashboard's lists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from seattui.domain.dates import add_years
from seattui.domain.licensing import LicenseStatus, Term
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.dashboard import DashboardScreen
from seattui.tui.screens.license_forms import DateRangeScreen, EditScreen, ExtendScreen, FacetScreen, UpgradeScreen
from seattui.tui.screens.licenses import LicensesScreen
from seattui.tui.screens.support import SupportScreen

from harness import PortalHarness
from license_setup import a_license, on_device
from tui_support import burst, make_app, screen_text, shows, slow_answers, toasts, type_text, until, until_screen, until_text

SIZE = (120, 40)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


async def open_list(pilot: Any, screen_id: str, screen_type: type) -> Any:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")
    pilot.app.action_open_screen(screen_id)
    screen = await until_screen(pilot, screen_type)
    await until(pilot, lambda: screen.loaded and screen.text.catalog is not None, what="the list")
    return screen


def keys_shown(screen: Any) -> list[str]:
    return [row.key for row in screen.table.rows]


async def app_for(harness: PortalHarness, login: str = "acme-owner") -> Any:
    return make_app(harness, token=(await harness.login(login)).token)


async def test_the_list_filters_as_you_type_and_by_facets(harness: PortalHarness) -> None:
    contoso = await a_license(harness, quantity=1, customer_email="it@contoso.example")
    fabrikam = await a_license(harness, product_id="mailguard", edition_id="basic", quantity=1,
                               customer_email="it@fabrikam.example")
    other = await a_license(harness, product_id="sitewatch", quantity=1, comment="fabrikam branch")
    app = await app_for(harness, "acme-viewer")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        assert sorted(keys_shown(screen)) == sorted([contoso.key, fabrikam.key, other.key])
        await pilot.press("slash")
        await type_text(pilot, "fabri")
        await until(pilot, lambda: screen.loaded and sorted(keys_shown(screen)) == sorted([fabrikam.key, other.key]),
                    what="the filtered rows")
        await until_text(pilot, "Licenses · 2 licenses")
        await pilot.press("escape")  # out of the filter box, the filter stays
        assert screen.table.has_focus and screen.filter.q == "fabri"
        await pilot.press("f")
        facets = await until_screen(pilot, FacetScreen)
        await until_text(pilot, "MailGuard  1")
        assert "RemoteDesk" not in screen_text(app)  # counted under the text filter
        await pilot.press("down", "enter")  # the first product after "any": MailGuard
        await until(pilot, lambda: app.screen is screen and screen.loaded and keys_shown(screen) == [fabrikam.key],
                    what="the facet applied")
        assert facets is not screen and "product: MailGuard" in screen_text(app)
        await pilot.press("escape")  # clears the filter and the facets
        await until(pilot, lambda: screen.loaded and len(keys_shown(screen)) == 3, what="every license again")
        assert screen.query_one("#list-filter").value == ""


async def test_an_upgrade_shows_its_quote_and_is_charged_after_the_confirmation(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=2)
    app = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        await pilot.press("u")
        await until_screen(pilot, UpgradeScreen)
        await until_text(pilot, "Raise the edition or the quantity")
        await pilot.press("backspace")
        await type_text(pilot, "3")
        await until_text(pilot, "Balance after  853.00")
        assert shows(app, "Balance now    902.00") and shows(app, "Cost            49.00")
        await pilot.press("ctrl+s")
        await until_screen(pilot, ConfirmScreen)
        assert "Upgrade license" in screen_text(app) and "3 users" in screen_text(app)
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen and screen.table.rows[0].quantity == 3, what="the upgrade")
        await until_text(pilot, "853.00 credits")
    owner = await harness.login("acme-owner")
    assert (await owner.license(license.id)).quantity == 3
    assert (await owner.balance()).balance == Decimal("853.00")


async def test_an_upgrade_down_is_explained_and_charges_nothing(harness: PortalHarness) -> None:
    await a_license(harness, quantity=5)
    app = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot, "licenses", LicensesScreen)
        await pilot.press("u")
        await until_screen(pilot, UpgradeScreen)
        await pilot.press("backspace")
        await type_text(pilot, "4")
        await until_text(pilot, "Quantity: cannot go")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, UpgradeScreen)  # no confirmation, the typed 4 still there
        assert app.screen.query_one("#upgrade-quantity").value == "4"
    assert (await (await harness.login("acme-owner")).balance()).balance == Decimal("755.00")


async def test_an_edit_keeps_what_was_typed_until_it_is_valid(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=1, customer_email="old@contoso.example")
    app = await app_for(harness, "acme-op")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        await pilot.press("e")
        dialog = await until_screen(pilot, EditScreen)
        dialog.query_one("#edit-email").value = "not an email"
        await pilot.press("ctrl+s")
        await until_text(pilot, "Customer email:")
        assert app.screen is dialog and dialog.query_one("#edit-email").value == "not an email"
        dialog.query_one("#edit-email").value = "new@contoso.example"
        dialog.query_one("#edit-comment").value = "renewal in May"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen and screen.table.rows[0].comment == "renewal in May")
        await until_text(pilot, "new@contoso.example")
        assert "Upgrade" not in screen_text(app).split("\n")[-1]  # operators do not buy
    edited = await (await harness.login("acme-op")).license(license.id)
    assert (edited.customer_email, edited.comment) == ("new@contoso.example", "renewal in May")


async def test_text_typed_right_after_tab_in_a_dialog_goes_in_the_next_field(harness: PortalHarness) -> None:
    """Every dialog of fields (FormScreen): tab and text at once put the text in the field tab
    moves to; shift+tab and text, in the field before."""
    await a_license(harness, quantity=1, customer_email="old@contoso.example")
    app = await app_for(harness, "acme-op")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot, "licenses", LicensesScreen)
        await pilot.press("e")
        dialog = await until_screen(pilot, EditScreen)
        await until(pilot, lambda: dialog.focused is dialog.query_one("#edit-email"), what="the email focused")
        burst(pilot, "tab", "h", "i")
        await until(pilot, lambda: dialog.query_one("#edit-comment").value == "hi", what="the comment typed after tab")
        assert dialog.query_one("#edit-email").value == "old@contoso.example"
        burst(pilot, "shift+tab", *"new@contoso.example")
        await until(pilot, lambda: dialog.query_one("#edit-email").value == "new@contoso.example",
                    what="the email typed after shift+tab")
        assert dialog.query_one("#edit-comment").value == "hi"


async def test_delete_is_refused_while_activated_naming_the_device(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=2)
    await on_device(harness, license, "reception-pc")
    app = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        await until_text(pilot, "on reception-pc")
        await pilot.press("delete")
        await until_text(pilot, "is activated on reception-pc")
        assert app.screen is screen and keys_shown(screen) == [license.key]
    assert (await (await harness.login("acme-owner")).license(license.id)).device is not None


async def test_deleting_the_marked_licenses_refunds_them_after_the_confirmation(harness: PortalHarness) -> None:
    first, second = await a_license(harness, quantity=2), await a_license(harness, quantity=1)
    kept = await a_license(harness, quantity=1)
    app = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        for row in list(screen.table.rows):  # space marks and moves on; down skips the one kept
            await pilot.press("space" if row.id in (first.id, second.id) else "down")
        await pilot.press("delete")
        await until_screen(pilot, ConfirmScreen)
        await until_text(pilot, "Delete 2 licenses?")
        assert shows(app, "Credits back now 147.00") and shows(app, "Balance after 951.00")
        assert shows(app, "147.00 comes back to your credits now, with the deletion.")
        await pilot.press("y")
        await until(pilot, lambda: keys_shown(screen) == [kept.key], what="the rows gone")
        await until_text(pilot, "951.00 credits")  # the balance, refunded
    owner = await harness.login("acme-owner")
    assert (await owner.balance()).balance == Decimal("951.00")


async def test_an_admin_forces_a_deactivation_and_a_viewer_cannot(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=1)
    await on_device(harness, license, "old-laptop")
    viewer = await app_for(harness, "acme-viewer")
    async with viewer.run_test(size=SIZE) as pilot:
        await open_list(pilot, "licenses", LicensesScreen)
        # D, enter and e do nothing for a viewer; `?` after them shows they were all handled.
        await pilot.press("D", "enter", "e", "question_mark")
        await until(pilot, lambda: type(viewer.screen).__name__ == "HelpScreen", what="the help")
        assert [type(screen).__name__ for screen in viewer.screen_stack] == ["LicensesScreen", "HelpScreen"]
        await pilot.press("escape")
        assert "Deactivate" not in screen_text(viewer) and "e Edit" not in screen_text(viewer)
    app = await app_for(harness, "acme-admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        # The saved session's role arrives with the portal's first answer; D waits for it.
        await until(pilot, lambda: screen.check_action("release_device", ()) is True, what="an admin's keys")
        await pilot.press("D")
        await until_screen(pilot, ConfirmScreen)
        await until_text(pilot, "Deactivate license")
        await pilot.press("y")
        await until(pilot, lambda: screen.table.rows[0].status is LicenseStatus.ASSIGNED, what="the release")
        await until_text(pilot, "not activated on a device")


async def test_support_of_the_marked_licenses_is_extended_in_one_batch(harness: PortalHarness) -> None:
    expired = await a_license(harness, quantity=2)
    harness.clock.advance(days=300)
    running = await a_license(harness, quantity=1, product_id="sitewatch")
    trial = await a_license(harness, term=Term.TRIAL, trial_days=30, quantity=1)
    harness.clock.advance(days=100)
    today = harness.clock.now.date()
    app = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "support", SupportScreen)
        assert keys_shown(screen) == [expired.key, running.key]  # permanent only, earliest end first
        assert trial.key not in screen_text(app)
        await until_text(pilot, "35 days ago")
        await pilot.press("space", "space", "x")
        await until_screen(pilot, ExtendScreen)
        await pilot.press("backspace")
        await type_text(pilot, "2")
        await until_text(pilot, "Cost            66.50")  # 2 users x 2 years x 12.25 + 1 site x 2 x 8.75
        await pilot.press("ctrl+s")
        await until_screen(pilot, ConfirmScreen)
        await until_text(pilot, "Extend the support of 2 licenses by 2 years?")
        await pilot.press("y")
        await until_text(pilot, "800.50 credits")  # the balance after
        await pilot.press("1")  # expired only: none left
        await until(pilot, lambda: screen.loaded and keys_shown(screen) == [], what="no expired support")
    owner = await harness.login("acme-owner")
    assert (await owner.license(expired.id)).support_ends_on == add_years(today, 2)
    assert (await owner.license(running.id)).support_ends_on == add_years(running.support_ends_on, 2)


async def test_the_dashboards_figures_open_the_lists_behind_them(harness: PortalHarness) -> None:
    ended = await a_license(harness, term=Term.TRIAL, trial_days=2, quantity=1)
    await a_license(harness, quantity=1)
    harness.clock.advance(days=3)
    app = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None)
        await pilot.press("down", "enter")  # "trials have ended"
        screen = await until_screen(pilot, LicensesScreen)
        await until(pilot, lambda: screen.loaded and keys_shown(screen) == [ended.key], what="the ended trials")
        await pilot.press("g", "d")
        await until_screen(pilot, DashboardScreen)
        await pilot.press("down", "enter")  # "support ended": none yet
        support = await until_screen(pilot, SupportScreen)
        await until(pilot, lambda: support.loaded and keys_shown(support) == [], what="no expired support")
        await until_text(pilot, "Support expired · 0 licenses")


async def test_a_custom_support_range_says_what_is_wrong_with_a_date(harness: PortalHarness) -> None:
    early = await a_license(harness, quantity=1)
    harness.clock.advance(days=40)
    late = await a_license(harness, quantity=1, product_id="sitewatch")
    app = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "support", SupportScreen)
        assert keys_shown(screen) == [early.key, late.key]
        await pilot.press("3")
        dialog = await until_screen(pilot, DateRangeScreen)
        await type_text(pilot, "2027-13-01")
        await pilot.press("enter", "enter")
        await until_text(pilot, "From:")
        assert app.screen is dialog  # the typed date stays to be fixed
        dialog.query_one("#range-from").value = str(late.support_ends_on)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen and screen.loaded and keys_shown(screen) == [late.key],
                    what="the range applied")
        await until_text(pilot, f"Support ends {late.support_ends_on} to …")


# -- work at once: nothing cancels what it should not ---------------------------------------


async def test_a_reload_and_mark_all_at_once_both_go_through(harness: PortalHarness) -> None:
    """ctrl+r then ctrl+a while the portal is slow: marking all does not cancel the reload, whose
    first page arrives and is followed by the next."""
    for _ in range(70):  # more than the first page; trials cost nothing
        await a_license(harness, term=Term.TRIAL, trial_days=30, quantity=1)
    app = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        await until(pilot, lambda: len(screen.table.rows) == 70, what="every license")
        added = await a_license(harness, term=Term.TRIAL, trial_days=30, quantity=1)  # another administrator's
        slow_answers(app.client, "licenses", 0.3)
        await pilot.press("ctrl+r", "ctrl+a")
        await until(pilot, lambda: screen.loaded and len(screen.table.rows) == 71, what="the list read again")
        assert added.key in keys_shown(screen)
        await until(pilot, lambda: len(screen.table.marked) == 71, what="every license marked")


async def test_a_slow_delete_goes_on_while_another_license_is_deactivated(harness: PortalHarness) -> None:
    doomed = await a_license(harness, quantity=1)
    bound = await a_license(harness, quantity=1)
    await on_device(harness, bound, "old-laptop")
    app = await app_for(harness)
    messages: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        slow_answers(app.client, "delete_licenses", 1)
        screen.table.cursor_row = keys_shown(screen).index(doomed.key)
        await pilot.press("delete")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen, what="the confirmation closed")
        greyed = screen.check_action("delete", ())  # while the delete is on its way
        screen.table.cursor_row = keys_shown(screen).index(bound.key)
        await pilot.press("D")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: keys_shown(screen) == [bound.key], what="the deleted license gone")
        await until(pilot, lambda: "Deleted 1 license; 49.00 credits refunded." in toasts(messages),
                    what="the delete's toast")
        await until(pilot, lambda: screen.table.rows[0].device is None, what="the deactivation")
        assert greyed is None and screen.check_action("delete", ()) is True  # greyed out, then back


async def test_the_detail_panel_wraps_everything_at_80_columns(harness: PortalHarness) -> None:
    license = await a_license(harness, product_id="mailguard", edition_id="advanced", addons=("archiving",),
                              quantity=5, customer_email="it@contoso.example", comment="renewal due in spring")
    await on_device(harness, license, "reception-pc")
    app = await app_for(harness)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_list(pilot, "licenses", LicensesScreen)
        await until_text(pilot, "add-ons: archiving")
        panel = screen_text(app).split("───", 1)[-1]
        for part in ("MailGuard Advanced, 5 mailboxes, permanent", "it@contoso.example", "renewal due in spring",
                     "support until", "fingerprint fp-reception-pc-0001", "activated"):
            assert part in " ".join(panel.split()), part


async def test_a_filter_past_the_portals_count_cap_says_so(harness: PortalHarness) -> None:
    from sqlalchemy import insert

    from seattui.portal.queries.licenses import search_text
    from seattui.portal.services.licenses import TEXT_TOTAL_CAP
    from seattui.portal.store.tables import license_search, licenses as licenses_table

    only = await a_license(harness, quantity=1, comment="the only one")
    async with harness.as_org("Acme") as tx:
        # Written in bulk, as a large organization's import would: more matches than the portal counts.
        key_id = await _key_id(tx, only.key)
        rows = [{"org_id": tx.org_id, "key_id": key_id, "key": only.key,
                 "product_id": "remotedesk", "edition_id": "standard", "term": "permanent", "quantity": 1,
                 "comment": f"bulk row {n}", "created_at": tx.now, "updated_at": tx.now}
                for n in range(TEXT_TOTAL_CAP + 5)]
        ids = (await tx.conn.execute(insert(licenses_table).returning(licenses_table.c.id), rows)).scalars().all()
        await tx.conn.execute(insert(license_search), [
            {"org_id": tx.org_id, "license_id": license_id, "text": search_text(only.key, None, row["comment"])}
            for license_id, row in zip(ids, rows, strict=True)])
    app = await app_for(harness, "acme-viewer")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot, "licenses", LicensesScreen)
        await pilot.press("slash")
        await type_text(pilot, "bulk")
        await until_text(pilot, "Licenses · 1,000+ licenses")
        await type_text(pilot, " row 17")
        await until_text(pilot, "Licenses · 11 licenses")  # 17 and 170–179: counted exactly
        assert screen.filter.q == "bulk row 17"


async def _key_id(tx: Any, key: str) -> int:
    from sqlalchemy import select

    from seattui.portal.store.tables import activation_keys

    return (await tx.conn.execute(select(activation_keys.c.id).where(activation_keys.c.key == key))).scalar_one()


def test_the_device_line_makes_a_stored_fingerprint_harmless() -> None:
    """The organization's panel and a customer's show the device alike: a fingerprint written
    into the store by other means than the API (which refuses control characters) reaches the
    terminal without its escape."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from seattui.domain.licensing import Device
    from seattui.tui.screens.license_list import device_words, terms_words

    device = Device(fingerprint="fp-\x1b[2Jgone", hostname="it-\x1b]0;x\x07", activated_at=datetime(2026, 3, 1, tzinfo=UTC))
    shown = device_words(SimpleNamespace(device=device), "not activated").plain  # type: ignore[arg-type]
    assert "\x1b" not in shown and "\x07" not in shown and "fp-" in shown and "it-" in shown
    assert device_words(SimpleNamespace(device=None), "not activated").plain == "not activated"  # type: ignore[arg-type]
    plain = SimpleNamespace(trial_ends_on=None, support_ends_on="2027-01-31", term_ends_on=None)
    assert terms_words(plain, "since 2026-03-01") == "support until 2027-01-31 · since 2026-03-01"  # type: ignore[arg-type]
