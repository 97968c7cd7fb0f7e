"""`?`: the commands of the screen you are on and the app's, with the keys they have now
(keymaps included), the commands only the palette reaches, and how to move around."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from seattui.tui import commands
from seattui.tui.palette import available, key_of
from seattui.tui.styles import style

MOVING_AROUND = (
    ("↑ ↓  j k", "Move the cursor"),
    ("enter", "Open, or go to the next field"),
    ("tab  shift+tab", "Next and previous field or panel"),
    ("escape", "Back one level"),
    ("ctrl+p", "Command palette: every command, searchable"),
    ("ctrl+q", "Quit at once"),
)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = style("help.tcss")
    BINDINGS = commands.bindings("help")

    def __init__(self, over: Screen[object]) -> None:
        super().__init__()
        self.table = self._table(over)

    @staticmethod
    def _table(over: Screen[object]) -> Group:
        app = over.app
        entry = commands.screen_entry(getattr(over, "SCOPE", ""))
        here: list[tuple[str, str, str]] = []
        everywhere: list[tuple[str, str, str]] = []
        palette_only: list[tuple[str, str, str]] = []
        for command, on_app in available(over):
            if command.key is None:
                palette_only.append(("ctrl+p", command.description, command.help))
            else:
                (everywhere if on_app else here).append((key_of(app, command), command.description, command.help))
        if getattr(app, "who", None) is not None:
            for command_id in ("app.go", "app.jump"):
                command = commands.by_id(command_id)
                assert command is not None
                everywhere.append((key_of(app, command), command.description, command.help))
        sections = (
            (f"This screen: {entry.title}" if entry else "This screen", here),
            ("Everywhere", everywhere),
            ("From the command palette (ctrl+p)", palette_only),
            ("Moving around", [(key, text, "") for key, text in MOVING_AROUND]),
        )
        tables = []
        for heading, rows in sections:
            if not rows:
                continue
            table = Table(title=heading, title_justify="left", title_style="bold underline", box=None,
                          show_header=False, padding=(0, 2, 0, 0), expand=True)
            table.add_column(style="bold", no_wrap=True, width=16)
            table.add_column(no_wrap=True, width=18)
            table.add_column(style="dim", ratio=1)
            for row in rows:
                table.add_row(*row)
            tables.append(table)
        return Group(*tables)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("Help · escape closes", id="help-title")
            yield Static(self.table, id="help-keys")
