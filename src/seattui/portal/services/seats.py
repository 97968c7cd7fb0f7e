"""Seats of seat products: assigned to employees out of the seats licenses bought, and moved
in batches that are validated whole and applied in one transaction, or undone by an inverse batch.

The rules: an employee holds at most one seat of a product; assigned seats never exceed the
seats bought; a batch moves a seat from an employee who holds one to an active employee who
holds none, each seat and each receiver once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from seattui.domain.catalog import ProductKind
from seattui.domain.errors import BatchRefused, Conflict, NotFound, SeatsExhausted, UndoRefused, ValidationFailed
from seattui.domain.licensing import LicenseStatus, Term
from seattui.domain.paging import Page
from seattui.domain.people import EmployeeStatus
from seattui.domain.roles import Permission
from seattui.domain.seating import (
    BatchKind,
    BatchOutcome,
    MoveRequest,
    PlannedMove,
    SeatBatch,
    SeatChange,
    SeatPool,
    SeatRequest,
)
from seattui.portal.context import Tx
from seattui.portal.paging import id_cursor_page
from seattui.portal.services import audit
from seattui.portal.services.employees import chunks, lock_seats, rows_by_id
from seattui.portal.services.licenses import license_query, status_of
from seattui.portal.store.tables import employees, licenses, seat_batches, seats

SEAT_TERMS = (Term.FLEXIBLE.value, Term.ANNUAL.value)
_PEOPLE = (employees.c.id, employees.c.name, employees.c.email, employees.c.status)


def _seat_product(tx: Tx, product_id: str) -> str | None:
    """Why a product cannot have seats, or None when it can."""
    product = tx.catalog.find(product_id)
    if product is None or product.kind is not ProductKind.SEAT:
        names = ", ".join(p.id for p in tx.catalog.products if p.kind is ProductKind.SEAT) or "none"
        return f"{product_id} is not a seat product (seat products: {names})"
    return None


# -- seat pools, assign and unassign ------------------------------------------------------


async def pools(tx: Tx) -> list[SeatPool]:
    assigned = (
        select(seats.c.license_id, func.count().label("assigned"))
        .where(seats.c.org_id == tx.org_id)
        .group_by(seats.c.license_id)
        .subquery()
    )
    rows = await tx.conn.execute(
        license_query()
        .add_columns(func.coalesce(assigned.c.assigned, 0).label("assigned"))
        .outerjoin(assigned, assigned.c.license_id == licenses.c.id)
        .where(licenses.c.org_id == tx.org_id, licenses.c.term.in_(SEAT_TERMS))
        .order_by(licenses.c.product_id, licenses.c.id)
    )
    result = []
    for row in rows:
        product = tx.catalog.find(row.product_id)
        term = Term(row.term)
        result.append(SeatPool(
            license_id=row.id, key=row.key, product_id=row.product_id,
            product_name=product.name if product else row.product_id, term=term, bought=row.quantity,
            assigned=row.assigned, term_ends_on=row.term_ends_on,
            live=status_of(term, None, row.term_ends_on, False, tx.today) is not LicenseStatus.TERM_ENDED,
        ))
    return result


async def assign(tx: Tx, request: SeatRequest) -> SeatChange:
    """A seat of the product for each employee, from licenses with free seats; all or none."""
    tx.actor.require(Permission.ASSIGN)
    reason = _seat_product(tx, request.product_id)
    if reason:
        raise ValidationFailed(reason[0].upper() + reason[1:] + ".", {"product_id": reason})
    await lock_seats(tx)
    people = await _people(tx, request.employee_ids)
    holders = await _holders(tx, request.employee_ids, [request.product_id])
    problems = []
    for employee_id in dict.fromkeys(request.employee_ids):
        person = people.get(employee_id)
        if person is None:
            problems.append(f"there is no employee {employee_id} in your organization")
        elif person.status != EmployeeStatus.ACTIVE.value:
            problems.append(f"{person.name} has departed")
        elif (employee_id, request.product_id) in holders:
            problems.append(f"{person.name} already holds a {request.product_id} seat")
    if problems:
        raise Conflict("No seat was assigned: " + "; ".join(problems[:5])
                       + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "") + ".",
                       {"problems": problems[:100]})
    wanted = list(dict.fromkeys(request.employee_ids))
    free = [pool for pool in await pools(tx) if pool.product_id == request.product_id and pool.live and pool.free
            and request.license_id in (None, pool.license_id)]
    available = sum(pool.free for pool in free)
    if available < len(wanted):
        where = f"license {request.license_id}" if request.license_id else f"the {request.product_id} licenses"
        raise SeatsExhausted(
            f"{len(wanted)} seat(s) asked for, {available} free on {where}. Buy more seats or unassign some first.",
            {"asked": len(wanted), "free": available},
        )
    rows = []
    for pool in free:
        taken, wanted = wanted[: pool.free], wanted[pool.free :]
        rows += [{"org_id": tx.org_id, "license_id": pool.license_id, "product_id": request.product_id,
                  "employee_id": employee_id, "assigned_at": tx.now, "version": 1} for employee_id in taken]
    seat_ids = list((await tx.conn.execute(insert(seats).returning(seats.c.id), rows)).scalars())
    await audit.record_many(tx, [
        {"action": "seat.assign", "object_type": "seat", "object_id": seat_id,
         "summary": f"{request.product_id} seat of license {row['license_id']} to {people[row['employee_id']].email}",
         "details": {"product_id": request.product_id, "license_id": row["license_id"], "to": row["employee_id"]}}
        for seat_id, row in zip(seat_ids, rows, strict=True)
    ])
    return SeatChange(product_id=request.product_id, employees=len(rows))


async def unassign(tx: Tx, request: SeatRequest) -> SeatChange:
    """Take back each employee's seat of the product; one who holds none refuses them all."""
    tx.actor.require(Permission.ASSIGN)
    await lock_seats(tx)
    people = await _people(tx, request.employee_ids)
    holders = await _holders(tx, request.employee_ids, [request.product_id])
    wanted = list(dict.fromkeys(request.employee_ids))
    problems = [
        f"there is no employee {employee_id} in your organization" if employee_id not in people
        else f"{people[employee_id].name} holds no {request.product_id} seat"
        for employee_id in wanted if (employee_id, request.product_id) not in holders
    ]
    if problems:
        raise Conflict("No seat was taken back: " + "; ".join(problems[:5]) + ".", {"problems": problems[:100]})
    taken = [holders[(employee_id, request.product_id)] for employee_id in wanted]
    for chunk in chunks([seat.id for seat in taken]):
        await tx.conn.execute(delete(seats).where(seats.c.org_id == tx.org_id, seats.c.id.in_(chunk)))
    await audit.record_many(tx, [
        {"action": "seat.unassign", "object_type": "seat", "object_id": seat.id,
         "summary": f"{request.product_id} seat taken back from {people[seat.employee_id].email}",
         "details": {"product_id": request.product_id, "license_id": seat.license_id, "from": seat.employee_id}}
        for seat in taken
    ])
    return SeatChange(product_id=request.product_id, employees=len(taken))


