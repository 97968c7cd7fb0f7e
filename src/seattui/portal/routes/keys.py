"""Activation keys: list (filter, sort, pages), create, read with what is attached, rename, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from seattui.domain.licensing import ActivationKey, KeyDetail, KeyHolds, KeyName, KeySort, NewActivationKey
from seattui.domain.paging import Page
from seattui.domain.base import PlainText
from seattui.domain.roles import Permission
from seattui.portal.api import CurrentActor, PathId, allowed, mutate, read
from seattui.portal.services import keys

router = APIRouter(tags=["keys"])


@router.get("/keys")
async def list_keys(
    request: Request,
    actor: CurrentActor,
    q: Annotated[PlainText, Query(max_length=100, description="part of a name, or of a key with or without dashes")] = "",
    holds: KeyHolds | None = None,
    sort: KeySort = KeySort.CREATED,
    descending: bool = True,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=500),
) -> Page[ActivationKey]:
    """Keys with their license and subscription counts; the first page carries the total."""
    return await read(request, actor, lambda tx: keys.list_keys(
        tx, query=q, holds=holds, sort=sort, descending=descending, cursor=cursor, limit=limit))


@router.post("/keys", status_code=201, response_model=ActivationKey, dependencies=[allowed(Permission.MANAGE_KEYS)])
async def create(new: NewActivationKey, request: Request, actor: CurrentActor) -> Response:
    """A custom key (`key`), or a random one when `key` is empty."""
    return await mutate(request, actor, lambda tx: keys.create(tx, new), status_code=201)


@router.get("/keys/{key_id}")
async def detail(key_id: PathId, request: Request, actor: CurrentActor) -> KeyDetail:
    return await read(request, actor, lambda tx: keys.detail(tx, key_id))


@router.patch("/keys/{key_id}", response_model=ActivationKey, dependencies=[allowed(Permission.MANAGE_KEYS)])
async def rename(key_id: PathId, body: KeyName, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: keys.rename(tx, key_id, body))


@router.delete("/keys/{key_id}", status_code=204, dependencies=[allowed(Permission.MANAGE_KEYS)])
async def delete(key_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """Refused (key_in_use) while a license or subscription is attached."""
    return await mutate(request, actor, lambda tx: keys.delete(tx, key_id), status_code=204)
