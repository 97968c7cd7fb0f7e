"""Reassign, step two: the portal checks the batch (a dry run) and every move is listed with
its product, giver and receiver, each conflict with its reason. `enter` applies the whole
batch in one transaction, with a progress bar; the result names the batch, and `u` undoes it
with an inverse batch (refused if any of its seats changed since).

escape while a batch is on its way stops waiting, not the batch: the portal applies it whole or
not at all, and asking again with the same idempotency key tells which without applying it twice."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import ProgressBar, Static

from seattui.domain.text import printable
from seattui.domain.errors import BatchRefused, UndoRefused
from seattui.domain.seating import BatchOutcome, MoveRequest, PlannedMove, refusal_summary, refused_moves
from seattui.tui.changes import SEAT_MOVES
from seattui.tui import commands
from seattui.tui.formatting import plural
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

Row = tuple[int, PlannedMove]
COLUMNS = (
    Column("n", "#", width=5, justify="right", sortable=False),
    Column("product", "Product", width=10, sortable=False),
    Column("from", "From", min_width=10, sortable=False),
    Column("to", "To", min_width=10, sortable=False),
    Column("problem", "Conflict", min_width=10, sortable=False),
)
SHOWN_IN_CONFIRM = 6


def short(batch_id: str | None) -> str:
    return (batch_id or "")[:8]


WIDE = 140  # from this width every giver and receiver shows with the email


def person(name: str, email: str) -> str:
    return name or email or "—"


def namesakes(moves: list[PlannedMove]) -> set[str]:
    """The names that stand for more than one employee among these moves."""
    emails: dict[str, set[str]] = {}
    for move in moves:
        for name, email in ((move.from_name, move.from_email), (move.to_name, move.to_email)):
            if name and email:
                emails.setdefault(name, set()).add(email)
    return {name for name, found in emails.items() if len(found) > 1}


class PreviewScreen(PortalScreen):
    SCOPE = "preview"
    CSS_PATH = style("reassign_preview.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self, moves: list[MoveRequest], unpaired: list[PlannedMove]) -> None:
        super().__init__()
        self.requests = moves
        self.unpaired = unpaired
        self.plan: BatchOutcome | None = None
        self.applied: BatchOutcome | None = None
        self.undone: BatchOutcome | None = None
        self.request_keys = RequestKeys()  # one key per plan and per undo: retrying enter applies it once
        self.unsure = False  # escape stopped the wait for an apply or an undo: its outcome is unknown
        self.namesakes: set[str] = set()  # names shared by several people here: shown as emails

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("Checking the moves with the portal …", id="preview-summary")
        yield ProgressBar(total=None, show_eta=False, id="preview-progress")
        yield Problem(id="preview-problem")
        yield PagedTable(COLUMNS, row_key=lambda row: row[0], cells=self._cells, empty_text="No moves.",
                         sort=("none", False), id="preview-moves")
        yield Static("", id="preview-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.query_one(PagedTable).focus()
        self._check()

    def _cells(self, row: Row) -> list[Cell]:
        number, move = row
        state = "went back" if self.undone else "moved" if self.applied else "ok"
        conflict = Text(move.problem or "", style="bold red") if move.problem else Text(state, style="green")
        return [str(number), move.product_id or "(all)", self._who(move.from_name, move.from_email),
                self._who(move.to_name, move.to_email), conflict]

    def _who(self, name: str, email: str) -> str:
        """A giver or a receiver: the name, with the email where it fits; the email alone
        where two people of the batch share the name (it tells them apart)."""
        if not name or not email:
            return person(name, email)
        if self.app.size.width >= WIDE:
            return f"{name} <{email}>"
        return email if name in self.namesakes else name

    @property
    def moves(self) -> list[PlannedMove]:
        return [*(self.plan.moves if self.plan else []), *self.unpaired]

    @property
    def conflicts(self) -> list[PlannedMove]:
        return [move for move in self.moves if move.problem]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo" and (self.applied is None or self.undone is not None):
            return False
        if action in ("apply", "drop_conflicts") and self.applied is not None:
            return False
        return super().check_action(action, parameters)

    # -- the dry run -----------------------------------------------------------------------

    @work(exclusive=True, group="check", exit_on_error=False)  # a new check supersedes the last
    async def _check(self) -> None:
        requests = self.requests
        if requests:
            plan = await self.call_portal(lambda client: client.reassign(requests, dry_run=True), retry_key="delete")
            if plan is None:
                return
        else:
            plan = BatchOutcome()
        self.plan = plan
        self.namesakes = namesakes(self.moves)
        table = self.query_one(PagedTable)
        table.reset(list(enumerate(self.moves, start=1)))
        # The first conflict under the cursor: the line below the list says it in full.
        table.cursor_row = next((i for i, move in enumerate(self.moves) if move.problem), 0)
        self._summarize()

    def _summarize(self) -> None:
        summary = self.query_one("#preview-summary", Static)
        if self.undone is not None and self.applied is not None:
            summary.update(Text.assemble(("Undone. ", "bold green"), f"Batch {short(self.applied.batch_id)} was "
                                         f"undone by batch {short(self.undone.batch_id)}: "
                                         f"{plural(self.undone.count, 'seat')} went back. escape: back to the list"))
        elif self.applied is not None:
            counts = ", ".join(f"{product} {count:,}" for product, count in self.applied.products.items())
            summary.update(Text.assemble(
                ("Applied. ", "bold green"), f"{plural(self.applied.count, 'move')} in batch "
                f"{self.applied.batch_id} ({counts}). z undoes the batch; escape: back to the list"))
        else:
            moves, conflicts = len(self.moves), len(self.conflicts)
            line = Text(f"Preview: {plural(moves, 'move')}, ")
            line.append(plural(conflicts, "conflict"), style="bold red" if conflicts else "bold green")
            # Unsure: the problem line says what is known and what enter does.
            line.append("." if self.unsure else ". Nothing has changed yet. " + (
                "enter applies every move in one batch, or none; delete leaves the conflicts out." if conflicts
                else "enter applies every move in one batch."))
            summary.update(line)
        self.refresh_bindings()

    def action_drop_conflicts(self) -> None:
        """Leave out the marked moves, or else every move with a conflict, and check again;
        with no answer from the portal yet, check again (the retry key)."""
        if self.plan is None:
            self._check()
            return
        table = self.query_one(PagedTable)
        dropped = [move for number, move in table.rows if number in table.marked] or self.conflicts
        if not dropped:
            return
        table.clear_marks()
        leaving = {move.index for move in dropped if move.index >= 0}
        self.requests = [request for index, request in enumerate(self.requests) if index not in leaving]
        self.unpaired = [move for move in self.unpaired if move not in dropped]
        self.query_one("#preview-summary", Static).update("Checking the moves with the portal …")
        self._check()

    # -- apply and undo --------------------------------------------------------------------

    @on(PagedTable.Selected)
    def _enter_on_a_move(self) -> None:
        # The table has the focus and takes enter first: enter anywhere applies the batch.
        if self.check_action("apply", ()):
            self.action_apply()

    @on(PagedTable.Highlighted)
    def _detail(self, event: PagedTable.Highlighted) -> None:
        detail = self.query_one("#preview-detail", Static)
        if event.row is None:
            detail.update("")
            return
        number, move = event.row
        line = Text(printable(f"{number}: {move.product_id or 'all seats'} from {move.from_name} <{move.from_email}> "
                              f"to {move.to_name} <{move.to_email}>" if move.to_email else
                              f"{number}: {move.product_id} from {move.from_name} <{move.from_email}>"))
        if move.problem:
            line.append(printable(f": {move.problem}"), style="bold red")
        detail.update(line)

    def action_apply(self) -> None:
        if self.plan is None or self.applied is not None:
            return
        problem = self.query_one(Problem)
        if self.conflicts:
            problem.say(f"{plural(len(self.conflicts), 'move has a conflict', 'moves have conflicts')}, and a batch "
                        "applies whole or not at all.", "Press delete to leave them out, or escape to change the receivers.")
            return
        if not self.requests:
            problem.say("There is no move to apply.", "Press escape and choose receivers.")
            return
        self.start_write("apply", self._apply)

    def _busy(self, text: str) -> None:
        self.unsure = False
        self.query_one("#preview-summary", Static).update(text)
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True

    async def _apply(self) -> None:
        requests = self.requests
        key = self.request_keys.key_for("reassign", requests)
        self._busy(f"Applying {plural(len(requests), 'move')} in one batch …")
        try:
            outcome = await self.call_portal(lambda client: client.reassign(requests, idempotency_key=key),
                                             retry_key="enter", raising=(BatchRefused,))
        except BatchRefused as refused:
            # Seats changed since the preview: show the conflicts as they are now.
            self.query_one(Problem).say(f"Nothing was applied: {refusal_summary(refused_moves(refused.details))}.",
                                        "The list shows the conflicts now.")
            self.query_one(ProgressBar).display = False
            self._check()
            return
        self.query_one(ProgressBar).display = False
        if outcome is None:
            self._summarize()
            return
        self.applied = outcome
        self.seattui.announce_change(SEAT_MOVES)
        self.query_one(PagedTable).reset(list(enumerate(self.moves, start=1)))
        self._summarize()
        self.notify(f"Applied {plural(outcome.count, 'move')} in batch {short(outcome.batch_id)}.")

    def action_undo(self) -> None:
        if self.applied is not None and self.undone is None:
            self.start_write("undo", self._undo)

    async def _undo(self) -> None:
        assert self.applied is not None and self.applied.batch_id is not None
        batch_id = self.applied.batch_id
        back = [f"{person(m.to_name, m.to_email)} → {person(m.from_name, m.from_email)} ({m.product_id})"
                for m in self.moves[:SHOWN_IN_CONFIRM]]
        more = len(self.moves) - SHOWN_IN_CONFIRM
        details = "Every seat goes back to whoever held it:\n" + "\n".join(back) + (
            f"\n… and {more:,} more" if more > 0 else "") + "\nRefused whole if any of these seats changed since."
        if not await self.app.push_screen_wait(ConfirmScreen(f"Undo batch {short(batch_id)}?", details,
                                                             confirm="Undo")):
            return
        self._busy(f"Undoing batch {short(batch_id)} …")
        key = self.request_keys.key_for("undo", batch_id)
        try:
            outcome = await self.call_portal(lambda client: client.undo_batch(batch_id, idempotency_key=key),
                                             retry_key="z", raising=(UndoRefused,))
        except UndoRefused as refused:
            moves = refused_moves(refused.details)
            self.query_one(Problem).say(f"The batch was not undone: {refusal_summary(moves) or refused.message}",
                                        "Nothing changed.")
            outcome = None
        self.query_one(ProgressBar).display = False
        if outcome is not None:
            self.undone = outcome
            self.seattui.announce_change(SEAT_MOVES)
            self.query_one(PagedTable).reset(list(enumerate(self.moves, start=1)))
            self.notify(f"Undid batch {short(batch_id)}.")
        self._summarize()

    def action_back(self) -> None:
        if not self._stop_waiting():
            self.dismiss(self.applied is not None)

    def _stop_waiting(self) -> bool:
        """escape during an apply or an undo: stop waiting for the portal's answer and say what
        that means. False when nothing was on its way."""
        running = [worker for worker in self.workers.cancel_group(self, "write") if worker.is_running]
        if not running:
            return False
        self.query_one(ProgressBar).display = False
        self.unsure = True
        undoing = self.applied is not None
        what, key = ("the undo", "u") if undoing else ("the batch", "enter")
        self.query_one(Problem).say(
            f"Stopped waiting for the portal. {what.capitalize()} is one transaction: it went through whole "
            "or not at all.",
            f"Press {key} to send it again: if it went through, the portal answers with that and does "
            "nothing twice.",
        )
        self._summarize()
        return True
