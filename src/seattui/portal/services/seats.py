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

from sqlalchemy import and_, delete, func, insert, or_, select, update

from seattui.domain.catalog import ProductKind
from seattui.domain.errors import BatchRefused, Conflict, NotFound, SeatsExhausted, UndoRefused, ValidationFailed
from seattui.domain.licensing import LicenseStatus, Term
from seattui.domain.paging import Page
from seattui.domain.people import EmployeeStatus
from seattui.domain.roles import Permission
from seattui.domain.seating import (
    BatchMove,
    BatchKind,
    BatchOutcome,
    MoveRequest,
    SeatBatch,
    SeatChange,
    SeatPool,
    SeatRequest,
)
from seattui.portal.context import Tx
from seattui.portal.paging import check_limit, decode_cursor, encode_cursor, id_cursor_page
from seattui.portal.services import audit
from seattui.portal.queries.employees import lock_seats, rows_by_id
from seattui.portal.queries.licenses import license_query, status_of
from seattui.portal.store.sets import among, custom_plans
from seattui.portal.store.tables import employees, licenses, seat_batches, seat_intervals, seats

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
        .where(licenses.c.org_id == tx.org_id,
               or_(licenses.c.term.in_(SEAT_TERMS),
                   and_(licenses.c.term == Term.TRIAL.value, licenses.c.product_id.in_(_seat_products(tx)))))
        .order_by(licenses.c.product_id, licenses.c.id)
    )
    result = []
    for row in rows:
        product = tx.catalog.find(row.product_id)
        term = Term(row.term)
        status = status_of(term, row.trial_ends_on, row.term_ends_on, False, tx.today)
        result.append(SeatPool(
            license_id=row.id, key=row.key, product_id=row.product_id,
            product_name=product.name if product else row.product_id, term=term, bought=row.quantity,
            assigned=row.assigned, term_ends_on=row.term_ends_on or row.trial_ends_on,
            live=status not in (LicenseStatus.TERM_ENDED, LicenseStatus.TRIAL_ENDED),
        ))
    return result


def _seat_products(tx: Tx) -> list[str]:
    return [product.id for product in tx.catalog.products if product.kind is ProductKind.SEAT]


def _how_to_raise(pools: Sequence[SeatPool]) -> str:
    """What to run to get more seats on these licenses: the command that raises each limit."""
    ways = []
    for pool in pools:
        if pool.term is Term.FLEXIBLE:
            ways.append(f"raise the cap of the flexible plan (license {pool.license_id}, cap {pool.bought}) with "
                        f"`seattui subscription cap {pool.license_id} N`")
        elif pool.term is Term.ANNUAL:
            ways.append(f"add seats to the annual contract (license {pool.license_id}, {pool.bought} seats) with "
                        f"`seattui subscription seats {pool.license_id} +N`")
    return "; or ".join(ways[:3]) or "buy a seat plan in the wizard (g a)"


