"""The employees screen with Pilot: filter and facet, marks (space, v, shift+arrows, ctrl+a,
U), the reassign flow (receivers marked in order or taken from a department, the preview
with conflicts, apply with its batch, undo and a refused undo), roles, the forms and import."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual import events

from seattui.client import PortalClient
from seattui.domain.licensing import LicenseOrder, NewActivationKey, Term
from seattui.domain.people import EmployeeFields, EmployeeFilter
from seattui.portal.services import keys
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.employee_import import ImportScreen
from seattui.tui.screens.employees import EmployeesScreen
from seattui.tui.screens.reassign import ReassignScreen
from seattui.tui.screens.reassign_preview import PreviewScreen
from seattui.tui.screens.seat_batches import SeatBatchesScreen
from seattui.tui.widgets.paged_table import PagedTable

from harness import PortalHarness
from seat_support import holders, move, staff
from tui_support import make_app, screen_text, shows, type_text, until, until_screen, until_text

SIZE = (120, 40)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The app's tests run on SQLite; the portal's own tests cover PostgreSQL."""
    return sqlite_url


def person(n: int) -> str:
    """The name staff() gives the n-th employee (sorted by name, they stand in this order)."""
    from seattui.portal.seed import _FIRST, _LAST

    return f"{_FIRST[n % len(_FIRST)]} {_LAST[(n // len(_FIRST)) % len(_LAST)]} {n:06d}"


async def open_employees(pilot: Any, rows: int) -> EmployeesScreen:
    await until(pilot, lambda: pilot.app.who is not None, what="the session")
    pilot.app.action_open_screen("employees")
    screen: EmployeesScreen = await until_screen(pilot, EmployeesScreen)
    await until(pilot, lambda: len(screen.employees.table.rows) == rows, what=f"{rows} rows")
    return screen


async def app_for(harness: PortalHarness, login: str = "acme-op") -> tuple[Any, PortalClient]:
    client = await harness.login(login)
    return make_app(harness, token=client.token), client


async def test_filter_as_you_type_and_the_department_facet(harness: PortalHarness) -> None:
    await staff(harness, 14, 0)  # departments in turn: Engineering, Support, Sales, ...
    app, _ = await app_for(harness, "acme-viewer")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_employees(pilot, 14)
        await until_text(pilot, "14 employees")
        await until(pilot, lambda: "2 Support" in " ".join(screen_text(app).split()), what="the facet")
        await pilot.press("slash")
        await type_text(pilot, "000001")
        await until(pilot, lambda: [e.name for e in screen.employees.table.rows] == [person(1)])
        await pilot.press("enter", "f")  # enter: back to the list; f: the department facet
        facet = screen.query_one("#facet")
        await until(pilot, lambda: facet.option_count == 2, what="the facet of the filtered list")
        await pilot.press("escape")
        screen.employees.filter_input.value = ""
        await until(pilot, lambda: len(screen.employees.table.rows) == 14)
        await pilot.press("f")
        await until(pilot, lambda: facet.option_count == 8)
        await pilot.press("down", "down", "enter")  # All, Engineering, Finance
        await until(pilot, lambda: {e.department for e in screen.employees.table.rows} == {"Finance"})
        await until_text(pilot, "2 employees · Finance")
        await pilot.press("t")
        await until_text(pilot, "· Finance · active")


async def test_space_range_shift_arrows_mark_all_and_clear(harness: PortalHarness) -> None:
    await staff(harness, 30, 0)
    app, _ = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_employees(pilot, 30)
        table = screen.employees.table
        await pilot.press("space", "space")
        assert screen.employees.order == [table.rows[0].id, table.rows[1].id]
        await pilot.press("v", "down", "down", "v")
        assert len(table.marked) == 5
        await pilot.press("down", "shift+down", "shift+down")
        assert len(table.marked) == 8
        await until_text(pilot, "8 marked")
        assert screen.employees.order == [row.id for row in table.rows[:8]]  # shift+down marks where it starts too
        await pilot.press("U")
        assert not table.marked
        await pilot.press("slash")
        await type_text(pilot, "Sales")
        await until(pilot, lambda: len(table.rows) == 4, what="the Sales rows")
        await pilot.press("enter", "ctrl+a")
        await until(pilot, lambda: len(table.marked) == 4)
        await until_text(pilot, "4 marked")


