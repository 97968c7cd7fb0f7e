"""Licenses: quote and buy (or start a trial) on an activation key; list, filter and sort them
by the page; read, edit, upgrade, delete (with a refund) and release one from its device."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from seattui.domain.licensing import (
    BatchResult,
    License,
    LicenseBatch,
    LicenseEdit,
    LicenseFacets,
    LicenseFilter,
    LicenseOrder,
    LicensePage,
    LicenseSort,
    LicenseUpgrade,
    MatchingIds,
)
from seattui.domain.pricing import Quote
from seattui.domain.roles import Permission
from seattui.portal.api import (
    BearerToken,
    CurrentActor,
    PathId,
    allowed,
    mutate,
    portal_of,
    read,
    read_as,
)
from seattui.portal.paging import MAX_PAGE
from seattui.portal.services import license_files, licenses

router = APIRouter(tags=["licenses"])
# Trials, edits and free changes need ASSIGN; the services ask for PURCHASE where credits move.
MAY_ASSIGN = allowed(Permission.ASSIGN)
Filter = Annotated[LicenseFilter, Query()]
# The list's own parameters, as fast_path.py validates them too.
PageCursor = Annotated[str | None, Query(max_length=500)]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


@router.post("/licenses/quote")
async def quote(order: LicenseOrder, request: Request, actor: CurrentActor) -> Quote:
    """What the order costs against the balance now. Changes nothing."""
    return await read(request, actor, lambda tx: licenses.quote(tx, order))


@router.post("/licenses", status_code=201, response_model=License, dependencies=[MAY_ASSIGN])
async def create(order: LicenseOrder, request: Request, actor: CurrentActor) -> Response:
    """Create the license and debit its price in one transaction (Idempotency-Key honoured)."""
    # The key that may sign the customer's license file is read first, outside the write.
    signing = await license_files.signer(portal_of(request))
    return await mutate(request, actor, lambda tx: licenses.create(tx, order, signing), status_code=201)


@router.get("/licenses", response_model=LicensePage)
async def list_licenses(
    request: Request,
    token: BearerToken,
    wanted: Filter,
    sort: LicenseSort = LicenseSort.KEY,
    descending: bool = False,
    cursor: PageCursor = None,
    limit: PageLimit = 100,
) -> Response:
    """A page of the organization's licenses, filtered and sorted; `total` on the first page."""
    # Answered by fast_path.py when every parameter is plainly valid (this very function).
    # Written from the rows: building models and validating them again as the response model
    # cost several times the query (services.licenses.license_page_json).
    page = await read_as(request, token, lambda tx: licenses.license_page_json(
        tx, wanted, sort=sort, descending=descending, cursor=cursor, limit=limit),
        point=licenses.page_point_rule(wanted, limit))
    return Response(page, media_type="application/json")


@router.get("/licenses/facets")
async def facets(request: Request, actor: CurrentActor, wanted: Filter) -> LicenseFacets:
    """How many licenses each product, edition, term and status would show under the filter."""
    return await read(request, actor, lambda tx: licenses.facets(tx, wanted))


@router.get("/licenses/ids")
async def matching_ids(request: Request, actor: CurrentActor, wanted: Filter) -> MatchingIds:
    """Every id the filter matches (none when more than a batch's size match), to mark them all."""
    return await read(request, actor, lambda tx: licenses.matching_ids(tx, wanted))


@router.post("/licenses/deletion/quote")
async def quote_deletion(batch: LicenseBatch, request: Request, actor: CurrentActor) -> Quote:
    """What deleting these licenses refunds (a negative cost); refused if one is activated."""
    return await read(request, actor, lambda tx: licenses.quote_deletion(tx, batch))


@router.post("/licenses/deletion", response_model=BatchResult, dependencies=[MAY_ASSIGN])
async def delete_many(batch: LicenseBatch, request: Request, actor: CurrentActor) -> Response:
    """Delete licenses and refund them in one transaction: all of them or none."""
    return await mutate(request, actor, lambda tx: licenses.delete_licenses(tx, batch), batch_id=str(uuid.uuid4()))


@router.get("/licenses/{license_id}")
async def get(license_id: PathId, request: Request, actor: CurrentActor) -> License:
    return await read(request, actor, lambda tx: licenses.get(tx, license_id))


@router.patch("/licenses/{license_id}", response_model=License, dependencies=[MAY_ASSIGN])
async def edit(license_id: PathId, changes: LicenseEdit, request: Request, actor: CurrentActor) -> Response:
    """The customer's email and the comment."""
    signing = await license_files.signer(portal_of(request))
    return await mutate(request, actor, lambda tx: licenses.edit(tx, license_id, changes, signing))


@router.delete("/licenses/{license_id}", response_model=BatchResult, dependencies=[MAY_ASSIGN])
async def delete_one(license_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """Delete one license and refund what it cost; refused while it is activated on a device."""
    batch = LicenseBatch(license_ids=[license_id])
    return await mutate(request, actor, lambda tx: licenses.delete_licenses(tx, batch), batch_id=str(uuid.uuid4()))


@router.post("/licenses/{license_id}/upgrade/quote")
async def quote_upgrade(license_id: PathId, wanted: LicenseUpgrade, request: Request, actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: licenses.quote_upgrade(tx, license_id, wanted))


@router.post("/licenses/{license_id}/upgrade", response_model=License, dependencies=[MAY_ASSIGN])
async def upgrade(license_id: PathId, wanted: LicenseUpgrade, request: Request, actor: CurrentActor) -> Response:
    """Upgrade and pay the difference in one transaction (Idempotency-Key honoured)."""
    return await mutate(request, actor, lambda tx: licenses.upgrade(tx, license_id, wanted))


@router.post("/licenses/{license_id}/deactivation", response_model=License,
             dependencies=[allowed(Permission.RELEASE_DEVICES)])
async def release_device(license_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """An admin forces the license off its device."""
    return await mutate(request, actor, lambda tx: licenses.release_device(tx, license_id))
