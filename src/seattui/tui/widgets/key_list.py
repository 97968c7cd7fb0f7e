"""The activation keys of the organization as a filterable, sortable table, a page at a time
from the portal: used by the keys screen and by the wizard's first step.

Typing in the filter asks the portal again at each keystroke; the exclusive worker cancels
the request the next keystroke made stale, and a page that arrives for an older filter is
dropped, never appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from seattui.domain.licensing import ActivationKey, KeyHolds, KeySort
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable

if TYPE_CHECKING:
    from seattui.tui.screens.base import PortalScreen

PAGE = 200
KEY_COLUMNS = (
    Column("key", "Key", width=19),
    Column("name", "Name", min_width=8),
    Column("licenses", "Licenses", width=8, justify="right", sortable=False),
    Column("subscriptions", "Subs", width=5, justify="right", sortable=False),
)
CREATED_COLUMN = Column("created", "Created", width=10)


def key_cells(key: ActivationKey) -> Sequence[Cell]:
    return (
        Text(key.key, style="bold"),
        key.name or Text("(no name)", style="dim"),
        f"{key.license_count:,}" if key.license_count else Text("·", style="dim"),
        f"{key.subscription_count:,}" if key.subscription_count else Text("·", style="dim"),
        key.created_at.strftime("%Y-%m-%d"),
    )


class KeyList(Vertical):
    """A filter line, the table, and how many keys match."""

    DEFAULT_CSS = """
    KeyList { height: 1fr; }
    KeyList > Input.key-filter { border: none; height: 1; padding: 0 1; margin-bottom: 1; background: $boost; }
    KeyList > Input.key-filter:focus { background: $primary 25%; }
    KeyList > .key-count { color: $text-muted; padding: 0 1; height: 1; }
    """

    def __init__(self, *, with_created: bool = True, id: str | None = None) -> None:
        super().__init__(id=id, classes="key-list")
        self.columns = [*KEY_COLUMNS, CREATED_COLUMN] if with_created else list(KEY_COLUMNS)
        self.holds: KeyHolds | None = None
        self._generation = 0
        self._cursor: str | None = None
        self._shown_for: tuple[str, KeyHolds | None] | None = None  # the filter the rows answer

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter by name or key", id=f"{self.id}-filter", classes="key-filter")
        yield PagedTable[ActivationKey](
            self.columns, row_key=lambda key: key.id, cells=key_cells, sort=("created", True),
            empty_text="No keys here yet.", id=f"{self.id}-table",
        )
        yield Static("", classes="key-count")

    @property
    def table(self) -> PagedTable[ActivationKey]:
        return self.query_one(PagedTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one(Input)

    @property
    def filter_text(self) -> str:
        return self.filter_input.value.strip()

    @property
    def up_to_date(self) -> bool:
        """Whether the rows shown answer the filter as typed now (not one keystroke ago)."""
        return self._shown_for == (self.filter_text, self.holds)

    def reload(self) -> None:
        self._generation += 1
        self._load_first(self._generation)

    def _portal_screen(self) -> PortalScreen:
        return self.screen  # type: ignore[return-value]

    def _page(self, cursor: str | None) -> Any:
        table = self.table
        return lambda client: client.keys(
            query=self.filter_text, holds=self.holds, sort=KeySort(table.sort_column),
            descending=table.sort_descending, cursor=cursor, limit=PAGE,
        )

    @work(exclusive=True, group="load")
    async def _load_first(self, generation: int) -> None:
        table = self.table
        if not table.rows:
            table.loading_more = True
            table.refresh()
        page = await self._portal_screen().call_portal(self._page(None))
        if page is None or generation != self._generation:
            table.loading_more = False
            return
        self._cursor = page.next_cursor
        table.empty_text = "No keys match the filter." if self.filter_text or self.holds else "No keys yet."
        table.reset(page.items, total=page.total, has_more=page.next_cursor is not None)
        self._shown_for = (self.filter_text, self.holds)
        self._say_count()

    @work(group="load")
    async def _load_more(self, generation: int, cursor: str) -> None:
        page = await self._portal_screen().call_portal(self._page(cursor))
        if page is None or generation != self._generation:
            return
        self._cursor = page.next_cursor
        self.table.append(page.items, has_more=page.next_cursor is not None)

    def _say_count(self) -> None:
        total = self.table.total or 0
        what = {KeyHolds.SUBSCRIPTIONS: " with subscriptions", KeyHolds.LICENSES: " with licenses",
                KeyHolds.NOTHING: " that hold nothing"}.get(self.holds, "") if self.holds else ""
        matching = f" matching {self.filter_text!r}" if self.filter_text else ""
        self.query_one(".key-count", Static).update(f"{total:,} key{'' if total == 1 else 's'}{what}{matching}")

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.reload()

    def on_paged_table_need_more(self, message: PagedTable.NeedMore) -> None:
        message.stop()
        if self._cursor is not None:
            self._load_more(self._generation, self._cursor)

    def on_paged_table_mark_all_requested(self, message: PagedTable.MarkAllRequested) -> None:
        message.stop()
        self._mark_all(self._generation)

    @work(exclusive=True, group="marks")  # a group of its own: a new filter's load goes on
    async def _mark_all(self, generation: int) -> None:
        """ctrl+a: every key the filter matches, so the rest of the pages are loaded first."""
        table = self.table
        while self._cursor is not None:
            page = await self._portal_screen().call_portal(self._page(self._cursor))
            if page is None or generation != self._generation:
                return
            self._cursor = page.next_cursor
            table.append(page.items, has_more=page.next_cursor is not None)
        table.mark_keys(key.id for key in table.rows)

    def on_paged_table_sort_changed(self, message: PagedTable.SortChanged) -> None:
        message.stop()
        self.reload()

    # -- changes the screen made --------------------------------------------------------

    def show_new(self, key: ActivationKey) -> None:
        """A key just created: at the top, under the cursor, whatever the sort."""
        table = self.table
        table.reset([key, *[row for row in table.rows if row.id != key.id]],
                    total=(table.total or 0) + 1, has_more=table.has_more)
        self._say_count()

    def forget(self, key_ids: list[int]) -> None:
        self.table.remove_keys(key_ids)
        self._say_count()