async def _people(tx: Tx, employee_ids: Sequence[int]) -> dict[int, Any]:
    return await rows_by_id(tx, employee_ids, columns=_PEOPLE)


async def _holders(tx: Tx, employee_ids: Sequence[int], product_ids: Sequence[str]) -> dict[tuple[int, str], Any]:
    """The seats these employees hold, by (employee, product)."""
    found: dict[tuple[int, str], Any] = {}
    query = select(seats.c.id, seats.c.employee_id, seats.c.product_id, seats.c.license_id, seats.c.version)
    if product_ids:
        query = query.where(seats.c.product_id.in_(sorted(set(product_ids))))
    for chunk in chunks(sorted(set(employee_ids))):
        for row in await tx.conn.execute(query.where(seats.c.org_id == tx.org_id, seats.c.employee_id.in_(chunk))):
            found[(row.employee_id, row.product_id)] = row
    return found


# -- batches ------------------------------------------------------------------------------


@dataclass
class _Move:
    index: int
    product_id: str
    giver: Any  # an employee row, or None when unknown
    receiver: Any
    given_from: str
    given_to: str
    seat: Any = None
    problem: str | None = None
    expected_version: int | None = None  # an undo's: the seat as the batch left it

    def planned(self) -> PlannedMove:
        return PlannedMove(
            index=self.index, product_id=self.product_id, seat_id=self.seat.id if self.seat is not None else None,
            from_id=self.giver.id if self.giver is not None else None,
            from_name=self.giver.name if self.giver is not None else "",
            from_email=self.giver.email if self.giver is not None else self.given_from,
            to_id=self.receiver.id if self.receiver is not None else None,
            to_name=self.receiver.name if self.receiver is not None else "",
            to_email=self.receiver.email if self.receiver is not None else self.given_to,
            problem=self.problem,
        )


