"""The employees screen with 100,000 employees, against Textual's DataTable holding the same
rows (the method and figures of list_screen.py). Targets: rows visible within 300 ms, a filter
keystroke within 150 ms, a cursor move within 50 ms at the 95th percentile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import BENCH_LOGIN, seed_workforce
from list_screen import ListScreen, Row, measure

PEOPLE = 100_000
SEATS = 10_000
CURSOR_MOVES = 200
OPENINGS = 3
SMOKE = {"people": 2_000, "seats": 200, "cursor_moves": 20, "openings": 1}
SCREEN = ListScreen(
    screen_id="employees",
    table=lambda screen: found.first().table if (found := screen.query("EmployeeList")) else None,
    typed="olga 0042",
    columns=("Name", "Email", "Department", "Status", "Seats"),
    searched=lambda row: row[:3],
)


async def _rows(database: Path) -> list[Row]:
    from sqlalchemy import select

    from seattui.portal.store import Store
    from seattui.portal.store.tables import employees, seats

    store = Store(database)
    try:
        async with store.read() as conn:
            held = {row.employee_id for row in await conn.execute(select(seats.c.employee_id))}
            result = await conn.execute(select(employees).order_by(employees.c.name, employees.c.id))
            return [(r.name, r.email, r.department, r.status, "workspace" if r.id in held else "·") for r in result]
    finally:
        await store.dispose()


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    size = SMOKE if smoke else {"people": PEOPLE, "seats": SEATS, "cursor_moves": CURSOR_MOVES, "openings": OPENINGS}

    async def seed(database: Path) -> tuple[str, str]:
        return BENCH_LOGIN, await seed_workforce(database, size["people"], size["seats"])

    yield from measure(SCREEN, seed, _rows, cursor_moves=size["cursor_moves"], openings=size["openings"])