async def assign(tx: Tx, request: SeatRequest) -> SeatChange:
    """A seat of the product for each employee, from licenses with free seats; all or none."""
    tx.actor.require(Permission.ASSIGN)
    reason = _seat_product(tx, request.product_id)
    if reason:
        raise ValidationFailed(reason[0].upper() + reason[1:] + ".", {"product_id": reason})
    await lock_seats(tx)
    async with custom_plans(tx.conn):
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
    eligible = [pool for pool in await pools(tx) if pool.product_id == request.product_id and pool.live
                and request.license_id in (None, pool.license_id)]
    free = [pool for pool in eligible if pool.free]
    available = sum(pool.free for pool in free)
    if available < len(wanted):
        where = f"license {request.license_id}" if request.license_id else f"the {request.product_id} licenses"
        raise SeatsExhausted(
            f"{len(wanted)} seat(s) asked for, {available} free on {where}: {_how_to_raise(eligible)}, "
            "or take seats back first.",
            {"asked": len(wanted), "free": available,
             "caps": {str(pool.license_id): pool.bought for pool in eligible}},
        )
    rows = []
    for pool in free:
        taken, wanted = wanted[: pool.free], wanted[pool.free :]
        rows += [{"org_id": tx.org_id, "license_id": pool.license_id, "product_id": request.product_id,
                  "employee_id": employee_id, "assigned_at": tx.now} for employee_id in taken]
    seat_ids = list((await tx.conn.execute(insert(seats).returning(seats.c.id), rows)).scalars())
    # Seat-days are billed from these (flexible plans), and kept when the seat is taken back.
    await tx.conn.execute(insert(seat_intervals), [
        {"org_id": tx.org_id, "license_id": row["license_id"], "seat_id": seat_id, "started_on": tx.today}
        for seat_id, row in zip(seat_ids, rows, strict=True)
    ])
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
    async with custom_plans(tx.conn):
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
    async with custom_plans(tx.conn):
        await tx.conn.execute(delete(seats).where(seats.c.org_id == tx.org_id,
                                                  among(tx.conn, seats.c.id, [seat.id for seat in taken])))
        await tx.conn.execute(update(seat_intervals).where(
            seat_intervals.c.org_id == tx.org_id, among(tx.conn, seat_intervals.c.seat_id, [seat.id for seat in taken]),
            seat_intervals.c.ended_on.is_(None)).values(ended_on=tx.today))
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
    query = select(seats.c.id, seats.c.employee_id, seats.c.product_id, seats.c.license_id, seats.c.last_batch).where(
        seats.c.org_id == tx.org_id, among(tx.conn, seats.c.employee_id, set(employee_ids)))
    if product_ids:
        query = query.where(seats.c.product_id.in_(sorted(set(product_ids))))
    return {(row.employee_id, row.product_id): row for row in await tx.conn.execute(query)}


# -- batches ------------------------------------------------------------------------------
#
# Applying a batch is checked set-wise first: when every move names its people by id and its
# product, a few counts tell whether every giver holds the seat and every receiver is an
# active employee holding none; then one executemany moves them all. Anything else takes the
# slow path that checks each move and says why each refused one is refused. Everything runs
# under the organization's seat lock, so nothing changes between the check and the moves.

Triple = tuple[str, int, int]  # product, giver, receiver


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

    def planned(self) -> dict[str, Any]:
        """The move as a PlannedMove's fields: a batch of 10,000 is validated in one call."""
        giver, receiver = self.giver, self.receiver
        return {
            "index": self.index, "product_id": self.product_id,
            "seat_id": self.seat.id if self.seat is not None else None,
            "from_id": giver.id if giver is not None else None,
            "from_name": giver.name if giver is not None else "",
            "from_email": giver.email if giver is not None else self.given_from,
            "to_id": receiver.id if receiver is not None else None,
            "to_name": receiver.name if receiver is not None else "",
            "to_email": receiver.email if receiver is not None else self.given_to,
            "problem": self.problem,
        }

    def triple(self) -> Triple:
        return self.product_id, self.giver.id, self.receiver.id


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
    if emails:
        for row in await tx.conn.execute(
            select(*_PEOPLE).where(employees.c.org_id == tx.org_id, among(tx.conn, employees.c.email, emails))
        ):
            people.by_email[row.email] = row
            people.by_id.setdefault(row.id, row)
    return people


async def _plan(tx: Tx, requests: Sequence[MoveRequest], people: _People | None = None) -> list[_Move]:
    """Every request as moves of single seats, each with the problem that refuses it, if any."""
    if people is None:
        people = await _resolve_people(tx, requests)
    givers = [p.id for r in requests if (p := people.find(r.from_id, r.from_email)) is not None]
    receivers = [p.id for r in requests if (p := people.find(r.to_id, r.to_email)) is not None]
    asked = {r.product_id for r in requests if r.product_id}
    everything = any(not r.product_id for r in requests)
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
        if unnamed := request.unnamed():
            moves.append(_Move(product_id=request.product_id or "", problem=unnamed, **base))
        elif request.product_id:
            moves.append(_Move(product_id=request.product_id, seat=held.get((giver.id, request.product_id))
                               if giver else None, **base))
        elif giver is not None and products_of.get(giver.id):
            moves += [_Move(product_id=product_id, seat=held[(giver.id, product_id)], **base)
                      for product_id in products_of[giver.id]]
        else:
            reason = (f"{giver.name} holds no seats" if giver is not None
                      else f"there is no employee {request.giver()} in your organization")
            moves.append(_Move(product_id="", problem=reason, **base))
    _check(tx, moves, held)
    return moves


