"""The customers screen with 100,000 customers, against Textual's DataTable holding the same
rows, both driven headless by Textual's Pilot in this process at 120x40 (the method of
bench_employees_100k.py):

- rows_visible_ms: from asking the app for the screen, as its key does (DataTable: from giving
  it the rows) until the first frame that shows them; the median of three fresh starts of the
  app, on the embedded portal. Each customer holds a license bought this year, so every row's
  licenses, subscriptions and spend this year are figures the portal works out. Target 300 ms.
- filter_keystroke_ms: the median time from one more character typed in the `/` filter until
  the list shows the customers that match (DataTable: cleared and refilled with the rows that
  match, filtered in Python). Target 150 ms.
- cursor_p95_ms: the 95th percentile of one cursor move down, drawn. Target 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import figure, scratch_env

CUSTOMERS = 100_000
SIZE = (120, 40)
TYPED = "wingtip 042"  # matches fewer customers with each key, down to a handful
CURSOR_MOVES = 200
OPENINGS = 3
SMOKE = {"customers": 2_000, "cursor_moves": 20, "openings": 1}
COMPANIES = ["Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Proseware", "Woodgrove", "Relecloud",
             "Adatum", "Lamna", "Fourth Coffee", "Coho", "Wingtip", "Alpine", "Humongous", "Margie"]
FIRST = ["Ada", "Ben", "Chloe", "Dev", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kira", "Luis", "Mina", "Nils"]


async def seed(database: Path, count: int) -> str:
    """`count` licenses (benchmarks/license_data.py), each its own customer's, each bought this
    year on an order of 100 lines; returns a session token of the owner."""
    from sqlalchemy import bindparam, insert, select, update

    from license_data import LOGIN, NOW, PASSWORD
    from license_data import seed as seed_licenses
    from seattui.domain.accounts import Credentials
    from seattui.portal.runtime import Portal
    from seattui.portal.services import auth
    from seattui.portal.store.tables import customers, invoices, licenses, order_lines, orders
    from seattui.wiring import portal_settings

    await seed_licenses(database, count)
    this_year = datetime(datetime.now(UTC).year, 1, 2, 9, 0, tzinfo=UTC)  # "spend this year" counts it
    portal = Portal(portal_settings(database))
    await portal.start()
    try:
        async with portal.store.write() as conn:
            org_id, paid = zip(*(await conn.execute(select(licenses.c.org_id, licenses.c.paid)
                                                    .order_by(licenses.c.id))).all(), strict=True)
            await conn.execute(insert(customers), [
                {"id": number, "org_id": org_id[0],
                 "email": f"{FIRST[number % len(FIRST)].lower()}.{number:06d}@{COMPANIES[number % 16].lower().replace(' ', '')}.example",
                 "name": f"{FIRST[number % len(FIRST)]} {number:06d}", "company": COMPANIES[number % 16],
                 "created_at": NOW, "updated_at": NOW} for number in range(1, count + 1)])
            await conn.execute(update(licenses).where(licenses.c.id == bindparam("license")).values(
                customer_id=bindparam("customer")),
                [{"license": number, "customer": number} for number in range(1, count + 1)])
            invoice_id = (await conn.execute(insert(invoices).values(
                org_id=org_id[0], kind="order", status="paid", period_start=this_year.date(),
                period_end=this_year.date(), total=sum(paid), paid=sum(paid), created_at=this_year,
            ).returning(invoices.c.id))).scalar_one()
            orders_count = (count + 99) // 100
            await conn.execute(insert(orders), [
                {"id": number, "org_id": org_id[0], "kind": "purchase", "placed_at": this_year, "placed_by": LOGIN,
                 "paid_with": "credits", "total": sum(paid[(number - 1) * 100:number * 100]), "invoice_id": invoice_id}
                for number in range(1, orders_count + 1)])
            await conn.execute(insert(order_lines), [
                {"order_id": (number - 1) // 100 + 1, "position": (number - 1) % 100 + 1, "description": "License",
                 "quantity": 1, "unit_price": paid[number - 1], "amount": paid[number - 1],
                 "object_type": "license", "object_id": number} for number in range(1, count + 1)])
        await portal.store.analyze()
        return (await auth.login(portal, Credentials(login=LOGIN, password=PASSWORD))).token
    finally:
        await portal.close()


class Frames:
    """When the app puts a frame out (headless, the frame is composed and then dropped), so a
    key is timed from the moment it is sent to the first frame that shows its effect. Pilot's
    press() waits for the whole process to go idle, which alone takes 60 ms and more."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.frame = asyncio.Event()
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                self.frame.set()

        app._display = display

    def send(self, key: str) -> float:
        from textual import events

        char = key if len(key) == 1 else (" " if key == "space" else None)
        self.app._driver.send_message(events.Key(key, char))
        return time.perf_counter()

    def open_screen(self, screen_id: str) -> float:
        """Ask for a screen as its key does, through the app's message queue (the key itself
        is the app's to choose, and may change)."""
        self.app.call_later(self.app.action_open_screen, screen_id)
        return time.perf_counter()

    async def shown(self, done: Callable[[], bool], start: float, timeout: float = 60) -> float:
        """Seconds from `start` to the first frame put out once `done()` holds."""
        while True:
            self.frame.clear()
            await asyncio.wait_for(self.frame.wait(), timeout)
            if done():
                return time.perf_counter() - start


