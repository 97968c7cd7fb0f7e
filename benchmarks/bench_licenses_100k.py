"""The licenses screen with 100,000 licenses, against Textual's DataTable holding the same rows,
measured in the same run. Targets: rows visible within 300 ms, a filter keystroke within
150 ms, cursor movement within 50 ms at the 95th percentile.

Method. One SQLite portal database is seeded with 100,000 licenses of one organization
(license_data.py, bulk inserts). Both apps run headless in this process under Textual's Pilot
at 120x40. Every figure runs from the key press to the first frame the app hands to its
terminal driver after the table's own line renderer (render_line, what the frame is built
from) draws what a person waits for. The check is cheap and polled every millisecond; a
frame is at most one frame interval late, so the figures err on the slow side. (Composing the
whole screen to text at every poll would cost more than what is measured.)

- ours: seattui on that database through its embedded portal (the real path: worker, client,
  ASGI, portal, SQL, pages of 200 rows, a line-API table). rows_visible_ms: from asking for the
  screen on the dashboard, as its key does, to the first row's key on screen (a fresh screen
  each run, median of 5).
  filter_keystroke_ms: each key typed into the `/` filter until the first matching row (or the
  empty list) is on screen (median of every keystroke; the slowest is reported too).
  cursor_p95_ms: `down` pressed 300 times through page boundaries, each until the detail
  panel shows the new row.
- baseline: a minimal app with a DataTable given the same 100,000 rows, already read from the
  database into memory (so the baseline pays no I/O at all). Rows visible: from pushing its
  screen to the first key on screen. Filter keystroke: what a DataTable app has to do, clear and
  add the rows that match (key, email or comment, filtered in Python). Cursor: the same presses.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness import figure
from license_data import LOGIN, PASSWORD, seed

COUNT = 100_000
SIZE = (120, 40)
TYPED = "wingt"
CURSOR_PRESSES = 300
OPENS = 5
BASELINE_OPENS = 2  # each open takes seconds
SMOKE = {"count": 2_000, "cursor_presses": 30, "opens": 1, "baseline_opens": 1}


def _screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


class Frames:
    """When the app hands frames to its (headless) terminal driver."""

    def __init__(self, app: Any) -> None:
        self.times: list[float] = []
        shown = app._display

        def display(screen: Any, renderable: Any) -> None:
            shown(screen, renderable)
            if renderable is not None:
                self.times.append(time.perf_counter())

        app._display = display

    async def showing(self, changed_after: float, seen: float) -> float:
        """The frame that first showed a change made between two moments: the last frame in
        between if there is one (it came after the change, or the change would not have been
        seen until later), else the first frame after."""
        between = [when for when in self.times if changed_after < when <= seen]
        if between:
            return between[-1]
        while not self.times or self.times[-1] <= seen:
            if time.perf_counter() - seen > 30:
                raise RuntimeError("the change was never drawn")
            await asyncio.sleep(0.001)
        return next(when for when in self.times if when > seen)


async def _ready(app: Any, ready: Callable[[], bool], timeout: float = 120) -> None:
    """Wait, without measuring, until the app is ready for the next step."""
    start = time.perf_counter()
    while not ready():
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"never ready:\n{_screen_text(app)}")
        await asyncio.sleep(0.005)


async def _shown(app: Any, frames: Frames, start: float, drawn: Callable[[], bool], timeout: float = 120) -> float:
    """Seconds from `start` to the frame that shows what `drawn()` checks."""
    not_yet = start
    while not drawn():
        not_yet = time.perf_counter()
        if not_yet - start > timeout:
            raise RuntimeError(f"never shown:\n{_screen_text(app)}")
        await asyncio.sleep(0.001)
    return await frames.showing(not_yet, time.perf_counter()) - start


def _open_screen(app: Any, screen_id: str) -> float:
    """Ask for a screen as its key does, through the app's message queue (the key itself is
    the app's to choose, and may change), and return when."""
    start = time.perf_counter()
    app.call_later(app.action_open_screen, screen_id)
    return start


