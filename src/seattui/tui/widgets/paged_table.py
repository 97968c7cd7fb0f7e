"""A table for lists of any length: rows arrive a page at a time from the portal and only
the visible lines are drawn (Textual's line API), so 100,000 rows scroll like 100.

The table never calls the portal. Its `PagedSource` (paged_source.py) does, in workers, and
delivers each page as a `PageArrived` message; the table applies the pages of the source's
current request and drops older ones, then lets the message go on to the screen. When the
cursor nears the end of what it holds, the table asks its source for the next page. Marks (space, a range with `v` or shift+arrows, all filtered rows, clear) are
kept by row key, so they survive new pages, a new sort and edits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from seattui.domain.paging import Page
from seattui.domain.text import printable
from seattui.tui import commands

if TYPE_CHECKING:
    from seattui.tui.widgets.paged_source import PagedSource

R = TypeVar("R")
log = logging.getLogger("seattui.tui")
Cell = str | Text
MARK_WIDTH = 2
SEPARATOR = 1
# Ask for the next page while this many rows are still ahead of the cursor or the view.
PREFETCH_ROWS = 120


@dataclass(frozen=True)
class Column:
    key: str  # what the screen sorts by
    label: str
    width: int = 0  # fixed width in cells; 0 shares what is left with the other flexible columns
    min_width: int = 4
    justify: str = "left"
    sortable: bool = True


MARKING_ACTIONS = frozenset({"toggle_mark", "range_mark", "extend_down", "extend_up", "mark_all", "clear_marks"})


class PagedTable(ScrollView, Generic[R], can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "paged-table--header",
        "paged-table--cursor",
        "paged-table--marked",
        "paged-table--mark",
        "paged-table--more",
    }
    BINDINGS = commands.bindings("table")
    DEFAULT_CSS = """
    PagedTable { height: 1fr; scrollbar-gutter: stable; overflow-x: hidden; }
    PagedTable > .paged-table--header { text-style: bold; background: $panel; }
    PagedTable > .paged-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    PagedTable:blur > .paged-table--cursor { background: $block-cursor-blurred-background; }
    PagedTable > .paged-table--marked { background: $secondary 25%; }
    PagedTable > .paged-table--mark { color: $secondary; text-style: bold; }
    PagedTable > .paged-table--more { color: $text-muted; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        def __init__(self, table: PagedTable[Any], row: Any | None) -> None:
            super().__init__()
            self.table, self.row = table, row

    class Selected(Message):
        def __init__(self, table: PagedTable[Any], row: Any) -> None:
            super().__init__()
            self.table, self.row = table, row

    @dataclass
    class PageArrived(Message):
        """A page from the table's source: the first of a request (its rows replace the table's)
        or the next. The table applies it if it answers the source's current request (its
        generation), and drops it otherwise; an applied page goes on to the screen."""

        table: PagedTable[Any]
        generation: int
        page: Page[Any]
        first: bool
        keep_place: bool = False  # the same list read again: the cursor stays on its row

    class MarksChanged(Message):
        def __init__(self, table: PagedTable[Any], count: int) -> None:
            super().__init__()
            self.table, self.count = table, count

    class MarkAllRequested(Message):
        """ctrl+a: mark every row the filter matches, loaded or not; the screen knows them all."""

        def __init__(self, table: PagedTable[Any]) -> None:
            super().__init__()
            self.table = table

    class SortChanged(Message):
        def __init__(self, table: PagedTable[Any], column: str, descending: bool) -> None:
            super().__init__()
            self.table, self.column, self.descending = table, column, descending

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        row_key: Callable[[R], Hashable],
        cells: Callable[[R], Sequence[Cell]],
        empty_text: str = "Nothing to show.",
        sort: tuple[str, bool] | None = None,
        marks: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        # False for a list whose keys act on one row: no marking keys, nor them in the footer.
        self.marks = marks
        self.columns = list(columns)
        self._row_key = row_key
        self._cells = cells
        self.empty_text = empty_text
        self.rows: list[R] = []
        self.total: int | None = None
        self.has_more = False
        self.loading_more = False
        # An ordered set (a dict's keys): the marks in the order they were made, which is the
        # order a bulk action pairs them in. Read it at once: no message has to arrive first.
        self.marked: dict[Hashable, None] = {}
        self.sort_column, self.sort_descending = sort if sort else (self.columns[0].key, False)
        self._index: dict[Hashable, int] = {}
        self._range_anchor: int | None = None
        self._widths: list[int] = []
        self._line_cache: dict[tuple[Any, ...], Strip] = {}
        self.source: PagedSource[R] | None = None  # set by the source that feeds the table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.marks and action in MARKING_ACTIONS:
            return False
        return super().check_action(action, parameters)

    # -- pages, from the source -----------------------------------------------------------

    def on_paged_table_page_arrived(self, message: PageArrived) -> None:
        source = self.source
        if message.table is not self:
            return
        if source is None or message.generation != source.generation:
            message.stop()  # an answer to a request since superseded: nobody sees it
            return
        source.applied(message)
        page, has_more = message.page, message.page.next_cursor is not None
        if message.first:
            self.reset(page.items, total=page.total, has_more=has_more, keep_place=message.keep_place)
        else:
            self.append(page.items, has_more=has_more)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The source's workers run with exit_on_error=False: one that failed unexpectedly
        (its portal errors are said by the screen) leaves the list as it is, said in a toast."""
        if event.state is WorkerState.ERROR:
            self.loading_more = False
            self.refresh()
            log.error("a page of %s failed", self.id, exc_info=event.worker.error)
            self.notify(f"The list could not be read ({event.worker.error}); the log has the details.", severity="error")

    # -- data, from the screen ------------------------------------------------------------

    def reset(self, rows: Iterable[R], *, total: int | None = None, has_more: bool = False,
              keep_place: bool = False) -> None:
        """New results (a new filter or sort): the cursor goes back to the top; marks stay.

        With `keep_place` (the same list read again after a change) the cursor stays on its
        row, or where it was if that row is gone, and the view does not scroll; when the
        rows cover the whole list, the marks of rows no longer in it go.
        """
        before_key = self._row_key(self.current) if keep_place and self.current is not None else None
        before_row, before_top, before = self.cursor_row, self.scroll_offset.y, set(self._index)
        self.rows = list(rows)
        self._index = {self._row_key(row): i for i, row in enumerate(self.rows)}
        self.total, self.has_more, self.loading_more = total, has_more, False
        self._range_anchor = None
        self._line_cache.clear()
        self._resize_virtual()
        if keep_place:
            if not has_more:
                gone = [key for key in before if key not in self._index and key in self.marked]
                for key in gone:
                    del self.marked[key]
                if gone:
                    self.post_message(self.MarksChanged(self, len(self.marked)))
            self.scroll_to(y=before_top, animate=False)
            self.cursor_row = self._index.get(before_key, min(before_row, max(len(self.rows) - 1, 0)))
        else:
            self.scroll_to(y=0, animate=False)
            self.cursor_row = 0
        # The next page after these rows are drawn: fetching it must not hold up their frame.
        self.call_after_refresh(self._maybe_need_more)

    def append(self, rows: Iterable[R], *, has_more: bool) -> None:
        start = len(self.rows)
        for offset, row in enumerate(rows):
            key = self._row_key(row)
            if key in self._index:  # a row that moved between pages: keep its first place
                continue
            self._index[key] = start + offset
            self.rows.append(row)
        self.has_more, self.loading_more = has_more, False
        self._line_cache.clear()
        self._resize_virtual()
        self.refresh()

    def replace_row(self, row: R) -> None:
        """A row changed (an edit, an upgrade): draw its new values where it stands."""
        key = self._row_key(row)
        index = self._index.get(key)
        if index is None:
            return
        self.rows[index] = row
        self._line_cache.clear()
        self.refresh()
        if index == self.cursor_row:
            self.post_message(self.Highlighted(self, row))

    def remove_keys(self, keys: Iterable[Hashable]) -> None:
        gone = set(keys)
        self.rows = [row for row in self.rows if self._row_key(row) not in gone]
        self._index = {self._row_key(row): i for i, row in enumerate(self.rows)}
        for key in gone:
            self.marked.pop(key, None)
        if self.total is not None:
            self.total = max(self.total - len(gone), 0)
        self._line_cache.clear()
        self._resize_virtual()
        self.cursor_row = min(self.cursor_row, max(len(self.rows) - 1, 0))
        self.post_message(self.MarksChanged(self, len(self.marked)))

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Show other columns (fewer in a narrow terminal); rows, cursor, marks and sort stay."""
        self.columns = list(columns)
        self._widths = []
        self._line_cache.clear()
        self.refresh()

    def redraw(self) -> None:
        """The cells' text changed for every row (names arrived): draw them again."""
        self._line_cache.clear()
        self.refresh()

    @property
    def current(self) -> R | None:
        return self.rows[self.cursor_row] if 0 <= self.cursor_row < len(self.rows) else None

    def targets(self) -> list[R]:
        """What a bulk action applies to: the marked rows that are loaded, else the cursor row."""
        if self.marked:
            return [row for row in self.rows if self._row_key(row) in self.marked]
        return [self.current] if self.current is not None else []

    def mark_keys(self, keys: Iterable[Hashable]) -> None:
        self.marked.update(dict.fromkeys(keys))
        self._marks_changed()

    def unmark_keys(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            self.marked.pop(key, None)
        self._marks_changed()

    def clear_marks(self) -> None:
        self.marked.clear()
        self._range_anchor = None
        self._marks_changed()

    # -- drawing --------------------------------------------------------------------------

    def _resize_virtual(self) -> None:
        extra = 1 if (self.has_more or not self.rows) else 0
        self.virtual_size = Size(self._content_width, len(self.rows) + 1 + extra)

    @property
    def _content_width(self) -> int:
        """The width rows are drawn in: without the scrollbar, whose gutter is always kept so
        the columns do not move when a page makes the list longer than the view."""
        return self.scrollable_content_region.width

    def on_resize(self) -> None:
        self._widths = []
        self._line_cache.clear()
        self._resize_virtual()

    def _column_widths(self, width: int) -> list[int]:
        if self._widths and sum(self._widths) + SEPARATOR * len(self._widths) + MARK_WIDTH <= width + 1:
            return self._widths
        available = width - MARK_WIDTH - SEPARATOR * (len(self.columns) - 1)
        fixed = sum(column.width for column in self.columns if column.width)
        flexible = [column for column in self.columns if not column.width]
        share = max((available - fixed) // max(len(flexible), 1), 0)
        widths = [column.width or max(share, column.min_width) for column in self.columns]
        # Too narrow: take cells from the widest columns until the row fits.
        while sum(widths) > available and max(widths) > 3:
            widest = widths.index(max(widths))
            widths[widest] -= 1
        self._widths = widths
        return widths

    def _row_segments(self, cells: Sequence[Cell], widths: list[int], style: Style) -> list[Segment]:
        segments: list[Segment] = []
        for index, (cell, width, column) in enumerate(zip(cells, widths, self.columns, strict=False)):
            # Stored text: no escape code reaches the terminal (before Text(), which drops BEL).
            if isinstance(cell, Text):
                text = cell.copy()
                text.plain = printable(text.plain)
            else:
                text = Text(printable(str(cell)))
            text.truncate(width, overflow="ellipsis")
            if column.justify == "right":
                text.pad_left(width - text.cell_len)
            else:
                text.pad_right(width - text.cell_len)
            if text.style:  # Rich renders a Text's own style only alongside spans: make it one
                text.stylize_before(text.style)
                text.style = ""
            text.stylize(style)
            # A Text without spans renders without a style, which Textual's monochrome filter
            # (NO_COLOR) cannot read: such segments take the row's.
            segments.extend(Segment(plain, segment_style or style)
                            for plain, segment_style, _ in text.render(self.app.console))
            if index < len(self.columns) - 1:
                segments.append(Segment(" " * SEPARATOR, style))
        return segments

    def _header_strip(self, width: int) -> Strip:
        style = self.get_component_rich_style("paged-table--header")
        widths = self._column_widths(width)
        labels: list[Cell] = []
        for column in self.columns:
            arrow = ""
            if column.key == self.sort_column:
                arrow = " ▼" if self.sort_descending else " ▲"
            labels.append(f"{column.label}{arrow}")
        segments = [Segment(" " * MARK_WIDTH, style), *self._row_segments(labels, widths, style)]
        return Strip(segments).adjust_cell_length(width, style)

    def render_line(self, y: int) -> Strip:
        width = self._content_width
        if y == 0:
            return self._header_strip(width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.rows):
            more = self.get_component_rich_style("paged-table--more")
            if index == len(self.rows):
                if not self.rows:
                    message = "Loading …" if self.loading_more else self.empty_text
                elif self.has_more:
                    message = "Loading more …"
                else:
                    message = ""
                return Strip([Segment(f"  {message}", more)]).adjust_cell_length(width, more)
            # Every segment has a style: Textual's monochrome filter (NO_COLOR) reads each one's.
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        key = self._row_key(row)
        is_cursor = index == self.cursor_row
        is_marked = key in self.marked
        cache_key = (key, index, width, is_cursor, is_marked, self.has_focus)
        cached = self._line_cache.get(cache_key)
        if cached is not None:
            return cached
        style = Style()
        if is_marked:
            style += self.get_component_rich_style("paged-table--marked")
        if is_cursor:
            style += self.get_component_rich_style("paged-table--cursor")
        mark_style = style + self.get_component_rich_style("paged-table--mark")
        mark = Segment("● " if is_marked else "  ", mark_style)
        strip = Strip([mark, *self._row_segments(self._cells(row), self._column_widths(width), style)])
        strip = strip.adjust_cell_length(width, style)
        if len(self._line_cache) > 2000:
            self._line_cache.clear()
        self._line_cache[cache_key] = strip
        return strip

    # -- the cursor -----------------------------------------------------------------------

    def watch_cursor_row(self, old: int, new: int) -> None:
        if self.rows:
            clamped = min(max(new, 0), len(self.rows) - 1)
            if clamped != new:
                self.cursor_row = clamped
                return
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Highlighted(self, self.current))
        self._maybe_need_more()

    def _keep_cursor_visible(self) -> None:
        visible = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._maybe_need_more()

    def _maybe_need_more(self) -> None:
        if not self.has_more or self.loading_more or self.source is None:
            return
        ahead = len(self.rows) - max(self.cursor_row, self.scroll_offset.y + self.size.height)
        if ahead < PREFETCH_ROWS:
            self.source.more()

    def _move(self, delta: int, *, extend: bool = False) -> None:
        if not self.rows:
            return
        before = self.cursor_row
        self.cursor_row = min(max(before + delta, 0), len(self.rows) - 1)
        if extend:
            step = 1 if self.cursor_row >= before else -1
            for index in range(before, self.cursor_row + step, step):
                self.marked[self._row_key(self.rows[index])] = None
            self._marks_changed()
        elif self._range_anchor is not None:
            low, high = sorted((self._range_anchor, self.cursor_row))
            for index in range(low, high + 1):
                self.marked[self._row_key(self.rows[index])] = None
            self._marks_changed()

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(max(self.size.height - 2, 1))

    def action_page_up(self) -> None:
        self._move(-max(self.size.height - 2, 1))

    def action_first(self) -> None:
        self._move(-len(self.rows))

    def action_last(self) -> None:
        self._move(len(self.rows))

    def action_extend_down(self) -> None:
        self._move(1, extend=True)

    def action_extend_up(self) -> None:
        self._move(-1, extend=True)

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self, self.current))

    # -- marks ----------------------------------------------------------------------------

    def _marks_changed(self) -> None:
        self._line_cache.clear()
        self.refresh()
        self.post_message(self.MarksChanged(self, len(self.marked)))

    def action_toggle_mark(self) -> None:
        row = self.current
        if row is None:
            return
        key = self._row_key(row)
        if key in self.marked:
            del self.marked[key]
        else:
            self.marked[key] = None
        self._marks_changed()
        self._move(1)

    def action_range_mark(self) -> None:
        """`v`: start marking a range at the cursor; `v` again stops, keeping the marks."""
        if self._range_anchor is None and self.current is not None:
            self._range_anchor = self.cursor_row
            self.marked[self._row_key(self.current)] = None
            self._marks_changed()
        else:
            self._range_anchor = None

    def action_mark_all(self) -> None:
        self.post_message(self.MarkAllRequested(self))

    def action_clear_marks(self) -> None:
        self.clear_marks()

    # -- sorting --------------------------------------------------------------------------

    def action_next_sort(self) -> None:
        sortable = [column.key for column in self.columns if column.sortable]
        if not sortable:
            return
        position = sortable.index(self.sort_column) if self.sort_column in sortable else -1
        self.sort_column = sortable[(position + 1) % len(sortable)]
        self.sort_descending = False
        self._sort_changed()

    def action_reverse_sort(self) -> None:
        self.sort_descending = not self.sort_descending
        self._sort_changed()

    def _sort_changed(self) -> None:
        self._line_cache.clear()
        self.refresh()
        self.post_message(self.SortChanged(self, self.sort_column, self.sort_descending))
