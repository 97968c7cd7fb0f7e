"""The last-seen record: what one start writes, the next reads back the same; a record it
cannot use (an older format, another portal, a damaged file) is ignored, never an error."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from seattui.domain.roles import Permission, Role
from seattui.tui import last_seen
from seattui.tui.views import DashboardView, Figure, LedgerLine, ProductLine, Who

WHO = Who("acme-owner", Role.OWNER, "Acme", frozenset({Permission.READ, Permission.ASSIGN}))
VIEW = DashboardView(
    today=date(2026, 11, 22),
    balance=Decimal("1234.50"),
    unit="credits",
    ledger=(LedgerLine(date(2026, 11, 20), Decimal("-59.70"), "Connect Cloud subscription"),),
    products=(ProductLine("MailGuard", 8, 3, 0, 2),),
    figures=(Figure(6, "trials end within 7 days", "licenses", "trials_ending"), Figure(300, "employees")),
)
SAVED_AT = datetime(2026, 11, 22, 3, 37, tzinfo=UTC)


def test_the_next_start_reads_back_exactly_what_was_seen() -> None:
    last_seen.save("work", "https://portal.example", WHO, VIEW, now=SAVED_AT)
    seen = last_seen.load("work", "https://portal.example")
    assert seen == last_seen.LastSeen(WHO, VIEW, SAVED_AT)
    assert seen is not None and seen.dashboard.balance == Decimal("1234.50")  # exact, not a float


@pytest.mark.parametrize("damage", ["older format", "another portal", "not json", "a field missing", "not a number"])
def test_a_record_that_cannot_be_used_is_ignored(damage: str) -> None:
    last_seen.save("work", "https://portal.example", WHO, VIEW, now=SAVED_AT)
    path = last_seen._path("work")
    record = json.loads(path.read_text())
    if damage == "older format":
        record["format"] = 1
    elif damage == "another portal":
        record["portal"] = "https://other.example"
    elif damage == "a field missing":
        del record["dashboard"]["ledger"]
    elif damage == "not a number":
        record["dashboard"]["balance"] = "a lot"
    path.write_text("{ half a rec" if damage == "not json" else json.dumps(record))
    assert last_seen.load("work", "https://portal.example") is None