async def start_reassign(pilot: Any, screen: EmployeesScreen, givers: int) -> ReassignScreen:
    for _ in range(givers):
        await pilot.press("space")
    await pilot.press("r")
    reassign: ReassignScreen = await until_screen(pilot, ReassignScreen)
    await until(pilot, lambda: len(reassign.receivers.table.rows) > 0, what="the receivers")
    return reassign


async def mark_receivers(pilot: Any, reassign: ReassignScreen, names: list[str]) -> None:
    table = reassign.receivers.table
    for name in names:
        index = next(i for i, row in enumerate(table.rows) if row.name == name)
        table.cursor_row = index
        await pilot.press("space")


async def preview_of(pilot: Any, rows: int, givers: int, receivers: list[str]) -> PreviewScreen:
    """The first `givers` employees' seats, previewed for `receivers` marked in that order."""
    reassign = await start_reassign(pilot, await open_employees(pilot, rows), givers)
    await mark_receivers(pilot, reassign, receivers)
    await pilot.press("p")
    preview: PreviewScreen = await until_screen(pilot, PreviewScreen)
    await until(pilot, lambda: preview.plan is not None, what="the dry run")
    return preview


async def test_the_preview_lists_every_move_and_each_conflict_then_applies_and_undoes(harness: PortalHarness) -> None:
    ids = await staff(harness, 8, 4)  # person(0..3) hold seats
    app, client = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_employees(pilot, 8)
        reassign = await start_reassign(pilot, screen, 3)
        await until_text(pilot, "Reassign the seats of 3 employees")
        # Marked in this order: person 6 receives the first giver's seat; person 3 holds one already.
        await mark_receivers(pilot, reassign, [person(6), person(3), person(5)])
        assert reassign.receivers.order == [ids[6], ids[3], ids[5]]
        await pilot.press("p")
        preview: PreviewScreen = await until_screen(pilot, PreviewScreen)
        await until(pilot, lambda: preview.plan is not None, what="the dry run")
        await until_text(pilot, "Preview: 3 moves, 1 conflict")
        rows = [(m.from_name, m.to_name, m.problem) for m in preview.moves]
        assert rows == [(person(0), person(6), None),
                        (person(1), person(3), f"{person(3)} already holds a workspace seat"),
                        (person(2), person(5), None)]
        # The cursor starts on the first conflict; the line under the list says it in full.
        await until_text(pilot, f"2: workspace from {person(1)} <person000001@acme.example> to {person(3)} "
                                f"<person000003@acme.example>: {person(3)} already holds a workspace seat")
        await pilot.press("enter")
        await until_text(pilot, "1 move has a conflict, and a batch applies whole or not at all")
        assert await holders(client) == set(ids[:4])
        await pilot.press("delete")
        await until_text(pilot, "Preview: 2 moves, 0 conflicts")
        await pilot.press("enter")
        await until(pilot, lambda: preview.applied is not None, what="the batch")
        batch_id = preview.applied.batch_id if preview.applied else ""
        await until_text(pilot, f"Applied. 2 moves in batch {batch_id}")
        assert await holders(client) == {ids[1], ids[3], ids[6], ids[5]}
        (entry,) = (await client.audit(batch_id=batch_id)).items
        assert entry.summary == "Reassigned 2 seat(s) (workspace 2)"
        await pilot.press("z")
        await until_text(pilot, f"Undo batch {batch_id[:8]}?")
        await pilot.press("y")
        await until(pilot, lambda: preview.undone is not None, what="the undo")
        await until_text(pilot, "2 seats went back")
        assert await holders(client) == set(ids[:4])
        await pilot.press("escape")
        await until_screen(pilot, EmployeesScreen)
        assert not screen.employees.table.marked


async def test_keys_typed_faster_than_the_app_draws_reassign_what_was_marked(harness: PortalHarness) -> None:
    """space, space, r as one burst (a quick typist, a slow SSH link): r sees both marks."""
    await staff(harness, 6, 4)
    app, _ = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        await open_employees(pilot, 6)
        for key, character in (("space", " "), ("space", " "), ("r", "r")):
            app.post_message(events.Key(key, character))
        await until_screen(pilot, ReassignScreen)
        await until_text(pilot, f"Reassign the seats of 2 employees: {person(0)}, {person(1)}")


