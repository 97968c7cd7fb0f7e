"""The activation keys of the organization as a filterable, sortable table, a page at a time
from the portal: used by the keys screen and by the wizard's first step.

Typing in the filter asks the portal again at each keystroke (the table's PagedSource: the
request of the next keystroke supersedes the last, and a page for an older filter is dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from seattui.domain.licensing import ActivationKey, KeyHolds, KeySort
from seattui.tui.widgets.paged_source import PagedSource
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
        self._shown_for: tuple[str, KeyHolds | None] | None = None  # the filter the rows answer
        self._asked_for: tuple[str, KeyHolds | None] | None = None  # the filter of the request out

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter by name or key", id=f"{self.id}-filter", classes="key-filter")
        table = PagedTable[ActivationKey](
            self.columns, row_key=lambda key: key.id, cells=key_cells, sort=("created", True),
            empty_text="No keys here yet.", id=f"{self.id}-table",
        )
        self.source = PagedSource(table, self._page, first_page=PAGE, page=PAGE)
        yield table
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

    def reload(self, *, keep_place: bool = False) -> None:
        self._asked_for = (self.filter_text, self.holds)
        self.source.reload(keep_place=keep_place)

    def _portal_screen(self) -> PortalScreen:
        return self.screen  # type: ignore[return-value]

    async def _page(self, cursor: str | None, limit: int) -> Any:
        table, (query, holds) = self.table, self._asked_for or ("", None)
        return await self._portal_screen().call_portal(lambda client: client.keys(
            query=query, holds=holds, sort=KeySort(table.sort_column), descending=table.sort_descending,
            cursor=cursor, limit=limit))

    @on(PagedTable.PageArrived)
    def _arrived(self, message: PagedTable.PageArrived) -> None:
        if message.first:
            self._shown_for = self._asked_for
            self.table.empty_text = "No keys match the filter." if self.filter_text or self.holds else "No keys yet."
            self._say_count()

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

    def on_paged_table_mark_all_requested(self, message: PagedTable.MarkAllRequested) -> None:
        """ctrl+a: every key the filter matches, so the rest of the pages are loaded first."""
        message.stop()
        table = self.table
        self.source.load_all(lambda: table.mark_keys(key.id for key in table.rows))

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
