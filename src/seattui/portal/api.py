"""What every route uses: the running portal, the caller, and transactions that honour
`Idempotency-Key` so a retried request returns the first result and charges nothing twice."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.base import MAX_RECORD_ID
from seattui.domain.errors import (
    IdempotencyKeyReused,
    Unauthenticated,
    ValidationFailed,
)
from seattui.domain.roles import Permission
from seattui.domain.text import control_characters, describe
from seattui.portal import customer_access
from seattui.portal.context import Actor, Tx
from seattui.portal.observability import route_of
from seattui.portal.runtime import Portal
from seattui.portal.services import auth
from seattui.portal.store.tables import idempotency_records

T = TypeVar("T")
MAX_IDEMPOTENCY_KEY = 128


def portal_of(request: Request) -> Portal:
    return request.app.state.portal  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    """Who calls, for the device activation limits. Behind a reverse proxy, run `seattui serve`
    with the proxy's forwarded-for handling so this is the caller's address, not the proxy's."""
    return request.client.host if request.client else "unknown"


# The dependencies are coroutines: FastAPI runs a plain function in a worker thread, a trip
# there and back per dependency per request.
async def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


async def current_actor(
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> Actor:
    actor = await auth.authenticate_request(portal_of(request), token)
    # The one gate for customers' own logins: every route that needs a caller passes here.
    customer_access.check(actor, request.method, route_of(request.scope))
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
async def given_token(token: Annotated[str | None, Depends(bearer_token)]) -> str:
    """The token of a route that authenticates inside its own transaction (read_as). A missing
    one is refused here, before the parameters are validated, as current_actor refuses it."""
    if not token:
        raise Unauthenticated(auth.NO_TOKEN)
    return token


# The OpenAPI document is the same as CurrentActor's: the header comes from bearer_token.
BearerToken = Annotated[str, Depends(given_token)]


async def _portal(request: Request) -> Portal:
    return portal_of(request)


PortalDep = Annotated[Portal, Depends(_portal)]
# An id in a path: a number the store's 64-bit ids can hold, or 422 naming the parameter.
PathId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]


def allowed(permission: Permission) -> Any:
    """A route's dependency: the caller's role must grant `permission`. Dependencies run
    before the body is validated, so a caller who may not act hears that first, whatever
    the body holds."""

    async def check(actor: CurrentActor) -> None:
        actor.require(permission)

    return Depends(check)


async def read(request: Request, actor: Actor, action: Callable[[Tx], Awaitable[T]]) -> T:
    async with portal_of(request).reading(actor) as tx:
        return await action(tx)


async def read_as(request: Request, token: str, action: Callable[[Tx], Awaitable[T]], *,
                  point: bool | Callable[[Actor], bool] = False, with_actor: auth.WithActor | None = None) -> T:
    """`read` for the caller of `token`, authenticated in the same transaction: one
    transaction a request instead of two (the token is still read every time, so a revoked
    one is refused at once by every instance). `point`: the action reads a few rows by key
    (Store.point_read), or whether it does for the actor (a customer's page of licenses is
    filtered to theirs and is not): when it does not, the action runs in a read of its own,
    which authenticates the token again. `with_actor`: columns the action reads, read in the
    token's own statement (auth.WithActor)."""
    portal = portal_of(request)
    now = portal.now()
    async with (portal.store.point_read() if point else portal.store.read()) as conn:
        actor, touch, read = await _actor_as(request, conn, token, now, with_actor)
        done = not callable(point) or point(actor)
        if done:
            result = await action(_tx_as(conn, actor, portal, now, with_actor, read))
    if not done:
        async with portal.store.read() as conn:
            actor, touch, read = await _actor_as(request, conn, token, now, with_actor)
            result = await action(_tx_as(conn, actor, portal, now, with_actor, read))
    if touch:
        await auth.touch_token(portal, actor, now)
    return result


def _tx_as(conn: AsyncConnection, actor: Actor, portal: Portal, now: datetime, with_actor: auth.WithActor | None,
           read: Any) -> Tx:
    return Tx(conn=conn, actor=actor, catalog=portal.catalog, now=now,
              with_actor=None if with_actor is None else (with_actor, read))