@dataclass
class _People:
    by_id: dict[int, Any] = field(default_factory=dict)
    by_email: dict[str, Any] = field(default_factory=dict)

    def find(self, employee_id: int | None, email: str | None) -> Any:
        return self.by_id.get(employee_id) if employee_id is not None else self.by_email.get(email or "")


async def _resolve_people(tx: Tx, requests: Sequence[MoveRequest]) -> _People:
    ids = {r.from_id for r in requests} | {r.to_id for r in requests}
    emails = sorted(({r.from_email for r in requests} | {r.to_email for r in requests}) - {None})  # type: ignore[arg-type]
    people = _People(by_id=await _people(tx, [i for i in ids if i is not None]))
    for chunk in chunks(emails):
        for row in await tx.conn.execute(
            select(*_PEOPLE).where(employees.c.org_id == tx.org_id, employees.c.email.in_(chunk))
        ):
            people.by_email[row.email] = row
            people.by_id.setdefault(row.id, row)
    return people


async def _plan(tx: Tx, requests: Sequence[MoveRequest]) -> list[_Move]:
    """Every request as moves of single seats, each with the problem that refuses it, if any."""
    people = await _resolve_people(tx, requests)
    givers = [p.id for r in requests if (p := people.find(r.from_id, r.from_email)) is not None]
    receivers = [p.id for r in requests if (p := people.find(r.to_id, r.to_email)) is not None]
    asked = {r.product_id for r in requests if r.product_id}
    everything = any(r.product_id is None for r in requests)
    held = await _holders(tx, givers + receivers, [] if everything else sorted(asked))
    products_of: dict[int, list[str]] = {}
    for employee_id, product_id in sorted(held):
        products_of.setdefault(employee_id, []).append(product_id)

    moves: list[_Move] = []
    for index, request in enumerate(requests):
        giver = people.find(request.from_id, request.from_email)
        receiver = people.find(request.to_id, request.to_email)
        base = {"index": index, "giver": giver, "receiver": receiver,
                "given_from": request.giver(), "given_to": request.receiver()}
        if request.product_id is not None:
            products = [request.product_id]
        elif giver is not None and products_of.get(giver.id):
            products = products_of[giver.id]
        else:
            reason = (f"{giver.name} holds no seats" if giver is not None
                      else f"there is no employee {request.giver()} in your organization")
            moves.append(_Move(product_id="", problem=reason, **base))
            continue
        moves += [_Move(product_id=product_id, seat=held.get((giver.id, product_id)) if giver else None, **base)
                  for product_id in products]
    _check(tx, moves, held, undoing=False)
    return moves