def _check(tx: Tx, moves: list[_Move], held: dict[tuple[int, str], Any]) -> None:
    """Give each move the first rule it breaks. `held` is every seat the batch's people hold."""
    seat_moved_at: dict[int, int] = {}
    received_at: dict[tuple[int, str], int] = {}
    not_seat_product = {product: _seat_product(tx, product) for product in {move.product_id for move in moves}}
    for number, move in enumerate(moves, start=1):
        if move.problem:
            continue
        giver, receiver, product = move.giver, move.receiver, move.product_id
        if giver is None:
            move.problem = f"there is no employee {move.given_from} in your organization"
        elif receiver is None:
            move.problem = f"there is no employee {move.given_to} in your organization"
        elif (reason := not_seat_product[product]) is not None:
            move.problem = reason
        elif giver.id == receiver.id:
            move.problem = f"{giver.name} would give a seat to themselves"
        elif move.seat is None:
            move.problem = f"{giver.name} holds no {product} seat"
        elif receiver.status != EmployeeStatus.ACTIVE.value:
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


def _direct(tx: Tx, requests: Sequence[MoveRequest], people: _People | None = None) -> list[Triple] | None:
    """The moves as they stand, if the store's guards alone can check them: ids (or emails
    that `people` found) and a seat product on every move, each seat and each receiver once,
    nobody on both sides."""
    by_email = people.by_email if people is not None else {}
    triples: list[Triple] = []
    for request in requests:
        giver = request.from_id if request.from_id is not None else getattr(by_email.get(request.from_email), "id", None)
        receiver = request.to_id if request.to_id is not None else getattr(by_email.get(request.to_email), "id", None)
        if giver is None or receiver is None or not request.product_id:
            return None
        triples.append((request.product_id, giver, receiver))
    givers = {(product, giver) for product, giver, _ in triples}
    receivers = {(product, receiver) for product, _, receiver in triples}
    if len(givers) != len(triples) or len(receivers) != len(triples) or givers & receivers:
        return None
    if any(_seat_product(tx, product) for product in {product for product, _, _ in triples}):
        return None
    return triples


async def _guards_hold(tx: Tx, triples: list[Triple], *, receivers_active: bool,
                       guard_batch: str | None = None) -> bool:
    """Every giver holds the product's seat (undoing: still as `guard_batch` left it), every
    receiver is one of the organization's (active) employees and holds none."""
    receivers = {receiver for _, _, receiver in triples}
    known = select(func.count()).where(employees.c.org_id == tx.org_id, among(tx.conn, employees.c.id, receivers))
    if receivers_active:
        known = known.where(employees.c.status == EmployeeStatus.ACTIVE.value)
    if await tx.conn.scalar(known) != len(receivers):
        return False
    for product in sorted({product for product, _, _ in triples}):
        givers = [giver for p, giver, _ in triples if p == product]
        takers = [receiver for p, _, receiver in triples if p == product]
        seats_of = select(func.count()).where(seats.c.org_id == tx.org_id, seats.c.product_id == product)
        held = seats_of.where(among(tx.conn, seats.c.employee_id, givers))
        if guard_batch is not None:
            held = held.where(seats.c.last_batch == guard_batch)
        if await tx.conn.scalar(held) != len(givers):
            return False
        if await tx.conn.scalar(seats_of.where(among(tx.conn, seats.c.employee_id, takers))):
            return False
    return True


