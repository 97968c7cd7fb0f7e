"""The audit log (`g h`): every change, newest first, with who made it, what, when, the object
and the batch. `/` filters as you type (`user:alice kind:license object:license#12
since:2026-11-01 until:2026-11-30`, a bare word is a kind), enter on a batch's entry shows
what the batch did, `w` writes the entries the filter matches to a CSV file."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from seattui.domain.audit import AuditEntry, AuditFilter
from seattui.domain.csvfile import spreadsheet_text
from seattui.domain.paging import Page
from seattui.domain.seating import BatchMove
from seattui.domain.text import printable
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.formatting import plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.csv_export import CsvExportScreen
from seattui.tui.screens.reassign_preview import person, short
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from seattui.client import PortalClient

PAGE = 200
EXPORT_PAGE = 500
# Narrow enough for 80 columns to leave the summary some room; the line under the table
# shows the whole entry under the cursor.
COLUMNS = (
    Column("at", "When (UTC)", width=14, sortable=False),
    Column("actor", "Who", width=10, sortable=False),
    Column("action", "What", width=14, sortable=False),
    Column("object", "Object", width=12, sortable=False),
    Column("summary", "Summary", min_width=12, sortable=False),
    Column("batch", "Batch", width=8, sortable=False),
)
FILTER_WORDS = ("user", "kind", "object", "since", "until")
_OBJECT = re.compile(r"(?P<type>[a-z_]+)(?:#(?P<id>[0-9]{1,18}))?")


def parse_filter(text: str) -> AuditFilter:
    """The filter line as an AuditFilter; a ValueError says what to type instead."""
    found: dict[str, Any] = {}
    for word in text.split():
        name, colon, value = word.partition(":")
        if not colon:
            name, value = "kind", word
        name = name.lower()
        if name not in FILTER_WORDS or not value:
            raise ValueError(f"{word!r} is not a filter: use {', '.join(f'{w}:' for w in FILTER_WORDS)} "
                             "(user:alice kind:license object:license#12 since:2026-11-01)")
        if name in ("since", "until"):
            try:
                found[name] = date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{name}: {value!r} is not a day; type it as YYYY-MM-DD") from None
        elif name == "object":
            matched = _OBJECT.fullmatch(value.lower())
            if matched is None:
                raise ValueError(f"object: {value!r} is not an object; type its kind, and #id for one "
                                 "(object:license#12, object:employee)")
            found["object_type"] = matched["type"]
            found["object_id"] = int(matched["id"]) if matched["id"] else None
        else:
            found[name] = value
    return AuditFilter(**found)


def object_words(entry: AuditEntry) -> str:
    return entry.object_type + (f" #{entry.object_id}" if entry.object_id is not None else "")


def who(entry: AuditEntry) -> str:
    """The login, and the API token it acted with, if one did ("ci-bot (token deploy)")."""
    return f"{entry.actor} (token {entry.token})" if entry.token else entry.actor


def entry_cells(entry: AuditEntry) -> list[Cell]:
    return [entry.at.strftime("%y-%m-%d %H:%M"), who(entry), entry.action, object_words(entry), entry.summary,
            Text(short(entry.batch_id), style="bold") if entry.batch_id else Text("·", style="dim")]


class AuditScreen(PortalScreen):
    # Every change writes an entry, so every change is news here.
    SHOWS = frozenset(Area)
    SCOPE = "audit"
    CSS_PATH = style("audit.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.wanted = AuditFilter()

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Input(placeholder="/ filter: user:alice kind:license object:license#12 since:2026-11-01",
                    id="audit-filter")
        # Apart from the Problem, which a page arriving for the last good filter clears.
        yield Static("", id="audit-filter-problem")
        yield Problem(id="audit-problem")
        table = PagedTable[AuditEntry](
            COLUMNS, row_key=lambda entry: entry.id, cells=entry_cells, sort=("none", True), marks=False,
            empty_text="No change recorded yet.", id="audit")
        self.source = PagedSource(table, self._page, first_page=PAGE, page=PAGE)
        yield table
        yield Static("", id="audit-about")
        yield KeyFooter()

    @property
    def table(self) -> PagedTable[AuditEntry]:
        return self.query_one(PagedTable)

    def on_mount(self) -> None:
        self.query_one("#audit-filter-problem", Static).display = False
        self.table.focus()
        self._say_about()
        self.source.reload()

    async def _page(self, cursor: str | None, limit: int) -> Page[AuditEntry] | None:
        wanted = self.wanted
        return await self.call_portal(lambda client: client.audit(wanted, cursor=cursor, limit=limit))

    @on(Input.Changed, "#audit-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        said = self.query_one("#audit-filter-problem", Static)
        try:
            wanted = parse_filter(event.value)
        except ValueError as error:
            said.update(Text(printable(f"{error}. The list shows the last filter that made sense.")))
            said.display = True
            return
        said.display = False
        if wanted != self.wanted:
            self.wanted = wanted
            self.table.empty_text = "No entry matches the filter." if event.value.strip() else "No change recorded yet."
            self._say_about()
            self.source.reload()

    @on(Input.Submitted, "#audit-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def _say_about(self) -> None:
        wanted = self.wanted
        parts = [f"by {wanted.user}" if wanted.user else "", f"kind {wanted.kind}" if wanted.kind else "",
                 f"on {wanted.object_type}" + (f" #{wanted.object_id}" if wanted.object_id else "")
                 if wanted.object_type else "",
                 f"from {wanted.since}" if wanted.since else "", f"to {wanted.until}" if wanted.until else ""]
        shown = ", ".join(part for part in parts if part)
        self.query_one("#audit-about", Static).update(
            "Newest first" + (f" · {shown}" if shown else " · every change") + " · enter on a batch shows its moves")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "write_file" and self.table.current is None:
            return False
        return super().check_action(action, parameters)

    def on_paged_table_highlighted(self, message: PagedTable.Highlighted) -> None:
        self.refresh_bindings()
        if message.table is self.table:
            self._say_entry(message.row)

    def _say_entry(self, entry: AuditEntry | None) -> None:
        if entry is None:
            self._say_about()
            return
        batch = f" · batch {entry.batch_id} (enter: its moves)" if entry.batch_id else ""
        self.query_one("#audit-about", Static).update(Text(printable(
            f"#{entry.id} {entry.at:%Y-%m-%d %H:%M:%S} {who(entry)}{batch} · {entry.summary}")))

    def on_paged_table_selected(self, message: PagedTable.Selected) -> None:
        self.action_open_batch()

    def action_open_batch(self) -> None:
        entry = self.table.current
        if entry is None:
            return
        if not entry.batch_id:
            self.query_one(Problem).say(f"{printable(entry.action)} at {entry.at:%Y-%m-%d %H:%M} is a change of its own, "
                                        "not part of a batch.", "Entries with a batch show one in the last column.")
            return
        self.app.push_screen(AuditBatchScreen(entry))

    def action_filter(self) -> None:
        self.focus_input(self.query_one("#audit-filter", Input))

    def action_back(self) -> None:
        box = self.query_one("#audit-filter", Input)
        if self.focused is box:
            self.table.focus()
        elif box.value:
            box.value = ""  # the Changed handler reads the whole log again
        else:
            self.seattui.action_open_screen("dashboard")

    def action_refresh(self) -> None:
        self.source.reload(keep_place=True)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        self.source.reload(keep_place=True)

    def action_write_file(self) -> None:
        self.app.push_screen(AuditExportScreen(self.wanted), self._exported)

    def _exported(self, outcome: tuple[str, int] | None) -> None:
        if outcome is not None:
            path, count = outcome
            self.notify(f"Wrote {plural(count, 'entry', 'entries')} to {path}.")


# -- a batch ------------------------------------------------------------------------------------

MOVE_COLUMNS = (
    Column("n", "#", width=6, justify="right", sortable=False),
    Column("product", "Product", width=12, sortable=False),
    Column("from", "From", min_width=10, sortable=False),
    Column("to", "To", min_width=10, sortable=False),
)
ENTRY_COLUMNS = (
    Column("action", "What", width=16, sortable=False),
    Column("object", "Object", width=18, sortable=False),
    Column("summary", "Summary", min_width=12, sortable=False),
)


class AuditBatchScreen(PortalScreen):
    """What one batch did: a seat batch's moves (who gave which seat to whom), or the entries
    of another batch (the licenses a deletion refunded, the support a bulk extension paid)."""

    SHOWS = frozenset(Area)
    SCOPE = "audit_batch"
    CSS_PATH = style("audit.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self, entry: AuditEntry) -> None:
        super().__init__()
        self.entry = entry
        self.seat_batch = entry.object_type == "seat_batch"
        self._numbered = 0

    def compose(self) -> ComposeResult:
        entry = self.entry
        yield StatusBar()
        yield Static(Text(printable(f"Batch {entry.batch_id} · {entry.action} by {entry.actor} "
                                    f"at {entry.at:%Y-%m-%d %H:%M} UTC")), id="batch-title")
        yield Static(Text(printable(entry.summary)), id="batch-summary")
        yield Problem(id="batch-problem")
        if self.seat_batch:
            moves = PagedTable[tuple[int, BatchMove]](
                MOVE_COLUMNS, row_key=lambda row: row[0], cells=self._move_cells, sort=("none", False),
                empty_text="This batch moved no seat.", id="batch-moves")
            self.source: PagedSource[Any] = PagedSource(moves, self._moves, first_page=PAGE, page=PAGE)
            yield moves
        else:
            entries = PagedTable[AuditEntry](
                ENTRY_COLUMNS, row_key=lambda row: row.id, cells=self._entry_cells, sort=("none", False),
                empty_text="No entry in this batch.", id="batch-entries")
            self.source = PagedSource(entries, self._entries, first_page=PAGE, page=PAGE)
            yield entries
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()
        self.source.reload()

    async def _moves(self, cursor: str | None, limit: int) -> Page[tuple[int, BatchMove]] | None:
        batch_id = self.entry.batch_id or ""
        page = await self.call_portal(lambda client: client.batch_moves(batch_id, cursor=cursor, limit=limit))
        if page is None:
            return None
        start = 0 if cursor is None else self._numbered
        self._numbered = start + len(page.items)
        return Page[tuple[int, BatchMove]](items=list(enumerate(page.items, start + 1)),
                                           next_cursor=page.next_cursor, total=page.total)

    async def _entries(self, cursor: str | None, limit: int) -> Page[AuditEntry] | None:
        wanted = AuditFilter(batch_id=self.entry.batch_id)
        return await self.call_portal(lambda client: client.audit(wanted, cursor=cursor, limit=limit))

    @staticmethod
    def _move_cells(row: tuple[int, BatchMove]) -> list[Cell]:
        n, move = row
        return [f"{n:,}", move.product_id, person(move.from_name, move.from_email),
                person(move.to_name, move.to_email)]

    @staticmethod
    def _entry_cells(entry: AuditEntry) -> list[Cell]:
        return [entry.action, object_words(entry), entry.summary]

    def action_refresh(self) -> None:
        self.source.reload(keep_place=True)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        self.source.reload(keep_place=True)

    def action_back(self) -> None:
        self.dismiss()


# -- export ---------------------------------------------------------------------------------------

CSV_FIELDS = ("id", "at", "actor", "action", "object_type", "object_id", "summary", "batch_id", "details")


def default_export_path(today: date) -> str:
    return f"audit-{today:%Y%m%d}.csv"


def csv_cell(value: Any) -> str:
    """Text from the store, harmless in a spreadsheet (the one rule: domain/csvfile.py)."""
    return spreadsheet_text("" if value is None else str(value))


def csv_row(entry: AuditEntry) -> list[str]:
    return [str(entry.id), entry.at.isoformat(), csv_cell(entry.actor), entry.action, entry.object_type,
            "" if entry.object_id is None else str(entry.object_id), csv_cell(entry.summary), entry.batch_id or "",
            csv_cell(json.dumps(entry.details, sort_keys=True, ensure_ascii=False))]


class AuditExportScreen(CsvExportScreen):
    """Every entry the filter matches, newest first."""

    TITLE_TEXT = "Write the audit log to a CSV file"

    def __init__(self, wanted: AuditFilter) -> None:
        super().__init__(CSV_FIELDS, ("entry", "entries"))
        self.wanted = wanted

    def about(self) -> str:
        about = "every entry" if self.wanted == AuditFilter() else "the entries the filter matches"
        return f"Writes {about}, newest first: {', '.join(CSV_FIELDS)}."

    def default_path(self) -> str:
        return default_export_path(datetime.now(UTC).date())

    async def fetch(self, client: PortalClient, cursor: str | None) -> Any:
        return await client.audit(self.wanted, cursor=cursor, limit=EXPORT_PAGE)

    def rows(self, items: Sequence[Any]) -> list[list[str]]:
        return [csv_row(entry) for entry in items]