def _check(tx: Tx, moves: list[_Move], held: dict[tuple[int, str], Any], *, undoing: bool) -> None:
    """Give each move the first rule it breaks. `held` is every seat the batch's people hold."""
    seat_moved_at: dict[int, int] = {}
    received_at: dict[tuple[int, str], int] = {}
    for number, move in enumerate(moves, start=1):
        if move.problem:
            continue
        giver, receiver, product = move.giver, move.receiver, move.product_id
        if giver is None:
            move.problem = f"there is no employee {move.given_from} in your organization"
        elif receiver is None:
            move.problem = f"there is no employee {move.given_to} in your organization"
        elif (reason := _seat_product(tx, product)) is not None:
            move.problem = reason
        elif giver.id == receiver.id:
            move.problem = f"{giver.name} would give a seat to themselves"
        elif move.seat is None:
            move.problem = (f"the {product} seat is no longer {giver.name}'s" if undoing
                            else f"{giver.name} holds no {product} seat")
        elif move.expected_version is not None and move.seat.version != move.expected_version:
            move.problem = f"{giver.name}'s {product} seat was moved again since this batch"
        elif receiver.status != EmployeeStatus.ACTIVE.value and not undoing:
            # Undo gives seats back to whoever held them, departed or not.
            move.problem = f"{receiver.name} has departed"
        elif (receiver.id, product) in held:
            move.problem = f"{receiver.name} already holds a {product} seat"
        elif move.seat.id in seat_moved_at:
            move.problem = f"{giver.name}'s {product} seat is already moved by move {seat_moved_at[move.seat.id]}"
        elif (receiver.id, product) in received_at:
            move.problem = f"{receiver.name} already receives a {product} seat in move {received_at[(receiver.id, product)]}"
        else:
            seat_moved_at[move.seat.id] = number
            received_at[(receiver.id, product)] = number


async def reassign(tx: Tx, requests: Sequence[MoveRequest], *, dry_run: bool) -> BatchOutcome:
    """Check the batch whole; unless it is a dry run, apply every move or refuse them all."""
    tx.actor.require(Permission.ASSIGN)
    if not dry_run:
        await lock_seats(tx)
    moves = await _plan(tx, requests)
    planned = [move.planned() for move in moves]
    if dry_run:
        return BatchOutcome(moves=planned)
    if any(move.problem for move in moves):
        refused = [move for move in planned if move.problem]
        raise BatchRefused(
            f"{len(refused)} of {len(planned)} moves are refused, so none was applied: "
            + "; ".join(f"move {m.index + 1}: {m.problem}" for m in refused[:3])
            + ("; ..." if len(refused) > 3 else "."),
            {"moves": [move.model_dump() for move in refused], "total": len(planned)},
        )
    return await _apply(tx, moves, planned, BatchKind.REASSIGN, undoes=None)


async def _apply(
    tx: Tx, moves: list[_Move], planned: list[PlannedMove], kind: BatchKind, *, undoes: str | None
) -> BatchOutcome:
    batch_id = tx.batch_id or str(uuid.uuid4())
    tx.batch_id = batch_id
    await tx.conn.execute(
        update(seats)
        .where(seats.c.id == bindparam("seat"), seats.c.org_id == tx.org_id)
        .values(employee_id=bindparam("to"), version=seats.c.version + 1, assigned_at=tx.now),
        [{"seat": move.seat.id, "to": move.receiver.id} for move in moves],
    )
    products = dict(sorted(Counter(move.product_id for move in moves).items()))
    row_id = (
        await tx.conn.execute(
            insert(seat_batches).values(
                org_id=tx.org_id, batch_id=batch_id, kind=kind.value, at=tx.now, actor_id=tx.actor.user_id,
                actor=tx.actor.login, move_count=len(moves), products=products, undoes=undoes,
                moves=[[m.seat.id, m.product_id, m.giver.id, m.receiver.id, m.seat.version + 1] for m in moves],
            ).returning(seat_batches.c.id)
        )
    ).scalar_one()
    if undoes is not None:
        await tx.conn.execute(
            update(seat_batches).where(seat_batches.c.org_id == tx.org_id, seat_batches.c.batch_id == undoes)
            .values(undone_by=batch_id)
        )
    verb = "Undid" if kind is BatchKind.UNDO else "Reassigned"
    counts = ", ".join(f"{product} {count}" for product, count in products.items())
    await audit.record(tx, f"seat.batch.{kind.value}", "seat_batch", row_id,
                       f"{verb} {len(moves)} seat(s) ({counts})" + (f", undoing batch {undoes}" if undoes else ""),
                       {"products": products, "undoes": undoes})
    action = f"seat.{kind.value}"
    await audit.record_many(tx, [
        {"action": action, "object_type": "seat", "object_id": move.seat.id,
         "summary": f"{move.product_id} seat from {move.giver.email} to {move.receiver.email}",
         "details": {"product_id": move.product_id, "from": move.giver.id, "to": move.receiver.id}}
        for move in moves
    ])
    return BatchOutcome(batch_id=batch_id, kind=kind, applied=True, undoes=undoes, moves=planned)


