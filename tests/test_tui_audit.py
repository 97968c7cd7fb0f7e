"""The audit screen with Pilot: `g h` shows every change newest first; the filter narrows it by
who, kind, object and day, and a bad filter says what to type; enter on a seat batch shows its
moves; `w` writes the matching entries to a CSV file; a change made elsewhere in the app shows
here when you come back."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from textual import events

from seattui.domain.licensing import LicenseOrder, Term
from seattui.tui.screens.audit import AuditBatchScreen, AuditScreen, parse_filter
from seattui.tui.screens.dashboard import DashboardScreen

from harness import PortalHarness
from seat_support import move, staff
from tui_support import make_app, screen_text, until, until_screen, until_text

SIZE = (120, 32)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


async def on_audit(pilot: Any) -> AuditScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen) and pilot.app.screen.view is not None,
                what="the dashboard")
    await pilot.press("g", "h")
    screen: AuditScreen = await until_screen(pilot, AuditScreen)
    await until(pilot, lambda: screen.table.rows != [], what="the first page")
    return screen


def summaries(screen: AuditScreen) -> list[str]:
    return [entry.summary for entry in screen.table.rows]


async def test_every_change_newest_first_and_the_filter_narrows_it(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    operator = await harness.login("acme-op")
    first = await owner.create_key("First")
    harness.clock.advance(minutes=1)
    second = await operator.create_key("Second")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_audit(pilot)
        await until(pilot, lambda: f"Created key {second.key}" in summaries(screen), what="the keys' entries")
        shown = summaries(screen)
        assert shown.index(f"Created key {second.key}") < shown.index(f"Created key {first.key}")
        await until_text(pilot, "acme-op")

        await pilot.press("slash")
        await pilot.press(*"user:acme-op kind:key")
        await until(pilot, lambda: summaries(screen) == [f"Created key {second.key}"], what="the filtered log")
        await until_text(pilot, f"acme-op · Created key {second.key}")  # the entry under the cursor, whole

        pilot.app.screen.focused.post_message(events.Paste(" since:yesterday"))  # at once, as pasted
        await until_text(pilot, "since: 'yesterday' is not a day; type it as YYYY-MM-DD. The list shows the last")
        assert summaries(screen) == [f"Created key {second.key}"]  # the last good filter's rows stay

        await pilot.press("escape", "escape")  # out of the box, then the filter cleared
        await until(pilot, lambda: f"Created key {first.key}" in summaries(screen), what="every entry again")


def test_the_filter_line_reads_every_kind_of_word() -> None:
    wanted = parse_filter("user:alice license object:license#12 since:2026-11-01 until:2026-11-30")
    assert (wanted.user, wanted.kind, wanted.object_type, wanted.object_id) == ("alice", "license", "license", 12)
    assert (str(wanted.since), str(wanted.until)) == ("2026-11-01", "2026-11-30")
    assert parse_filter("object:employee").object_id is None
    with pytest.raises(ValueError, match="is not a filter"):
        parse_filter("colour:red")
    with pytest.raises(ValueError, match="is not an object"):
        parse_filter("object:#12")


async def test_enter_on_a_seat_batch_shows_its_moves(harness: PortalHarness) -> None:
    ids = await staff(harness, 4, 2)
    operator = await harness.login("acme-op")
    await operator.reassign([move(ids[0], ids[2]), move(ids[1], ids[3])])
    people = {person.id: person for person in (await operator.employees(limit=10)).items}
    app = make_app(harness, token=operator.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_audit(pilot)
        await until(pilot, lambda: bool(screen.table.rows) and screen.table.rows[0].action == "seat.reassign",
                    what="the batch's entry on top")
        await pilot.press("enter")
        batch = await until_screen(pilot, AuditBatchScreen)
        await until_text(pilot, f"{people[ids[1]].name}")
        text = screen_text(app)
        assert people[ids[0]].name in text and people[ids[2]].name in text and people[ids[3]].name in text
        assert "Reassigned 2 seat(s)" in text
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is screen, what="back on the log")
        assert batch is not screen


async def test_enter_on_a_change_without_a_batch_says_so(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Alone")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_audit(pilot)
        await until(pilot, lambda: bool(screen.table.rows) and screen.table.rows[0].summary == f"Created key {key.key}",
                    what="the key's entry on top")
        await pilot.press("enter")
        await until_text(pilot, "is a change of its own, not part of a batch")
        assert isinstance(pilot.app.screen, AuditScreen)


async def test_w_writes_the_matching_entries_to_a_csv_file(harness: PortalHarness, tmp_path: Path) -> None:
    owner = await harness.login("acme-owner")
    keys = [await owner.create_key(f"=HYPERLINK(\"x\") {n}") for n in range(3)]
    target = tmp_path / "log.csv"
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_audit(pilot)
        await pilot.press("slash", *"kind:key", "enter")
        await until(pilot, lambda: len(screen.table.rows) == 3, what="the three keys' entries")
        await pilot.press("w")
        await until(pilot, lambda: bool(pilot.app.screen.query("#export-path")), what="the dialog")
        field = pilot.app.screen.query_one("#export-path")
        field.value = str(target)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pilot.app.screen is screen, what="the dialog closed")
        await until(pilot, lambda: any("Wrote 3 entries" in note.message for note in pilot.app._notifications),
                    what="the toast")
    rows = list(csv.reader(target.open(encoding="utf-8", newline="")))
    assert rows[0] == ["id", "at", "actor", "action", "object_type", "object_id", "summary", "batch_id", "details"]
    assert [row[6] for row in rows[1:]] == [f"Created key {key.key}" for key in reversed(keys)]
    assert all(row[3] == "key.create" for row in rows[1:])
    # A name a spreadsheet would run as a formula is written as text.
    assert all(row[8].startswith("{") and '"=HYPERLINK' in row[8] for row in rows[1:])


async def test_ctrl_r_reads_the_log_again(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Before")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_audit(pilot)
        await until(pilot, lambda: f"Created key {key.key}" in summaries(screen), what="the entry")
        # Another administrator's change, made outside this app.
        await owner.create_license(LicenseOrder(key=key.key, product_id="remotedesk", edition_id="standard",
                                                term=Term.TRIAL, trial_days=14, quantity=5))
        assert not any(entry.action == "license.create" for entry in screen.table.rows)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: bool(screen.table.rows) and screen.table.rows[0].action == "license.create",
                    what="the license's entry on top")


async def test_a_change_made_in_the_app_shows_on_the_log(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_audit(pilot)
        before = len(screen.table.rows)
        from seattui.tui.changes import Area

        created = await owner.create_key("Announced")
        app.announce_change(frozenset({Area.KEYS}))  # what the keys screen says after creating one
        await until(pilot, lambda: any(entry.summary == f"Created key {created.key}" for entry in screen.table.rows),
                    what="the new entry")
        assert len(screen.table.rows) == before + 1


async def test_a_hostile_summary_is_drawn_with_visible_stand_ins(harness: PortalHarness) -> None:
    """An entry written by another portal (or edited in the store) with escape codes in it."""
    from sqlalchemy import update

    from seattui.portal.store.tables import audit_entries

    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso")
    async with harness.portal.store.write() as conn:
        await conn.execute(update(audit_entries).where(audit_entries.c.object_id == key.id,
                                                       audit_entries.c.action == "key.create")
                           .values(summary="M\u001b]0;PWNED\u0007\u001b[2J", actor="ev\u001bil"))
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_audit(pilot)
        await until(pilot, lambda: bool(screen.table.rows) and screen.table.rows[0].action == "key.create",
                    what="the edited entry on top")
        await until_text(pilot, "M␛]0;PWNED␇␛[2J")  # the row, and the whole entry below the list
        shown = screen_text(app)
        assert shown.count("M␛]0;PWNED") >= 2 and "ev␛il" in shown
        assert not {"\x1b", "\x07"} & set(shown)


async def test_a_change_made_with_an_api_token_names_the_token(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    created = await owner.create_api_token("deploy-bot")
    assert created.token is not None
    script = harness.client(created.token)
    made = await script.create_key("From CI")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_audit(pilot)
        await until(pilot, lambda: f"Created key {made.key}" in summaries(screen), what="the script's entry")
        screen.table.cursor_row = summaries(screen).index(f"Created key {made.key}")
        await until_text(pilot, "acme-owner (token deploy-bot)")
