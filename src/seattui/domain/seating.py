"""Seats of seat products: who holds them, how they move in bulk, and the batches that moved
them. A batch is validated whole: every move is applied, or none and each refused move says why."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from seattui.domain.base import DomainModel
from seattui.domain.csvfile import RowProblem, read_rows
from seattui.domain.licensing import Term
from seattui.domain.validation import field_messages

MAX_MOVES = 50_000
MAX_ASSIGN = 100_000
PLAN_COLUMNS = ("from_email", "to_email", "product")


class SeatPool(DomainModel):
    """The seats one license of a seat product bought, and how many are assigned."""

    model_config = ConfigDict(frozen=True)

    license_id: int
    key: str
    product_id: str
    product_name: str
    term: Term
    bought: int
    assigned: int
    term_ends_on: date | None = None
    live: bool = True  # an ended term takes no new assignments

    @property
    def free(self) -> int:
        return max(self.bought - self.assigned, 0)


class SeatRequest(DomainModel):
    """Give (or take back) a seat of a product for each of these employees."""

    employee_ids: list[int] = Field(min_length=1, max_length=MAX_ASSIGN)
    product_id: str = Field(min_length=1, max_length=64)
    license_id: int | None = None  # assign only: which license's seats (default: any with free seats)


class SeatChange(DomainModel):
    product_id: str
    employees: int


class MoveRequest(DomainModel):
    """One move: the seat of `product_id` held by one employee goes to another. Employees are
    named by id or by email; without a product, every seat the first employee holds moves."""

    # Emails are only looked up, never stored, so a plain string does: an unknown one is a
    # refused move, and 10,000 moves need no email parser.
    from_id: int | None = None
    from_email: str | None = Field(default=None, max_length=254)
    to_id: int | None = None
    to_email: str | None = Field(default=None, max_length=254)
    product_id: str | None = Field(default=None, max_length=64)

    @field_validator("from_email", "to_email", mode="after")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.strip().lower() or None if value is not None else None

    @field_validator("product_id", mode="before")
    @classmethod
    def _blank_is_all(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @model_validator(mode="after")
    def _both_ends(self) -> MoveRequest:
        if (self.from_id is None) == (self.from_email is None):
            raise ValueError("name the employee who gives the seat by from_id or from_email (one of them)")
        if (self.to_id is None) == (self.to_email is None):
            raise ValueError("name the employee who receives the seat by to_id or to_email (one of them)")
        return self

    def giver(self) -> str:
        return self.from_email or f"employee {self.from_id}"

    def receiver(self) -> str:
        return self.to_email or f"employee {self.to_id}"


class ReassignRequest(DomainModel):
    moves: list[MoveRequest] = Field(min_length=1, max_length=MAX_MOVES)
    dry_run: bool = False


class PlannedMove(DomainModel):
    """A move as the portal understood it; `problem` says why it is refused, if it is."""

    model_config = ConfigDict(frozen=True)

    index: int  # the request's move it comes from, counted from 0
    product_id: str  # "" when the move names no product and its giver is unknown
    seat_id: int | None = None
    from_id: int | None = None
    from_name: str = ""
    from_email: str = ""
    to_id: int | None = None
    to_name: str = ""
    to_email: str = ""
    problem: str | None = None


class BatchKind(StrEnum):
    REASSIGN = "reassign"
    UNDO = "undo"


class BatchOutcome(DomainModel):
    """A reassignment checked (dry run) or applied; an applied one has a batch id."""

    batch_id: str | None = None
    kind: BatchKind = BatchKind.REASSIGN
    applied: bool = False
    undoes: str | None = None
    moves: list[PlannedMove]

    @property
    def refused(self) -> list[PlannedMove]:
        return [move for move in self.moves if move.problem]

    def by_product(self) -> dict[str, int]:
        return dict(sorted(Counter(move.product_id for move in self.moves if not move.problem).items()))


class SeatBatch(DomainModel):
    """An applied batch of moves, as the batch list shows it."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    kind: BatchKind
    at: datetime
    actor: str
    moves: int
    products: dict[str, int] = {}
    undoes: str | None = None
    undone_by: str | None = None


def refused_moves(details: dict[str, Any]) -> list[PlannedMove]:
    """The refused moves carried by a BatchRefused or UndoRefused error."""
    return [PlannedMove.model_validate(move) for move in details.get("moves", [])]


def refusal_summary(moves: list[PlannedMove], *, most: int = 5) -> str:
    problems = [move.problem for move in moves if move.problem]
    shown = "; ".join(problems[:most])
    return shown + (f"; and {len(problems) - most} more" if len(problems) > most else "")


def parse_plan(text: str) -> tuple[list[tuple[int, MoveRequest]], list[RowProblem]]:
    """A reassignment plan file (from_email, to_email, product; product empty: all seats) by line."""
    rows, problems = read_rows(text, PLAN_COLUMNS)
    moves: list[tuple[int, MoveRequest]] = []
    for row in rows:
        values = row.values
        blank = [column for column in ("from_email", "to_email") if not values[column]]
        if blank:
            problems.append(RowProblem(line=row.line, reason=f"{' and '.join(blank)} empty"))
            continue
        try:
            move = MoveRequest(from_email=values["from_email"], to_email=values["to_email"],
                               product_id=values["product"])
        except ValidationError as error:
            fields = field_messages(error.errors())
            reason = "; ".join(message if field == "body" else f"{field}: {message}" for field, message in fields.items())
            problems.append(RowProblem(line=row.line, reason=reason))
            continue
        moves.append((row.line, move))
    problems.sort(key=lambda problem: problem.line)
    return moves, problems
