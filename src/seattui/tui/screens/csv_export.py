"""The one dialog that writes a list to a CSV file (customers, the ledger and orders, the audit
log): it asks where (`tui/files.py: target_path`), then writes every row the screen's filter
matches, not only those loaded, page by page as the portal sends them, into a `.part` file that
takes the name asked for only when the last page is in. A failed or cancelled export (escape
stops it) leaves no half file under that name. Each screen says what a row is (its columns and
its row mapper, whose store text goes through `domain.csvfile.spreadsheet_text`) and how a page
is asked for."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from seattui.domain.ledger_export import csv_text
from seattui.domain.text import printable
from seattui.tui.files import target_path
from seattui.tui.formatting import plural
from seattui.tui.screens.form import FormScreen

if TYPE_CHECKING:
    from seattui.client import PortalClient


class CsvExportScreen(FormScreen):
    """Dismissed with (path written, rows written), or None."""

    TITLE_TEXT = "Write to a CSV file"
    HINT = "ctrl+s: write · escape: cancel"

    def __init__(self, columns: Sequence[str], row_words: tuple[str, str] = ("row", "rows")) -> None:
        super().__init__()
        self.columns = columns
        self.row_words = row_words  # what a row is, one and many

    def about(self) -> str:
        """What will be written, above the path."""
        raise NotImplementedError

    def default_path(self) -> str:
        """The name in the folder seattui runs in (also used inside a folder typed as the path)."""
        raise NotImplementedError

    async def fetch(self, client: PortalClient, cursor: str | None) -> Any:
        """The page after `cursor` of what the filter matches."""
        raise NotImplementedError

    def rows(self, items: Sequence[Any]) -> list[list[str]]:
        """A page's items as rows of the columns."""
        raise NotImplementedError

    def fields(self) -> ComposeResult:
        yield Static(self.about(), classes="form-about")
        yield Label("Write to")
        yield Input(self.default_path(), id="export-path")

    def action_submit(self) -> None:
        path, problem = target_path(self.query_one("#export-path", Input).value, self.default_path())
        if path is None:
            self.say(f"Write to: {printable(problem)}")
            return
        self._export(path)

    @work(exclusive=True, group="export", exit_on_error=False)  # ctrl+s again starts it over
    async def _export(self, path: Path) -> None:
        part = path.with_name(path.name + ".part")
        hint = self.query_one("#form-hint", Static)
        written, cursor = 0, None
        one, many = self.row_words
        try:
            with part.open("w", encoding="utf-8", newline="") as out:
                await asyncio.to_thread(out.write, csv_text([], self.columns))
                while True:
                    page = await self.call_portal(lambda client, after=cursor: self.fetch(client, after))
                    if page is None:  # the portal's reason is on the dialog; ctrl+s tries again
                        return
                    rows = self.rows(page.items)
                    await asyncio.to_thread(out.write, csv_text(rows))
                    written += len(rows)
                    hint.update(f"Writing … {plural(written, one, many)} so far · escape: stop")
                    cursor = page.next_cursor
                    if cursor is None:
                        break
            await asyncio.to_thread(os.replace, part, path)
        except OSError as error:
            self.say(f"Cannot write {printable(str(path))}: {error.strerror or error}. Choose another path.")
            return
        finally:  # done, failed or stopped by escape (the worker cancelled): no half file stays
            part.unlink(missing_ok=True)
            if self.is_mounted:
                hint.update(self.HINT)
        self.dismiss((str(path), written))
