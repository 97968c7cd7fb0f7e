"""Subscriptions by channels: quote, start, read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seattui.domain.licensing import Subscription, SubscriptionOrder
from seattui.domain.pricing import Quote
from seattui.portal.api import CurrentActor, mutate, read
from seattui.portal.services import subscriptions

router = APIRouter(tags=["subscriptions"])


@router.post("/subscriptions/quote")
async def quote(order: SubscriptionOrder, request: Request, actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: subscriptions.quote(tx, order))


@router.post("/subscriptions", status_code=201, response_model=Subscription)
async def create(order: SubscriptionOrder, request: Request, actor: CurrentActor) -> Response:
    """Start the subscription and pay its first month in one transaction (Idempotency-Key honoured)."""
    return await mutate(request, actor, lambda tx: subscriptions.create(tx, order), status_code=201)


@router.get("/subscriptions/{subscription_id}")
async def get(subscription_id: int, request: Request, actor: CurrentActor) -> Subscription:
    return await read(request, actor, lambda tx: subscriptions.get(tx, subscription_id))