async def undo(tx: Tx, batch_id: str) -> BatchOutcome:
    """Apply the inverse batch; refused whole if any of its seats changed since."""
    tx.actor.require(Permission.ASSIGN)
    await lock_seats(tx)
    batch = await _batch_row(tx, batch_id)
    if batch.undone_by:
        raise UndoRefused(f"Batch {batch_id} was undone already, by batch {batch.undone_by}.",
                          {"undone_by": batch.undone_by, "moves": []})
    recorded = batch.moves
    people = await _people(tx, [m[2] for m in recorded] + [m[3] for m in recorded])
    held = await _holders(tx, list(people), sorted({m[1] for m in recorded}))
    seat_now = {row.id: row for row in held.values()}
    moves = []
    for index, (seat_id, product_id, giver_id, receiver_id, version) in enumerate(recorded):
        receiver, giver = people.get(giver_id), people.get(receiver_id)  # inverse: back to the giver
        seat = seat_now.get(seat_id)
        moves.append(_Move(
            index=index, product_id=product_id, giver=giver, receiver=receiver,
            given_from=f"employee {receiver_id}", given_to=f"employee {giver_id}",
            seat=seat if seat is not None and seat.employee_id == receiver_id else None,
            expected_version=version,
        ))
    _check(tx, moves, held, undoing=True)
    planned = [move.planned() for move in moves]
    refused = [move for move in planned if move.problem]
    if refused:
        raise UndoRefused(
            f"Batch {batch_id} cannot be undone: {len(refused)} of its {len(moves)} seats changed since. "
            + "; ".join(move.problem or "" for move in refused[:3]) + ("; ..." if len(refused) > 3 else "."),
            {"moves": [move.model_dump() for move in refused], "total": len(moves)},
        )
    return await _apply(tx, moves, planned, BatchKind.UNDO, undoes=batch_id)


async def _batch_row(tx: Tx, batch_id: str) -> Any:
    row = (
        await tx.conn.execute(
            select(seat_batches).where(seat_batches.c.org_id == tx.org_id, seat_batches.c.batch_id == batch_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"There is no seat batch {batch_id} in your organization.", {"batch_id": batch_id})
    return row


def _batch(row: Any) -> SeatBatch:
    return SeatBatch(batch_id=row.batch_id, kind=BatchKind(row.kind), at=row.at, actor=row.actor,
                     moves=row.move_count, products=row.products or {}, undoes=row.undoes, undone_by=row.undone_by)


async def batch(tx: Tx, batch_id: str) -> SeatBatch:
    return _batch(await _batch_row(tx, batch_id))


async def batches(tx: Tx, *, cursor: str | None, limit: int) -> Page[SeatBatch]:
    columns = [c for c in seat_batches.c if c.name != "moves"]  # the moves can be 50,000 long
    query = select(*columns).where(seat_batches.c.org_id == tx.org_id)
    return await id_cursor_page(tx.conn, query, seat_batches.c.id, cursor, limit, _batch)