async def _move(tx: Tx, triples: list[Triple], batch_id: str) -> None:
    """Move every seat, once _guards_hold said they may; the count is a last check."""
    # Plain driver parameters: SQLAlchemy's processing of 10,000 parameter sets would take
    # longer than the database's work. The statement is this one, nothing else.
    dialect = tx.conn.dialect
    numbered = iter(range(1, 99))
    mark = (lambda: "?") if dialect.paramstyle == "qmark" else (lambda: f"${next(numbered)}")
    statement = (f"UPDATE seats SET employee_id = {mark()}, last_batch = {mark()}, assigned_at = {mark()} "
                 f"WHERE org_id = {mark()} AND product_id = {mark()} AND employee_id = {mark()}")
    assigned_at = seats.c.assigned_at.type.bind_processor(dialect)(tx.now)  # type: ignore[misc]
    await tx.conn.exec_driver_sql(
        statement, [(receiver, batch_id, assigned_at, tx.org_id, product, giver) for product, giver, receiver in triples])
    moved = await tx.conn.scalar(
        select(func.count()).where(seats.c.org_id == tx.org_id, seats.c.last_batch == batch_id))
    if moved != len(triples):  # the whole transaction rolls back
        raise Conflict("The seats changed while the batch was being applied; nothing was moved. Try again.")


async def reassign(tx: Tx, requests: Sequence[MoveRequest], *, dry_run: bool) -> BatchOutcome:
    """Check the batch whole; unless it is a dry run, apply every move or refuse them all."""
    tx.actor.require(Permission.ASSIGN)
    if dry_run:
        async with custom_plans(tx.conn):
            moves = await _plan(tx, requests)
        passing = [move.product_id for move in moves if not move.problem]
        return BatchOutcome.model_validate({"count": len(passing), "products": _per_product(passing),
                                            "moves": [move.planned() for move in moves]})
    await lock_seats(tx)
    batch_id = tx.batch_id = tx.batch_id or str(uuid.uuid4())
    direct = _direct(tx, requests)
    async with custom_plans(tx.conn):
        people = None
        if direct is None and all(request.product_id for request in requests):
            # Named by email (a plan file): found in one query, then checked set-wise too.
            people = await _resolve_people(tx, requests)
            direct = _direct(tx, requests, people)
        checked = direct is not None and await _guards_hold(tx, direct, receivers_active=True)
        moves = [] if checked else await _plan(tx, requests, people)
    if direct is not None and checked:
        await _move(tx, direct, batch_id)
        return await _record(tx, direct, BatchKind.REASSIGN)
    refused = [move.planned() for move in moves if move.problem]
    if refused:
        raise BatchRefused(
            f"{len(refused)} of {len(moves)} moves are refused, so none was applied: "
            + "; ".join(f"move {m['index'] + 1}: {m['problem']}" for m in refused[:3])
            + ("; ..." if len(refused) > 3 else "."),
            {"moves": refused, "total": len(moves)},
        )
    triples = [move.triple() for move in moves]
    await _move(tx, triples, batch_id)
    return await _record(tx, triples, BatchKind.REASSIGN)


def _per_product(products: Sequence[str]) -> dict[str, int]:
    return dict(sorted(Counter(products).items()))


