"""Seats of seat products: who holds them, how they move in bulk, and the batches that moved
them. A batch is validated whole: every move is applied, or none and each refused move says why."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from seattui.domain.base import DomainModel, PlainText, RecordId
from seattui.domain.csvfile import RowProblem, read_rows
from seattui.domain.licensing import Term
from seattui.domain.people import Employee
from seattui.domain.text import refuse_control_characters
from seattui.domain.validation import field_messages

MAX_MOVES = 100_000  # a batch is applied whole, so a plan of this many moves is one request
MAX_ASSIGN = 100_000
PLAN_COLUMNS = ("from_email", "to_email", "product")
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=254),
                  AfterValidator(refuse_control_characters)]
ProductId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64),
                      AfterValidator(refuse_control_characters)]


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

    employee_ids: list[RecordId] = Field(min_length=1, max_length=MAX_ASSIGN)
    product_id: PlainText = Field(min_length=1, max_length=64)
    license_id: RecordId | None = None  # assign only: which license's seats (default: any with free seats)


class SeatChange(DomainModel):
    product_id: str
    employees: int


class MoveRequest(DomainModel):
    """One move: the seat of `product_id` held by one employee goes to another. Employees are
    named by id or by email; without a product, every seat the first employee holds moves."""

    # Emails are only looked up, never stored, so a plain string does: an unknown one is a
    # refused move. Constraints, not Python validators: 10,000 moves parse in milliseconds.
    from_id: RecordId | None = None
    from_email: Email | None = None
    to_id: RecordId | None = None
    to_email: Email | None = None
    product_id: ProductId | None = None  # None or "": every seat the giver holds

    def unnamed(self) -> str | None:
        """Why the move names nobody on one side (the portal refuses that move), if it does."""
        if self.from_id is None and self.from_email is None:
            return "the move names nobody to give the seat: give from_id or from_email"
        if self.to_id is None and self.to_email is None:
            return "the move names nobody to receive the seat: give to_id or to_email"
        return None

    def giver(self) -> str:
        return f"employee {self.from_id}" if self.from_id is not None else self.from_email or "nobody"

    def receiver(self) -> str:
        return f"employee {self.to_id}" if self.to_id is not None else self.to_email or "nobody"


class ReassignRequest(DomainModel):
    moves: list[MoveRequest] = Field(min_length=1, max_length=MAX_MOVES)
    dry_run: StrictBool = False


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
    """A batch checked (a dry run: every move, each with its problem if it has one) or
    applied (a summary: its id, and how many seats of each product moved)."""

    batch_id: str | None = None
    kind: BatchKind = BatchKind.REASSIGN
    applied: bool = False
    undoes: str | None = None
    count: int = 0  # the moves that pass (all of them, once applied)
    products: dict[str, int] = {}
    moves: list[PlannedMove] = []  # a dry run's

    @property
    def refused(self) -> list[PlannedMove]:
        return [move for move in self.moves if move.problem]


class BatchMove(DomainModel):
    """One move of an applied seat batch: whose seat of which product went to whom."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    from_id: int
    from_name: str = ""
    from_email: str = ""
    to_id: int
    to_name: str = ""
    to_email: str = ""


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
                               product_id=values["product"] or None)
        except ValidationError as error:
            fields = field_messages(error.errors())
            reason = "; ".join(message if field == "body" else f"{field}: {message}" for field, message in fields.items())
            problems.append(RowProblem(line=row.line, reason=reason))
            continue
        moves.append((row.line, move))
    problems.sort(key=lambda problem: problem.line)
    return moves, problems


# -- pairing givers with receivers, as the app builds a batch -------------------------------


def _local(giver: Employee, product_id: str, problem: str) -> PlannedMove:
    """A move the app could not even form; index -1: it never reaches the portal."""
    return PlannedMove(index=-1, product_id=product_id, from_id=giver.id, from_name=giver.name,
                       from_email=giver.email, problem=problem)


def pair_in_order(givers: Sequence[Employee], receivers: Sequence[Employee],
                  products: Collection[str]) -> tuple[list[MoveRequest], list[PlannedMove]]:
    """The i-th giver's seats (of the chosen products) go to the i-th receiver."""
    moves: list[MoveRequest] = []
    unpaired: list[PlannedMove] = []
    for position, giver in enumerate(givers):
        receiver = receivers[position] if position < len(receivers) else None
        for product_id in sorted(set(giver.seats) & set(products)):
            if receiver is None:
                unpaired.append(_local(giver, product_id, f"no receiver marked for {giver.name}: mark "
                                                          f"{len(givers) - len(receivers)} more, in order"))
            else:
                moves.append(MoveRequest(from_id=giver.id, to_id=receiver.id, product_id=product_id))
    return moves, unpaired


def pair_by_product(givers: Sequence[Employee], receivers: Mapping[str, Sequence[Employee]],
                    where: str) -> tuple[list[MoveRequest], list[PlannedMove]]:
    """For each product, its holders among the givers, in order, hand their seats to that
    product's receivers, in order (the first N without a seat of it, `where`)."""
    moves: list[MoveRequest] = []
    unpaired: list[PlannedMove] = []
    for product_id, candidates in sorted(receivers.items()):
        holders = [giver for giver in givers if product_id in giver.seats]
        for position, giver in enumerate(holders):
            if position < len(candidates):
                moves.append(MoveRequest(from_id=giver.id, to_id=candidates[position].id, product_id=product_id))
            else:
                unpaired.append(_local(giver, product_id, f"only {len(candidates)} active employee(s) without a "
                                                          f"{product_id} seat {where}"))
    return moves, unpaired