async def _actor_as(request: Request, conn: AsyncConnection, token: str, now: datetime,
                    with_actor: auth.WithActor | None) -> tuple[Actor, bool, Any]:
    actor, touch, read = await auth.actor_in(conn, token, now, with_actor)
    # The one gate of customers' logins, as current_actor has it (fast_path.py names the
    # route it answers, so a customer's list of licenses passes and their balance does not).
    customer_access.check(actor, request.method, route_of(request.scope))
    return actor, touch, read


async def mutate(
    request: Request,
    actor: Actor,
    action: Callable[[Tx], Awaitable[BaseModel | None]],
    *,
    status_code: int = 200,
    batch_id: str | None = None,
    replayed: Callable[[BaseModel], BaseModel] | None = None,
) -> Response:
    """Run a change in one transaction; with an Idempotency-Key, at most once per key.

    `replayed` gives what a repeat of the request answers, when the first answer holds a
    secret (a new API token) that must not be kept in the store in clear."""
    portal = portal_of(request)
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(
            f"An Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY} characters.",
            {"Idempotency-Key": f"1 to {MAX_IDEMPOTENCY_KEY} characters"},
        )
    if key is not None and control_characters(key):
        raise ValidationFailed(
            "An Idempotency-Key has no control characters; send a new key (a UUID will do).",
            {"Idempotency-Key": f"control character {describe(control_characters(key)[0])}"},
        )
    if key is None or actor.user_id is None:
        async with portal.writing(actor, batch_id) as tx:
            return _response(await action(tx), status_code)

    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.url.path.encode(), await request.body()])
    ).hexdigest()
    try:
        async with portal.writing(actor, batch_id) as tx:
            replay = await _replay(tx, actor.user_id, key, fingerprint, lock=True)
            if replay is not None:
                return replay
            # Claimed first, inside the same transaction: a concurrent twin waits on this row
            # and then finds the committed answer; a failure rolls the claim back with the change.
            record_id = (
                await tx.conn.execute(
                    insert(idempotency_records)
                    .values(user_id=actor.user_id, key=key, fingerprint=fingerprint, status_code=0, body="",
                            created_at=tx.now)
                    .returning(idempotency_records.c.id)
                )
            ).scalar_one()
            result = await action(tx)
            response = _response(result, status_code)
            kept = _response(replayed(result), status_code) if replayed and result is not None else response
            await tx.conn.execute(
                update(idempotency_records)
                .where(idempotency_records.c.id == record_id)
                .values(status_code=kept.status_code, body=kept.body.decode())
            )
            return response
    except IntegrityError:
        # The twin request committed first: answer with what it answered.
        async with portal.reading(actor) as tx:
            replay = await _replay(tx, actor.user_id, key, fingerprint, lock=False)
        if replay is None:
            raise
        return replay


async def _replay(tx: Tx, user_id: int, key: str, fingerprint: str, *, lock: bool) -> Response | None:
    query = select(idempotency_records).where(
        idempotency_records.c.user_id == user_id, idempotency_records.c.key == key
    )
    row = (await tx.conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for another request; use a new key for a new request.",
            {"Idempotency-Key": key},
        )
    return Response(
        row.body or None,
        status_code=row.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def portal_address(request: Request) -> str | None:
    """The address the caller reached the portal at, for an invitation mail's command line;
    none for the embedded portal, which has no address."""
    base = str(request.base_url).rstrip("/")
    return None if "embedded-portal" in base else base


def without_secret(result: BaseModel) -> BaseModel:
    # A repeated request is told what was made, never the secret again: only its hash is kept.
    return result.model_copy(update={"token": None})


def answer(result: BaseModel) -> Response:
    """A route's model as its JSON answer, once: returned as the model, FastAPI validates it
    again as the response model before dumping it. The route declares `response_model` so
    the schema stays the same."""
    return Response(result.model_dump_json(), media_type="application/json")


def _response(result: BaseModel | None, status_code: int) -> Response:
    if result is None:
        return Response(status_code=204 if status_code == 200 else status_code)
    return Response(result.model_dump_json(), status_code=status_code, media_type="application/json")