async def test_receivers_can_be_the_first_without_a_seat_in_a_department(harness: PortalHarness) -> None:
    ids = await staff(harness, 21, 2)  # 7 departments in turn: Engineering holds ids 0, 7, 14
    app, client = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_employees(pilot, 21)
        reassign = await start_reassign(pilot, screen, 2)
        await pilot.press("t")
        listing = reassign.query_one("#departments")
        await until(pilot, lambda: listing.option_count > 0, what="the departments")
        assert "Engineering  (2 active without a workspace seat)" in screen_text(app)
        await pilot.press("p")
        preview: PreviewScreen = await until_screen(pilot, PreviewScreen)
        await until(pilot, lambda: preview.plan is not None)
        assert [(m.from_id, m.to_id) for m in preview.moves] == [(ids[0], ids[7]), (ids[1], ids[14])]
        await pilot.press("enter")
        await until(pilot, lambda: preview.applied is not None)
        assert await holders(client) == {ids[7], ids[14]}


async def test_too_few_receivers_are_conflicts_in_the_preview(harness: PortalHarness) -> None:
    await staff(harness, 6, 3)
    app, _ = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        preview = await preview_of(pilot, 6, 3, [person(4)])
        assert [m.problem for m in preview.moves] == [
            None, f"no receiver marked for {person(1)}: mark 2 more, in order",
            f"no receiver marked for {person(2)}: mark 2 more, in order"]


async def test_escape_stops_waiting_for_an_apply_and_enter_tells_what_happened_without_moving_twice(
    harness: PortalHarness,
) -> None:
    ids = await staff(harness, 4, 2)
    app, client = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        preview = await preview_of(pilot, 4, 2, [person(2), person(3)])
        # The portal applies the batch but its answer is slow to come back, the first time.
        portal = app.client
        real_reassign, answered = portal.reassign, asyncio.Event()

        async def slow_answer(*args: Any, **kwargs: Any) -> Any:
            outcome = await real_reassign(*args, **kwargs)
            if not kwargs.get("dry_run") and not answered.is_set():
                answered.set()
                await asyncio.Event().wait()
            return outcome

        portal.reassign = slow_answer  # type: ignore[method-assign]
        await pilot.press("enter")
        await until_text(pilot, "Applying 2 moves in one batch")
        await until(pilot, answered.is_set, what="the batch to be applied")
        await pilot.press("escape")
        await until_text(pilot, "Stopped waiting for the portal. The batch is one transaction")
        assert isinstance(app.screen, PreviewScreen) and preview.applied is None
        assert await holders(client) == {ids[2], ids[3]}
        await pilot.press("enter")  # the same key again: the portal answers with the first result
        await until(pilot, lambda: preview.applied is not None, what="the answer")
        batch_id = preview.applied.batch_id if preview.applied else ""
        await until_text(pilot, f"Applied. 2 moves in batch {batch_id}")
        assert await holders(client) == {ids[2], ids[3]}
        assert [entry.batch_id for entry in (await client.audit(limit=5)).items
                if entry.action == "seat.reassign"] == [batch_id]


async def test_an_undo_is_refused_when_a_seat_moved_since(harness: PortalHarness) -> None:
    ids = await staff(harness, 4, 1)
    app, client = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        preview = await preview_of(pilot, 4, 1, [person(2)])
        await pilot.press("enter")
        await until(pilot, lambda: preview.applied is not None)
        await client.reassign([move(ids[2], ids[3])])  # someone else moves the seat on
        await pilot.press("z")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until_text(pilot, "The batch was not undone: the workspace seat is no longer")
        assert preview.undone is None and await holders(client) == {ids[3]}


async def test_viewers_see_no_reassign_or_seat_keys(harness: PortalHarness) -> None:
    await staff(harness, 3, 1)
    app, _ = await app_for(harness, "acme-viewer")
    async with app.run_test(size=SIZE) as pilot:
        await open_employees(pilot, 3)
        footer = screen_text(app).splitlines()[-1]
        assert "Reassign" not in footer and "Seat" not in footer and "New" not in footer
        await pilot.press("space", "r", "n", "d")
        await pilot.pause()
        assert isinstance(app.screen, EmployeesScreen)