async def _record(tx: Tx, triples: list[Triple], kind: BatchKind, *, undoes: str | None = None) -> BatchOutcome:
    """The batch row (what undoing it needs) and its audit entry: one for the batch, since
    its moves are in the batch row and 10,000 audit rows would cost more than the moves."""
    batch_id = tx.batch_id or ""
    products = _per_product([product for product, _, _ in triples])
    row_id = (
        await tx.conn.execute(
            insert(seat_batches).values(
                org_id=tx.org_id, batch_id=batch_id, kind=kind.value, at=tx.now, actor_id=tx.actor.user_id,
                actor=tx.actor.login, move_count=len(triples), products=products, undoes=undoes,
                moves=triples,
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
    await audit.record(tx, f"seat.{kind.value}", "seat_batch", row_id,
                       f"{verb} {len(triples)} seat(s) ({counts})" + (f", undoing batch {undoes}" if undoes else ""),
                       {"moves": len(triples), "products": products, "undoes": undoes})
    return BatchOutcome(batch_id=batch_id, kind=kind, applied=True, undoes=undoes, count=len(triples),
                        products=products)


async def undo(tx: Tx, batch_id: str) -> BatchOutcome:
    """Apply the inverse batch; refused whole if any of its seats changed since. Seats go back
    to whoever held them, departed or not."""
    tx.actor.require(Permission.ASSIGN)
    await lock_seats(tx)
    batch = await _batch_row(tx, batch_id)
    if batch.undone_by:
        raise UndoRefused(f"Batch {batch_id} was undone already, by batch {batch.undone_by}.",
                          {"undone_by": batch.undone_by, "moves": []})
    inverse: list[Triple] = [(product, receiver, giver) for product, giver, receiver in batch.moves]
    tx.batch_id = tx.batch_id or str(uuid.uuid4())
    async with custom_plans(tx.conn):
        checked = await _guards_hold(tx, inverse, receivers_active=False, guard_batch=batch_id)
        refused = [] if checked else await _why_not_undone(tx, inverse, batch_id)
    if checked:
        await _move(tx, inverse, tx.batch_id)
        return await _record(tx, inverse, BatchKind.UNDO, undoes=batch_id)
    raise UndoRefused(
        f"Batch {batch_id} cannot be undone: {len(refused)} of its {len(inverse)} seats changed since. "
        + "; ".join(move["problem"] for move in refused[:3]) + ("; ..." if len(refused) > 3 else "."),
        {"moves": refused, "total": len(inverse)},
    )


async def _why_not_undone(tx: Tx, inverse: list[Triple], batch_id: str) -> list[dict[str, Any]]:
    people = await _people(tx, [giver for _, giver, _ in inverse] + [receiver for _, _, receiver in inverse])
    held = await _holders(tx, list(people), sorted({product for product, _, _ in inverse}))
    refused = []
    for index, (product, holder, owner) in enumerate(inverse):
        move = _Move(index=index, product_id=product, giver=people.get(holder), receiver=people.get(owner),
                     given_from=f"employee {holder}", given_to=f"employee {owner}", seat=held.get((holder, product)))
        holder_name = move.giver.name if move.giver is not None else f"employee {holder}"
        if move.seat is None:
            move.problem = f"the {product} seat is no longer {holder_name}'s"
        elif move.seat.last_batch != batch_id:
            move.problem = f"{holder_name}'s {product} seat was moved again since this batch"
        elif (owner, product) in held:
            owner_name = move.receiver.name if move.receiver is not None else f"employee {owner}"
            move.problem = f"{owner_name} holds another {product} seat now"
        else:
            continue
        refused.append(move.planned())
    return refused


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


async def batch_moves(tx: Tx, batch_id: str, *, cursor: str | None, limit: int) -> Page[BatchMove]:
    """The moves of an applied batch, in the order they were applied, with the people's names.
    The moves are one stored list (undo needs them whole); a page is a slice of it, its cursor
    the position after the slice, and the names are looked up for that page only."""
    check_limit(limit)
    start = 0
    if cursor:
        values = decode_cursor(cursor)
        if len(values) != 1 or not isinstance(values[0], int) or values[0] < 0:
            raise ValidationFailed("The page cursor is not valid; start again.", {"cursor": "invalid"})
        start = values[0]
    row = await _batch_row(tx, batch_id)
    moves = row.moves or []
    shown = moves[start:start + limit]
    people = await rows_by_id(tx, {person for _, giver, receiver in shown for person in (giver, receiver)},
                              columns=[employees.c.id, employees.c.name, employees.c.email])

    def named(product: str, giver: int, receiver: int) -> BatchMove:
        source, target = people.get(giver), people.get(receiver)
        return BatchMove(product_id=product, from_id=giver, to_id=receiver,
                         from_name=source.name if source else "", from_email=source.email if source else "",
                         to_name=target.name if target else "", to_email=target.email if target else "")

    end = start + len(shown)
    return Page[BatchMove](items=[named(*move) for move in shown],
                           next_cursor=encode_cursor([end]) if end < len(moves) else None,
                           total=len(moves) if not cursor else None)


async def batches(tx: Tx, *, cursor: str | None, limit: int) -> Page[SeatBatch]:
    columns = [c for c in seat_batches.c if c.name != "moves"]  # the moves can be 50,000 long
    query = select(*columns).where(seat_batches.c.org_id == tx.org_id)
    return await id_cursor_page(tx.conn, query, seat_batches.c.id, cursor, limit, _batch)
