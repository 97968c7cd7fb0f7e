"""Subscriptions by channels: quote, start, read, resize."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seattui.domain.licensing import Subscription, SubscriptionChange, SubscriptionOrder
from seattui.domain.pricing import Quote
from seattui.domain.roles import Permission
from seattui.portal.api import CurrentActor, PathId, allowed, mutate, read
from seattui.portal.services import subscriptions

router = APIRouter(tags=["subscriptions"])


@router.post("/subscriptions/quote")
async def quote(order: SubscriptionOrder, request: Request, actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: subscriptions.quote(tx, order))


@router.post("/subscriptions", status_code=201, response_model=Subscription,
             dependencies=[allowed(Permission.PURCHASE)])
async def create(order: SubscriptionOrder, request: Request, actor: CurrentActor) -> Response:
    """Start the subscription and pay its first month in one transaction (Idempotency-Key honoured)."""
    return await mutate(request, actor, lambda tx: subscriptions.create(tx, order), status_code=201)


@router.get("/subscriptions/{subscription_id}")
async def get(subscription_id: PathId, request: Request, actor: CurrentActor) -> Subscription:
    return await read(request, actor, lambda tx: subscriptions.get(tx, subscription_id))


@router.post("/subscriptions/{subscription_id}/channels/quote")
async def quote_change(
    subscription_id: PathId, change: SubscriptionChange, request: Request, actor: CurrentActor
) -> Quote:
    """What changing the channels costs now: added channels their share of the paid month. Changes nothing."""
    return await read(request, actor, lambda tx: subscriptions.quote_change(tx, subscription_id, change))


@router.post("/subscriptions/{subscription_id}/channels", response_model=Subscription,
             dependencies=[allowed(Permission.PURCHASE)])
async def change(subscription_id: PathId, change: SubscriptionChange, request: Request, actor: CurrentActor) -> Response:
    """Resize: more channels are charged prorated; fewer take effect at once, with no refund."""
    return await mutate(request, actor, lambda tx: subscriptions.change(tx, subscription_id, change))