async def test_the_batches_list_undoes_a_batch(harness: PortalHarness) -> None:
    ids = await staff(harness, 2, 1)
    app, client = await app_for(harness)
    batch = await client.reassign([move(ids[0], ids[1])])
    async with app.run_test(size=SIZE) as pilot:
        await open_employees(pilot, 2)
        await pilot.press("b")
        batches: SeatBatchesScreen = await until_screen(pilot, SeatBatchesScreen)
        await until_text(pilot, (batch.batch_id or "")[:8])
        await pilot.press("z")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: len(batches.query_one("#batches").rows) == 2, what="the undo batch listed")
        assert await holders(client) == {ids[0]}
        await pilot.press("down", "z")  # the first batch, below the undo batch
        await until_text(pilot, "was undone already")
        await pilot.press("escape")
        await until_screen(pilot, EmployeesScreen)


async def test_the_form_says_what_is_wrong_and_keeps_what_was_typed(harness: PortalHarness) -> None:
    await staff(harness, 1, 0)
    app, client = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_employees(pilot, 1)
        await pilot.press("n")
        await type_text(pilot, "Grace Hopper")
        await pilot.press("enter")
        await type_text(pilot, "grace-at-navy")
        await pilot.press("ctrl+s")
        await until_text(pilot, "Not a valid email address (an email address must have an @-sign): type one like")
        form = app.screen
        form.query_one("#email").value = "person000000@acme.example"  # someone else's
        await pilot.press("ctrl+s")
        await until_text(pilot, "is already the email of employee")
        assert form.query_one("#name").value == "Grace Hopper"
        form.query_one("#email").value = "grace@acme.example"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(screen.employees.table.rows) == 2, what="the new employee listed")
        assert [e.name for e in (await client.employees(EmployeeFilter(text="grace"))).items] == ["Grace Hopper"]


async def test_an_import_with_bad_rows_lists_them_and_imports_nothing(harness: PortalHarness, tmp_path: Path) -> None:
    await staff(harness, 1, 0)
    bad = tmp_path / "people.csv"
    bad.write_text("name,email,department\nAda,ada@acme.example,Eng\nBob,bob-at-acme,Eng\n,carol@acme.example,\n")
    good = tmp_path / "good.csv"
    good.write_text("name,email,department\nAda,ada@acme.example,Eng\n")
    app, client = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_employees(pilot, 1)
        await pilot.press("i")
        path = (await until_screen(pilot, ImportScreen)).query_one("#import-path")
        path.value = str(tmp_path / "missing.csv")  # typed key by key, a long path takes seconds
        await pilot.press("enter")
        await until_text(pilot, "Cannot read")
        path.value = str(bad)
        await pilot.press("enter")
        await until_text(pilot, "Nothing was imported: 2 row(s) of people.csv are wrong")
        assert shows(app, "line 3: email:") and shows(app, "line 4: name:")
        assert (await client.employees()).total == 1
        path.value = str(good)
        await pilot.press("enter")
        await until(pilot, lambda: len(screen.employees.table.rows) == 2, what="the imported employee")


async def test_the_preview_tells_namesakes_apart_by_their_email(harness: PortalHarness) -> None:
    ids = await staff(harness, 4, 2)
    app, client = await app_for(harness)
    for employee_id, email in ((ids[0], "ada.tanaka@acme.example"), (ids[1], "ada.tanaka2@acme.example")):
        await client.edit_employee(employee_id, EmployeeFields(name="Ada Tanaka", email=email, department="Sales"))
    async with app.run_test(size=(100, 30)) as pilot:
        preview = await preview_of(pilot, 4, 2, [person(2), person(3)])
        await until_text(pilot, "Preview: 2 moves, 0 conflicts")
        lines = [line for line in screen_text(app).splitlines() if "workspace" in line]
        assert any("ada.tanaka@acme.example" in line and person(2) in line for line in lines)
        assert any("ada.tanaka2@acme.example" in line and person(3) in line for line in lines)
        assert preview.namesakes == {"Ada Tanaka"}


