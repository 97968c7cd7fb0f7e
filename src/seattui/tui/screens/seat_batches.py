"""The seat batches applied, newest first: when, who, how many moves of which products, and
whether a batch was undone. `u` undoes the batch under the cursor with an inverse batch."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from seattui.domain.errors import UndoRefused
from seattui.domain.paging import Page
from seattui.domain.seating import BatchKind, SeatBatch, refusal_summary, refused_moves
from seattui.tui.changes import Area, SEAT_MOVES
from seattui.tui import commands
from seattui.tui.formatting import plural
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.screens.reassign_preview import short
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

PAGE = 100
COLUMNS = (
    Column("at", "When", width=16, sortable=False),
    Column("batch", "Batch", width=8, sortable=False),
    Column("kind", "Kind", width=13, sortable=False),
    Column("moves", "Moves", width=7, justify="right", sortable=False),
    Column("products", "Products", min_width=10, sortable=False),
    Column("actor", "By", width=12, sortable=False),
    Column("state", "Undone by", min_width=9, sortable=False),
)


class SeatBatchesScreen(PortalScreen):
    SHOWS = frozenset({Area.BATCHES})
    SCOPE = "batches"
    CSS_PATH = style("seat_batches.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.changed = False
        self.request_keys = RequestKeys()  # one key per undone batch: a retry undoes it once

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("Seat batches, newest first. z undoes the batch under the cursor.", id="batches-title")
        yield Problem(id="batches-problem")
        table = PagedTable[SeatBatch](
            COLUMNS, row_key=lambda batch: batch.batch_id, cells=self._cells,
            empty_text="No seat batch yet: reassign seats from the employees screen (r).",
            sort=("none", False), id="batches")
        self.source = PagedSource(table, self._page, first_page=PAGE, page=PAGE)
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()
        self.source.reload()

    async def _page(self, cursor: str | None, limit: int) -> Page[SeatBatch] | None:
        return await self.call_portal(lambda client: client.seat_batches(cursor=cursor, limit=limit),
                                      retry_key="ctrl+r")

    @staticmethod
    def _cells(batch: SeatBatch) -> list[Cell]:
        products = ", ".join(f"{product} {count:,}" for product, count in batch.products.items())
        kind = batch.kind.value + (f" {short(batch.undoes)}" if batch.kind is BatchKind.UNDO else "")
        state = Text(short(batch.undone_by), style="dim") if batch.undone_by else ""
        return [batch.at.strftime("%Y-%m-%d %H:%M"), short(batch.batch_id), kind, f"{batch.moves:,}", products,
                batch.actor, state]

    def action_refresh(self) -> None:
        self.source.reload(keep_place=True)

    def action_undo(self) -> None:
        batch = self.query_one(PagedTable).current
        if batch is None:
            return
        if batch.undone_by:
            self.query_one(Problem).say(f"Batch {short(batch.batch_id)} was undone already, by batch "
                                        f"{short(batch.undone_by)}.")
            return
        self.start_write("undo", partial(self._undo, batch))

    async def _undo(self, batch: SeatBatch) -> None:
        counts = ", ".join(f"{product} {count:,}" for product, count in batch.products.items())
        if not await self.app.push_screen_wait(ConfirmScreen(
                f"Undo batch {short(batch.batch_id)}?",
                f"{plural(batch.moves, 'seat')} ({counts}) will go back to whoever held them before "
                f"{batch.at:%Y-%m-%d %H:%M}. Refused whole if any of them changed since.", confirm="Undo")):
            return
        key = self.request_keys.key_for("undo", batch.batch_id)
        try:
            outcome = await self.call_portal(lambda client: client.undo_batch(batch.batch_id, idempotency_key=key),
                                             retry_key="z", raising=(UndoRefused,))
        except UndoRefused as refused:
            moves = refused_moves(refused.details)
            self.query_one(Problem).say(f"Not undone: {refusal_summary(moves) or refused.message}", "Nothing changed.")
            return
        if outcome is not None:
            self.changed = True
            self.seattui.announce_change(SEAT_MOVES)
            self.notify(f"Undid batch {short(batch.batch_id)}: {plural(outcome.count, 'seat')} went back.")

    def action_dismiss(self) -> None:
        self.dismiss(self.changed)