async def _ours(database: Path, token: str, *, measure_all: bool, cursor_moves: int) -> tuple[float, float, float]:
    from seattui.config import Profile, save_profile, save_token
    from seattui.tui.app import SeattuiApp
    from seattui.wiring import EmbeddedConnector

    from license_data import LOGIN

    save_profile("bench", Profile(portal="embedded", login=LOGIN, database=str(database)))
    save_token("bench", token)
    connector = EmbeddedConnector(database)
    app = SeattuiApp(lambda _profile: connector, profile_name="bench")
    keystroke = cursor = 0.0
    async with app.run_test(size=SIZE) as pilot:
        frames = Frames(app)
        # The portal's own figures on the dashboard (not the last session's, shown while the
        # embedded portal starts), as bench_licenses_100k waits for them.
        while app.who is None or app.last_seen is not None or not app.screen.query("#balance-digits"):
            await asyncio.sleep(0.01)
        await app.workers.wait_for_complete()
        await asyncio.sleep(0.5)  # the dashboard settled, as a person would see it before going on
        visible = await frames.shown(lambda: _rows_drawn(app), frames.open_screen("customers"))
        if measure_all:
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            table = screen.table  # type: ignore[attr-defined]
            moves = []
            for _ in range(cursor_moves):
                row = table.cursor_row
                moves.append(await frames.shown(lambda row=row: table.cursor_row == row + 1, frames.send("down")))
            await app.workers.wait_for_complete()
            frames.send("slash")
            await pilot.pause()
            keystrokes = []
            for index, char in enumerate(TYPED):
                typed = TYPED[: index + 1].strip()
                keystrokes.append(await frames.shown(
                    lambda typed=typed: screen._asked_for == typed and screen.source.loaded and bool(table.rows),  # type: ignore[attr-defined]
                    frames.send("space" if char == " " else char)))
            await app.workers.wait_for_complete()
            keystroke, cursor = statistics.median(keystrokes), _p95(moves)
    return visible, keystroke, cursor


def _rows_drawn(app: Any) -> bool:
    table = app.screen.query("#customers-table")
    return bool(table) and bool(table.first().rows)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def _datatable(rows: list[tuple[str, str, str, str, str, str]], cursor_moves: int) -> tuple[float, float, float]:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Baseline(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def fill(self, chosen: list[tuple[str, str, str, str, str, str]]) -> None:
            table = self.query_one(DataTable)
            table.clear()
            table.add_rows(chosen)

    app = Baseline()
    async with app.run_test(size=SIZE) as pilot:
        frames = Frames(app)
        table = app.query_one(DataTable)
        table.add_columns("Email", "Licenses", "Subscriptions", "Spend", "Name", "Company")
        await pilot.pause()
        start = time.perf_counter()
        app.fill(rows)
        # DataTable takes seconds for 100,000 rows, longer on a busy machine: it is given minutes.
        visible = await frames.shown(lambda: table.row_count == len(rows), start, timeout=900)
        table.focus()
        await pilot.pause()
        moves = []
        for _ in range(cursor_moves):
            row = table.cursor_row
            moves.append(await frames.shown(lambda row=row: table.cursor_row == row + 1, frames.send("down")))
        keystrokes = []
        for length in range(1, len(TYPED) + 1):
            words = TYPED[:length].lower().split()
            start = time.perf_counter()  # the keystroke's work: filter the rows and refill the table
            chosen = [row for row in rows
                      if all(any(word in cell.lower() for cell in (row[0], row[4], row[5])) for word in words)]
            app.fill(chosen)
            keystrokes.append(await frames.shown(lambda n=len(chosen): table.row_count == n, start))
    return visible, statistics.median(keystrokes), _p95(moves)


async def _rows(database: Path) -> list[tuple[str, str, str, str, str, str]]:
    from sqlalchemy import func, select

    from seattui.portal.store import Store
    from seattui.portal.store.tables import customers, licenses, order_lines

    store = Store(database)
    try:
        async with store.read() as conn:
            held = dict((await conn.execute(select(licenses.c.customer_id, func.count())
                                            .group_by(licenses.c.customer_id))).all())
            spent = dict((await conn.execute(select(order_lines.c.object_id, order_lines.c.amount))).all())
            result = await conn.execute(select(customers).order_by(customers.c.email, customers.c.id))
            return [(r.email, str(held.get(r.id, 0)), "0", f"{spent.get(r.id, 0) / 100:,.2f}", r.name, r.company)
                    for r in result]
    finally:
        await store.dispose()


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    size = SMOKE if smoke else {"customers": CUSTOMERS, "cursor_moves": CURSOR_MOVES, "openings": OPENINGS}
    moves = size["cursor_moves"]
    with scratch_env() as (root, env):
        os.environ.update({key: env[key] for key in ("SEATTUI_CONFIG", "SEATTUI_DATA_DIR")})
        database = root / "customers.db"
        token = asyncio.run(seed(database, size["customers"]))
        # The app started afresh each time: the screen's first opening is what is timed.
        opened = [asyncio.run(_ours(database, token, measure_all=False, cursor_moves=moves))[0]
                  for _ in range(size["openings"] - 1)]
        last = asyncio.run(_ours(database, token, measure_all=True, cursor_moves=moves))
        ours = (statistics.median([*opened, last[0]]), last[1], last[2])
        theirs = asyncio.run(_datatable(asyncio.run(_rows(database)), moves))
    for metric, target, mine, baseline in zip(
        ("rows_visible_ms", "filter_keystroke_ms", "cursor_p95_ms"), (300, 150, 50), ours, theirs, strict=True
    ):
        yield figure(metric, mine * 1000, "ms", baseline=baseline * 1000, target=target)
