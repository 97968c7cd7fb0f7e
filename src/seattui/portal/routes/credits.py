from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from seattui.domain.credits import CreditBalance, CreditGrant, LedgerEntry, LedgerFilter
from seattui.domain.paging import Page
from seattui.domain.roles import Permission
from seattui.portal.api import (
    BearerToken,
    CurrentActor,
    PathId,
    allowed,
    answer,
    mutate,
    read,
    read_as,
)
from seattui.portal.services import credits

router = APIRouter(tags=["credits"])


# Answered by fast_path.py (the same call and answer); declared here for the OpenAPI document.
@router.get("/credits/balance", response_model=CreditBalance)
async def balance(request: Request, token: BearerToken) -> Response:
    return answer(await read_as(request, token, credits.balance, point=True, with_actor=credits.BALANCE_WITH_ACTOR))


@router.get("/credits/ledger")
async def ledger(
    request: Request,
    actor: CurrentActor,
    wanted: Annotated[LedgerFilter, Query()],
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=500),
) -> Page[LedgerEntry]:
    """Ledger entries newest first: on the days `since` to `until` (UTC, both included), of
    one `reason`, with `q` in the memo or the login who posted them."""
    return await read(request, actor, lambda tx: credits.ledger(tx, cursor=cursor, limit=limit, wanted=wanted))


@router.post("/organizations/{org_id}/credit-grants", status_code=201, response_model=LedgerEntry,
             dependencies=[allowed(Permission.GRANT_CREDITS)])
async def grant(org_id: PathId, body: CreditGrant, request: Request, actor: CurrentActor) -> Response:
    """Vendor only: add credits to one of the vendor's reseller organizations."""
    return await mutate(request, actor, lambda tx: credits.grant(tx, org_id, body), status_code=201)
