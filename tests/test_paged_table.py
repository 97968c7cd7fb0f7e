"""The paged table: rows by the page, cursor keys, marks (space, range, shift+arrows, all,
clear), sorting, and drawing only what is visible."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from textual.app import App, ComposeResult

from seattui.domain.paging import Page
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Column, PagedTable

from tui_support import until

PAGE = 500


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    team: str


EVERYONE = [Person(i, f"Person {i:05d}", ["Sales", "Support", "Ops"][i % 3]) for i in range(1, 10_001)]


class TableApp(App[None]):
    """A table fed by a PagedSource over a list, as the screens' are over the portal."""

    def __init__(self, people: list[Person]) -> None:
        super().__init__()
        self.people = people
        self.pages_asked = 0
        self.sorts: list[tuple[str, bool]] = []
        self.gate: asyncio.Event | None = None  # set: the fake portal answers at once

    def compose(self) -> ComposeResult:
        yield PagedTable(
            [Column("id", "Id", width=6, justify="right"), Column("name", "Name"), Column("team", "Team", width=8)],
            row_key=lambda person: person.id,
            cells=lambda person: (str(person.id), person.name, person.team),
            id="table",
        )

    async def fetch(self, cursor: str | None, limit: int) -> Page[Person]:
        people = list(self.people)  # as the list stands when asked
        if self.gate is not None:
            await self.gate.wait()
        self.pages_asked += cursor is not None
        start = int(cursor or 0)
        end = start + limit
        return Page(items=people[start:end], total=len(people), next_cursor=str(end) if end < len(people) else None)

    def on_mount(self) -> None:
        table = self.query_one(PagedTable)
        self.source = PagedSource(table, self.fetch, first_page=PAGE, page=PAGE)
        self.source.reload()
        table.focus()

    def on_paged_table_mark_all_requested(self, message: PagedTable.MarkAllRequested) -> None:
        message.table.mark_keys(person.id for person in self.people)

    def on_paged_table_sort_changed(self, message: PagedTable.SortChanged) -> None:
        self.sorts.append((message.column, message.descending))


def visible(app: TableApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_the_cursor_walks_through_pages_as_they_arrive() -> None:
    app = TableApp(EVERYONE)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(PagedTable)
        await until(pilot, lambda: app.source.loaded)
        assert "Person 00001" in visible(app) and "Id" in visible(app)
        for _ in range(3):
            await pilot.press("end")
            await until(pilot, lambda: not table.loading_more)
        assert len(table.rows) > PAGE and app.pages_asked >= 1
        await pilot.press("home")
        assert table.cursor_row == 0 and "Person 00001" in visible(app)
        await pilot.press("j", "j", "down")
        assert table.current == EVERYONE[3]


async def test_space_marks_and_moves_on_and_bulk_targets_are_the_marks() -> None:
    app = TableApp(EVERYONE[:50])
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(PagedTable)
        await until(pilot, lambda: app.source.loaded)
        assert table.targets() == [EVERYONE[0]]  # nothing marked: the cursor row
        await pilot.press("space", "space", "down", "space")
        assert list(table.marked) == [1, 2, 4]
        assert [p.id for p in table.targets()] == [1, 2, 4]
        assert "●" in visible(app)
        await pilot.press("k", "space")
        assert list(table.marked) == [1, 2]
        await pilot.press("U")
        assert not table.marked
        await pilot.press("home", "down", "down", "space", "k", "k", "k", "space")
        assert list(table.marked) == [3, 1]  # in the order they were marked, not as the rows stand
        assert [p.id for p in table.targets()] == [1, 3]


async def test_a_table_without_marks_takes_no_marking_key() -> None:
    app = TableApp(EVERYONE[:50])
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(PagedTable)
        table.marks = False
        await until(pilot, lambda: app.source.loaded)
        await pilot.press("space", "v", "shift+down", "ctrl+a")
        assert not table.marked and "●" not in visible(app)
        assert all(not table.check_action(action, ()) for action in ("toggle_mark", "mark_all", "range_mark"))
        await pilot.press("down")
        assert table.cursor_row == 1  # moving still works


async def test_a_range_with_v_and_with_shift_arrows() -> None:
    app = TableApp(EVERYONE[:50])
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(PagedTable)
        await until(pilot, lambda: app.source.loaded)
        await pilot.press("down", "v", "down", "down", "down", "v", "down", "down")
        assert list(table.marked) == [2, 3, 4, 5]
        await pilot.press("shift+down", "shift+down")
        assert list(table.marked) == [2, 3, 4, 5, 7, 8, 9]


async def test_mark_all_marks_every_row_the_filter_matches_not_only_the_loaded_ones() -> None:
    app = TableApp(EVERYONE)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(PagedTable)
        await until(pilot, lambda: app.source.loaded)
        await pilot.press("ctrl+a")
        await until(pilot, lambda: len(table.marked) == len(EVERYONE))
        assert len(table.rows) < len(EVERYONE)


async def test_sorting_asks_the_screen_and_shows_the_order_in_the_header() -> None:
    app = TableApp(EVERYONE[:20])
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("o")
        await pilot.press("O")
        assert app.sorts == [("name", False), ("name", True)]
        await pilot.pause()
        assert "Name ▼" in visible(app)


async def test_an_empty_result_says_so() -> None:
    app = TableApp([])
    async with app.run_test(size=(60, 10)) as pilot:
        await until(pilot, lambda: app.source.loaded)
        await pilot.pause()
        assert "Nothing to show." in visible(app)
        await pilot.press("down", "space", "enter")  # no row, no trouble
        assert not app.query_one(PagedTable).marked


async def test_a_page_of_a_superseded_request_is_dropped() -> None:
    app = TableApp(EVERYONE[:50])
    async with app.run_test(size=(60, 20), message_hook=None) as pilot:
        table = app.query_one(PagedTable)
        await until(pilot, lambda: app.source.loaded)
        app.gate = asyncio.Event()
        app.source.reload()  # asked with 50 people ...
        await pilot.pause()
        app.people = EVERYONE[100:103]
        app.source.reload()  # ... and again with 3: both wait for the gate
        app.gate.set()
        await until(pilot, lambda: app.source.loaded)
        await pilot.pause()
        assert [person.id for person in table.rows] == [101, 102, 103] and app.source.shown == 2


async def test_reading_the_list_again_keeps_the_cursor_on_its_row_and_drops_marks_of_rows_gone() -> None:
    app = TableApp(EVERYONE[:50])
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(PagedTable)
        await until(pilot, lambda: app.source.loaded)
        await pilot.press("down", "down", "space", "space", "space")  # marks 3, 4, 5; cursor on 6
        assert table.current == EVERYONE[5]
        app.people = [person for person in EVERYONE[:50] if person.id not in (1, 4)]
        app.source.reload(keep_place=True)
        await until(pilot, lambda: app.source.loaded)
        assert table.current == EVERYONE[5] and table.cursor_row == 3
        assert list(table.marked) == [3, 5]
