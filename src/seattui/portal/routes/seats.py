"""Seats: pools per license, assign and unassign, batches of moves (checked or applied whole), undo."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from seattui.domain.paging import Page
from seattui.domain.seating import (
    BatchMove, BatchOutcome, ReassignRequest, SeatBatch, SeatChange, SeatPool, SeatRequest,
)
from seattui.domain.base import PlainText
from seattui.domain.roles import Permission
from seattui.portal.api import CurrentActor, allowed, mutate, read
from seattui.portal.services import seats

router = APIRouter(tags=["seats"])
BatchId = Annotated[PlainText, Path(max_length=36)]
MAY_ASSIGN = allowed(Permission.ASSIGN)


@router.get("/seats/pools")
async def pools(request: Request, actor: CurrentActor) -> list[SeatPool]:
    """Each seat license: seats bought and assigned."""
    return await read(request, actor, seats.pools)


@router.post("/seats", status_code=201, response_model=SeatChange, dependencies=[MAY_ASSIGN])
async def assign(wanted: SeatRequest, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: seats.assign(tx, wanted), status_code=201)


@router.post("/seats/unassign", response_model=SeatChange, dependencies=[MAY_ASSIGN])
async def unassign(wanted: SeatRequest, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: seats.unassign(tx, wanted))


@router.post("/seat-batches", status_code=201, response_model=BatchOutcome, dependencies=[MAY_ASSIGN])
async def reassign(batch: ReassignRequest, request: Request, actor: CurrentActor) -> Response:
    """Check a batch of moves whole (dry_run: changes nothing, answers 200) or apply it in one
    transaction: every move, or none and 409 batch_refused with each refused move's reason."""
    if batch.dry_run:
        outcome = await read(request, actor, lambda tx: seats.reassign(tx, batch.moves, dry_run=True))
        return Response(outcome.model_dump_json(), media_type="application/json")
    return await mutate(request, actor, lambda tx: seats.reassign(tx, batch.moves, dry_run=False),
                        status_code=201, batch_id=str(uuid.uuid4()))


@router.get("/seat-batches")
async def batches(
    request: Request, actor: CurrentActor, cursor: str | None = None, limit: int = Query(50, ge=1, le=500)
) -> Page[SeatBatch]:
    """Applied batches, newest first."""
    return await read(request, actor, lambda tx: seats.batches(tx, cursor=cursor, limit=limit))


@router.get("/seat-batches/{batch_id}")
async def batch(batch_id: BatchId, request: Request, actor: CurrentActor) -> SeatBatch:
    return await read(request, actor, lambda tx: seats.batch(tx, batch_id))


@router.get("/seat-batches/{batch_id}/moves")
async def batch_moves(
    batch_id: BatchId, request: Request, actor: CurrentActor,
    cursor: str | None = None, limit: int = Query(200, ge=1, le=500),
) -> Page[BatchMove]:
    """The batch's moves in the order applied, with each giver's and receiver's name and email."""
    return await read(request, actor, lambda tx: seats.batch_moves(tx, batch_id, cursor=cursor, limit=limit))


@router.post("/seat-batches/{batch_id}/undo", status_code=201, response_model=BatchOutcome,
             dependencies=[MAY_ASSIGN])
async def undo(batch_id: BatchId, request: Request, actor: CurrentActor) -> Response:
    """Apply the inverse batch; 409 undo_refused if any of the batch's seats changed since."""
    return await mutate(request, actor, lambda tx: seats.undo(tx, batch_id), status_code=201,
                        batch_id=str(uuid.uuid4()))
