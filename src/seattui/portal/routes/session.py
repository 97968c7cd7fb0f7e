"""Logging in and out, who am I, and the first-run setup of an empty portal."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from seattui.domain.accounts import Credentials, Me, NewOrganization, Session, SetupStatus
from seattui.domain.errors import Conflict
from seattui.portal.api import CurrentActor, PortalDep, bearer_token, mutate
from seattui.portal.context import Tx
from seattui.portal.services import accounts, auth

router = APIRouter(tags=["session"])


@router.post("/auth/login")
async def login(credentials: Credentials, portal: PortalDep) -> Session:
    return await auth.login(portal, credentials)


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, actor: CurrentActor, token: str | None = Depends(bearer_token)) -> Response:
    async def revoke(tx: Tx) -> None:
        await auth.logout(tx, token or "")

    return await mutate(request, actor, revoke, status_code=204)


@router.get("/auth/me")
async def me(actor: CurrentActor) -> Me:
    return actor.me()


@router.get("/setup")
async def setup_status(portal: PortalDep) -> SetupStatus:
    async with portal.store.read() as conn:
        return SetupStatus(needs_setup=await accounts.needs_setup(conn))


@router.post("/setup", status_code=201)
async def setup(new: NewOrganization, portal: PortalDep) -> Session:
    """First run only: create the first organization and its owner, and log the owner in."""
    async with portal.store.write() as conn:
        if not await accounts.needs_setup(conn):
            raise Conflict("This portal is set up already: log in instead.")
        await accounts.create_organization(portal, conn, new)
    return await auth.login(portal, Credentials(login=new.owner_login, password=new.password))