def _key(app: Any, key: str) -> float:
    """Press a key as the terminal would (the driver's message, no test harness waiting for
    the app to go idle) and return when."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    start = time.perf_counter()
    app._driver.send_message(event)
    return start


def _line(table: Any, y: int) -> str:
    """The text the table draws on its line y (0 is the header)."""
    return str(table.render_line(y).text)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


# -- seattui ----------------------------------------------------------------------------------------

async def _ours(database: Path, *, count: int, cursor_presses: int, opens: int) -> dict[str, Any]:
    from seattui.config import Profile, save_profile, save_token
    from seattui.tui.app import SeattuiApp
    from seattui.wiring import EmbeddedConnector

    connector = EmbeddedConnector(database, argon2_time_cost=1, argon2_memory_kib=64)
    client = await connector.open(None)
    save_profile("bench", Profile(portal="embedded", login=LOGIN))
    save_token("bench", (await client.login(LOGIN, PASSWORD)).token)
    await client.aclose()
    app = SeattuiApp(lambda _profile: connector, profile_name="bench")
    results: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        frames = Frames(app)
        # The dashboard shows the portal's own figures ("credits on <date>"), not the last session's.
        await _ready(app, lambda: app.current_mode == "dashboard" and "credits on " in _screen_text(app))
        opened = []
        for _ in range(opens):
            # A fresh screen each time, as after logging in: nothing cached in it.
            app.switch_mode("dashboard")
            await pilot.pause()
            if "licenses" in app._modes:
                app.remove_mode("licenses")
            app.add_mode("licenses", type(app).MODES["licenses"])
            start = _open_screen(app, "licenses")
            opened.append(await _shown(app, frames, start, lambda: getattr(app.screen, "loaded", False)
                                       and app.screen.table.rows[0].key in _line(app.screen.table, 1)))
        screen = app.screen
        await _ready(app, lambda: screen.text.catalog is not None)
        results["rows_visible"] = opened

        await pilot.press("slash")
        keystrokes = []
        for index, char in enumerate(TYPED):
            typed = TYPED[: index + 1]
            start = _key(app, char)
            keystrokes.append(await _shown(app, frames, start, lambda: screen.loaded and screen.filter.q == typed
                                           and _shows_result(screen)))
        results["filter"] = keystrokes

        await pilot.press("escape")  # back to the table, keeping the filter
        await pilot.press("escape")  # clears the filter: all 100,000 again
        await _ready(app, lambda: screen.loaded and screen.filter.q == "" and screen.table.total == count)
        table = screen.table
        moves = []
        for step in range(1, cursor_presses + 1):
            start = _key(app, "down")
            moves.append(await _shown(app, frames, start, lambda: table.cursor_row == step and table.rows[step].key
                                      in _line(table, step - table.scroll_offset.y + 1)
                                      and screen.detail_id == table.rows[step].id))
        results["cursor"] = moves
    await connector.close()
    return results


def _shows_result(screen: Any) -> bool:
    rows = screen.table.rows
    return (rows[0].key if rows else "No license matches.") in _line(screen.table, 1)


# -- the baseline: Textual's DataTable --------------------------------------------------------------

async def _rows(database: Path) -> list[tuple[str, ...]]:
    from sqlalchemy import select

    from seattui.portal.store import Store
    from seattui.portal.store.tables import licenses

    store = Store(database)
    async with store.read() as conn:
        found = (await conn.execute(
            select(licenses.c.key, licenses.c.product_id, licenses.c.edition_id, licenses.c.quantity,
                   licenses.c.term, licenses.c.customer_email, licenses.c.comment, licenses.c.device_hostname,
                   licenses.c.support_ends_on).order_by(licenses.c.key, licenses.c.id))).all()
    await store.dispose()
    return [tuple("" if value is None else str(value) for value in row) for row in found]


async def _baseline(rows: list[tuple[str, ...]], *, cursor_presses: int, baseline_opens: int) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import DataTable, Input

    class TableScreen(Screen[None]):
        def compose(self) -> ComposeResult:
            yield Input(id="filter")
            yield DataTable(id="table", cursor_type="row")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Key", "Product", "Edition", "Qty", "Term", "Customer", "Comment", "Device", "Support")
            table.add_rows(rows)
            table.focus()

        def on_input_changed(self, event: Input.Changed) -> None:
            typed = event.value.lower()
            table = self.query_one(DataTable)
            table.clear()
            table.add_rows([row for row in rows if typed in f"{row[0]} {row[5]} {row[6]}".lower()])

    class TableApp(App[None]):
        pass

    results: dict[str, Any] = {}
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        frames = Frames(app)
        opens = []
        for _ in range(baseline_opens):
            screen = TableScreen()
            start = time.perf_counter()
            await app.push_screen(screen)
            opens.append(await _shown(app, frames, start, lambda: screen.is_mounted and screen.query_one(DataTable)
                                      .row_count and rows[0][0] in _line(screen.query_one(DataTable), 1)))
            if len(opens) < baseline_opens:
                app.pop_screen()
                await pilot.pause()
        results["rows_visible"] = opens

        table = app.screen.query_one(DataTable)
        app.screen.query_one(Input).focus()
        keystrokes = []
        for index, char in enumerate(TYPED):
            typed = TYPED[: index + 1]
            first = next((row[0] for row in rows if typed in f"{row[0]} {row[5]} {row[6]}".lower()), None)
            start = _key(app, char)
            keystrokes.append(await _shown(app, frames, start, lambda: (first in _line(table, 1)) if first
                                           else table.row_count == 0))
        results["filter"] = keystrokes

        app.screen.query_one(Input).value = ""
        await _ready(app, lambda: table.row_count == len(rows))
        table.focus()
        await pilot.pause()
        moves = []
        for step in range(1, cursor_presses + 1):
            start = _key(app, "down")
            moves.append(await _shown(app, frames, start, lambda: table.cursor_row == step
                                      and rows[step][0] in _line(table, step - table.scroll_offset.y + 1)))
        results["cursor"] = moves
    return results


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    size = SMOKE if smoke else {"count": COUNT, "cursor_presses": CURSOR_PRESSES, "opens": OPENS,
                                "baseline_opens": BASELINE_OPENS}
    with tempfile.TemporaryDirectory(prefix="seattui-bench-") as folder:
        root = Path(folder)
        saved = {name: os.environ.get(name) for name in ("SEATTUI_CONFIG", "SEATTUI_DATA_DIR")}
        os.environ["SEATTUI_CONFIG"] = str(root / "config.toml")
        os.environ["SEATTUI_DATA_DIR"] = str(root / "data")
        try:
            database = root / "licenses.db"
            start = time.perf_counter()
            asyncio.run(seed(database, size["count"]))
            yield figure("seed_s", time.perf_counter() - start, "s")
            ours = asyncio.run(_ours(database, count=size["count"], cursor_presses=size["cursor_presses"],
                                     opens=size["opens"]))
            baseline = asyncio.run(_baseline(asyncio.run(_rows(database)), cursor_presses=size["cursor_presses"],
                                             baseline_opens=size["baseline_opens"]))
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    ms = 1000
    yield figure("rows_visible_ms", statistics.median(ours["rows_visible"]) * ms, "ms",
                 baseline=statistics.median(baseline["rows_visible"]) * ms, target=300)
    yield figure("filter_keystroke_ms", statistics.median(ours["filter"]) * ms, "ms",
                 baseline=statistics.median(baseline["filter"]) * ms, target=150)
    yield figure("filter_keystroke_max_ms", max(ours["filter"]) * ms, "ms", baseline=max(baseline["filter"]) * ms)
    yield figure("cursor_p95_ms", _p95(ours["cursor"]) * ms, "ms", baseline=_p95(baseline["cursor"]) * ms, target=50)
