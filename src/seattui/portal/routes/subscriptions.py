"""Subscriptions: channel subscriptions (quote, start, read, resize, cancel) and seat plans
(a flexible plan's cap, an annual contract's seats and renewal, a trial's conversion), and the
list of both. Every change has its quote, which changes nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seattui.domain.licensing import License, Subscription, SubscriptionChange, SubscriptionOrder
from seattui.domain.pricing import Quote
from seattui.domain.roles import Permission
from seattui.domain.seat_plans import (
    Cancellation,
    CapChange,
    PlanConversion,
    RenewalChange,
    SeatAddition,
    SubscriptionSummary,
)
from seattui.portal.api import CurrentActor, PathId, allowed, mutate, portal_of, read
from seattui.portal.services import license_files, seat_plans, subscriptions

router = APIRouter(tags=["subscriptions"])
MAY_PURCHASE = allowed(Permission.PURCHASE)


@router.get("/subscriptions")
async def list_all(request: Request, actor: CurrentActor) -> list[SubscriptionSummary]:
    """Every seat plan (kind `seats`, id: the license's) and channel subscription (kind `channels`)."""
    return await read(request, actor, seat_plans.summaries)


@router.post("/subscriptions/quote")
async def quote(order: SubscriptionOrder, request: Request, actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: subscriptions.quote(tx, order))


@router.post("/subscriptions", status_code=201, response_model=Subscription, dependencies=[MAY_PURCHASE])
async def create(order: SubscriptionOrder, request: Request, actor: CurrentActor) -> Response:
    """Start the subscription and pay its first month in one transaction (Idempotency-Key honoured)."""
    signing = await license_files.signer(portal_of(request))  # for the customer's license file
    return await mutate(request, actor, lambda tx: subscriptions.create(tx, order, signing), status_code=201)


@router.get("/subscriptions/{subscription_id}")
async def get(subscription_id: PathId, request: Request, actor: CurrentActor) -> Subscription:
    return await read(request, actor, lambda tx: subscriptions.get(tx, subscription_id))


@router.post("/subscriptions/{subscription_id}/channels/quote")
async def quote_change(
    subscription_id: PathId, change: SubscriptionChange, request: Request, actor: CurrentActor
) -> Quote:
    """What changing the channels costs now: added channels their share of the paid month. Changes nothing."""
    return await read(request, actor, lambda tx: subscriptions.quote_change(tx, subscription_id, change))


@router.post("/subscriptions/{subscription_id}/channels", response_model=Subscription, dependencies=[MAY_PURCHASE])
async def change(subscription_id: PathId, change: SubscriptionChange, request: Request, actor: CurrentActor) -> Response:
    """Resize: more channels are charged prorated; fewer take effect at once, with no refund."""
    return await mutate(request, actor, lambda tx: subscriptions.change(tx, subscription_id, change))


@router.post("/subscriptions/{subscription_id}/cancel/quote")
async def quote_cancel(subscription_id: PathId, cancellation: Cancellation, request: Request,
                       actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: subscriptions.quote_cancel(tx, subscription_id, cancellation))


@router.post("/subscriptions/{subscription_id}/cancel", response_model=Subscription, dependencies=[MAY_PURCHASE])
async def cancel(subscription_id: PathId, cancellation: Cancellation, request: Request, actor: CurrentActor) -> Response:
    """At the end of the paid month, or at once (`at_once`); nothing is refunded."""
    return await mutate(request, actor, lambda tx: subscriptions.cancel(tx, subscription_id, cancellation))


# -- seat plans (licenses of seat products) ------------------------------------------------------

@router.post("/seat-plans/{license_id}/cap/quote")
async def quote_cap(license_id: PathId, change: CapChange, request: Request, actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: seat_plans.quote_cap(tx, license_id, change))


@router.post("/seat-plans/{license_id}/cap", response_model=License, dependencies=[MAY_PURCHASE])
async def set_cap(license_id: PathId, change: CapChange, request: Request, actor: CurrentActor) -> Response:
    """A flexible plan's purchase cap: never below the seats assigned, at most the catalog's maximum."""
    return await mutate(request, actor, lambda tx: seat_plans.set_cap(tx, license_id, change))


@router.post("/seat-plans/{license_id}/seats/quote")
async def quote_seats(license_id: PathId, addition: SeatAddition, request: Request, actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: seat_plans.quote_seats(tx, license_id, addition))


@router.post("/seat-plans/{license_id}/seats", response_model=License, dependencies=[MAY_PURCHASE])
async def add_seats(license_id: PathId, addition: SeatAddition, request: Request, actor: CurrentActor) -> Response:
    """Seats added to an annual contract, charged now for the rest of the term; never refunded."""
    return await mutate(request, actor, lambda tx: seat_plans.add_seats(tx, license_id, addition))


@router.post("/seat-plans/{license_id}/renewal/quote")
async def quote_renewal(license_id: PathId, change: RenewalChange, request: Request, actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: seat_plans.quote_renewal(tx, license_id, change))


@router.post("/seat-plans/{license_id}/renewal", response_model=License, dependencies=[MAY_PURCHASE])
async def set_renewal(license_id: PathId, change: RenewalChange, request: Request, actor: CurrentActor) -> Response:
    """What the annual contract does on its renewal date: same, assigned or end."""
    return await mutate(request, actor, lambda tx: seat_plans.set_renewal(tx, license_id, change))


@router.post("/seat-plans/{license_id}/conversion/quote")
async def quote_conversion(license_id: PathId, conversion: PlanConversion, request: Request,
                           actor: CurrentActor) -> Quote:
    return await read(request, actor, lambda tx: seat_plans.quote_conversion(tx, license_id, conversion))


@router.post("/seat-plans/{license_id}/conversion", response_model=License, dependencies=[MAY_PURCHASE])
async def convert(license_id: PathId, conversion: PlanConversion, request: Request, actor: CurrentActor) -> Response:
    """A seat trial becomes a flexible plan or an annual contract."""
    return await mutate(request, actor, lambda tx: seat_plans.convert(tx, license_id, conversion))
