"""Import employees from a CSV file (name, email, department). The portal takes every row or
none: a file with bad rows lists each one with its line and reason, and nothing is imported."""

from __future__ import annotations

from functools import partial

import asyncio
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from seattui.domain.csvfile import RowProblem, problems_text
from seattui.domain.errors import ImportRefused
from seattui.tui.changes import Area
from seattui.tui import commands
from seattui.tui.idempotency import RequestKeys
from seattui.tui.screens.base import PortalModal
from seattui.tui.styles import style
from seattui.tui.widgets.problem import Problem

MAX_BYTES = 3 * 1024 * 1024


def read_file(path: Path) -> str:
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"it is larger than {MAX_BYTES // (1024 * 1024)} MiB; split it into smaller files")
    return path.read_text(encoding="utf-8-sig")


class ImportScreen(PortalModal[int | None]):
    SCOPE = "import"
    CSS_PATH = style("employee_import.tcss")
    BINDINGS = commands.bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        # The same file sent again after a lost answer is imported once (tui/idempotency.py).
        self.request_keys = RequestKeys()

    def compose(self) -> ComposeResult:
        with Vertical(id="import"):
            yield Static("Import employees from a CSV file", id="import-title")
            yield Static("A header line names the columns name, email, department. Every row is imported, "
                         "or none: a bad row is listed with its line, and you fix the file.", id="import-hint")
            yield Input(placeholder="path of the CSV file, then enter", id="import-path")
            yield Problem(id="import-problem")
            with VerticalScroll(id="import-rows"):
                yield Static("", id="import-rows-text")

    def on_mount(self) -> None:
        self.query_one("#import-rows").display = False
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.start_write("import", partial(self._import, Path(event.value.strip()).expanduser()))

    async def _import(self, path: Path) -> None:
        rows = self.query_one("#import-rows")
        rows.display = False
        try:
            text = await asyncio.to_thread(read_file, path)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            self.query_one(Problem).say(f"Cannot read {path}: {reason}.", "Check the path and try again.")
            return
        try:
            key = self.request_keys.key_for(text)
            result = await self.call_portal(lambda client: client.import_employees(text, idempotency_key=key),
                                            raising=(ImportRefused,))
        except ImportRefused as refused:
            problems = [RowProblem.model_validate(row) for row in refused.rows]
            self.query_one(Problem).say(f"Nothing was imported: {len(problems)} row(s) of {path.name} are wrong.",
                                        "Fix them and import the file again.")
            self.query_one("#import-rows-text", Static).update(problems_text(problems, most=200))
            rows.display = True
            return
        if result is not None:
            self.request_keys.succeeded(text)
            self.seattui.announce_change({Area.EMPLOYEES})
            self.dismiss(result.added)