def burst(app: Any, text: str) -> None:
    """Keys typed faster than the app handles them: all of them on their way at once."""
    for character in text:
        key = {"/": "slash", " ": "space"}.get(character, character)
        app.post_message(events.Key(key, character))


async def test_text_typed_in_a_burst_goes_to_the_filter_and_runs_no_command(harness: PortalHarness) -> None:
    """In reassign, `/nora` typed at once: the filter gets "nora"; `o` does not sort, `a` opens
    no wizard, `r` and `n` do nothing either."""
    await staff(harness, 6, 2)
    app, _ = await app_for(harness)
    messages: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        reassign = await start_reassign(pilot, await open_employees(pilot, 6), 1)
        table = reassign.receivers.table
        burst(app, "/nora")
        await until(pilot, lambda: reassign.receivers.filter_input.value == "nora", what="the typed filter")
        await pilot.pause()
        assert app.screen is reassign and (table.sort_column, table.sort_descending) == ("name", False)
        assert not [m for m in messages if isinstance(m, PagedTable.SortChanged)]


async def test_keys_typed_before_a_screen_is_ready_run_no_command_there(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    await staff(harness, 6, 2)
    app, _ = await app_for(harness)
    messages: list[Any] = []
    now_ready = ReassignScreen._now_ready

    def typed_as_it_opens(self: ReassignScreen) -> None:
        # The keys arrive while reassign is mounted but not yet taking keys. Posted from the
        # test's own loop turn, they raced the screen: on a busy machine it was ready first.
        if not typed:
            typed.append("oa")
            burst(app, "oa")
        now_ready(self)

    typed: list[str] = []

    monkeypatch.setattr(ReassignScreen, "_now_ready", typed_as_it_opens)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await open_employees(pilot, 6)
        burst(app, " r")  # mark, reassign, and "oa" at once as it opens
        await until(pilot, lambda: isinstance(app.screen, ReassignScreen), what="the reassign screen")
        reassign = app.screen
        await until(pilot, lambda: reassign.is_mounted and len(reassign.receivers.table.rows) > 0, what="the list")
        await pilot.pause()
        assert app.screen is reassign and screen.is_attached and typed
        assert not [m for m in messages if isinstance(m, PagedTable.SortChanged)]


async def test_keys_typed_while_reassign_opens_never_act_on_the_employees(harness: PortalHarness) -> None:
    """r, then / and a name typed at once (meant for the reassign screen): while reassign is not
    up yet, neither the filter nor the employees' own keys (n opens the new-employee form) take them."""
    await staff(harness, 6, 4)
    app, _ = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_employees(pilot, 6)
        targets, answer = screen._targets, asyncio.Event()

        async def slow_targets() -> Any:  # the portal answers the marked rows slowly
            await answer.wait()
            return await targets()

        screen._targets = slow_targets  # type: ignore[method-assign]
        await pilot.press("space", "r", "slash", "n", "o", "r", "a", "n")
        await pilot.pause()
        assert screen.employees.filter_input.value == ""
        assert not any(type(s).__name__ == "EmployeeForm" for s in app.screen_stack)
        answer.set()
        reassign = await until_screen(pilot, ReassignScreen)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="back on employees")
        await until(pilot, lambda: screen.ready, what="employees taking keys again")
        await pilot.press("slash", "a", "d", "a")
        await until(pilot, lambda: screen.employees.filter_input.value == "ada", what="the filter typed")
        assert reassign is not None


async def test_the_summary_shows_each_seat_product_assigned_over_its_plans_seats_after_a_new_plan(
    harness: PortalHarness,
) -> None:
    await staff(harness, 6, 4, spare_seats=1)  # an annual contract of 5 seats, 4 assigned
    app, _ = await app_for(harness)
    async with app.run_test(size=SIZE) as pilot:
        await open_employees(pilot, 6)
        await until_text(pilot, "workspace 4/5")
        async with harness.as_org("Acme") as tx:
            key = (await keys.create(tx, NewActivationKey(name="flexible"))).key
        owner = await harness.login("acme-owner")
        await owner.create_license(LicenseOrder(key=key, product_id="workspace", term=Term.FLEXIBLE, quantity=3))
        await pilot.press("ctrl+r")
        await until_text(pilot, "workspace 4/8")
