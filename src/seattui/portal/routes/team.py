"""The organization's team: members and their roles, invitations, and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from seattui.domain.accounts import Credentials, Session
from seattui.domain.roles import Permission
from seattui.domain.team import ApiToken, Invitation, InvitationAcceptance, Member, NewApiToken, NewInvitation, RoleChange
from seattui.portal.api import CurrentActor, PathId, PortalDep, allowed, mutate, portal_address, read, without_secret
from seattui.portal.services import accounts, auth, team

router = APIRouter(tags=["team"])
MAY_MANAGE = allowed(Permission.MANAGE_MEMBERS)
MAY_READ = allowed(Permission.READ)


# -- members ---------------------------------------------------------------------------------


@router.get("/members", dependencies=[MAY_MANAGE])
async def list_members(request: Request, actor: CurrentActor) -> list[Member]:
    """Every user of the organization, removed ones too, by login."""
    return await read(request, actor, team.members)


@router.put("/members/{member_id}/role", response_model=Member, dependencies=[MAY_MANAGE])
async def change_role(member_id: PathId, change: RoleChange, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: team.change_role(tx, member_id, change.role))


@router.delete("/members/{member_id}", response_model=Member, dependencies=[MAY_MANAGE])
async def remove_member(member_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """Remove a member; their sessions and API tokens stop working on the next request."""
    return await mutate(request, actor, lambda tx: team.remove(tx, member_id))


# -- invitations -----------------------------------------------------------------------------


@router.get("/invitations", dependencies=[MAY_MANAGE])
async def list_invitations(request: Request, actor: CurrentActor) -> list[Invitation]:
    """Invitations waiting to be accepted, expired ones too."""
    return await read(request, actor, team.pending_invitations)


@router.post("/invitations", status_code=201, response_model=Invitation, dependencies=[MAY_MANAGE])
async def invite(new: NewInvitation, request: Request, actor: CurrentActor) -> Response:
    """Mail an invitation; the answer holds its token once, for when the mail does not arrive."""
    address = portal_address(request)
    return await mutate(request, actor, lambda tx: team.invite(tx, new, address), status_code=201,
                        replayed=without_secret)


@router.post("/invitations/{invitation_id}/resend", response_model=Invitation, dependencies=[MAY_MANAGE])
async def resend(invitation_id: PathId, request: Request, actor: CurrentActor) -> Response:
    address = portal_address(request)
    return await mutate(request, actor, lambda tx: team.resend(tx, invitation_id, address), replayed=without_secret)


@router.delete("/invitations/{invitation_id}", response_model=Invitation, dependencies=[MAY_MANAGE])
async def revoke_invitation(invitation_id: PathId, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: team.revoke_invitation(tx, invitation_id))


@router.post("/invitations/accept", status_code=201)
async def accept(acceptance: InvitationAcceptance, portal: PortalDep) -> Session:
    """Public: become a member with the invitation's token, and be logged in."""
    async with portal.store.write() as conn:
        login = await accounts.accept_invitation(conn, portal, acceptance)
    return await auth.login(portal, Credentials(login=login, password=acceptance.password))


# -- API tokens ------------------------------------------------------------------------------


@router.get("/tokens", dependencies=[MAY_READ])
async def list_tokens(
    request: Request, actor: CurrentActor,
    member: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="only this member's tokens")] = None,
) -> list[ApiToken]:
    """Live API tokens: the organization's for owners and admins, else the caller's own."""
    return await read(request, actor, lambda tx: team.tokens(tx, member))


@router.post("/tokens", status_code=201, response_model=ApiToken, dependencies=[MAY_READ])
async def create_token(new: NewApiToken, request: Request, actor: CurrentActor) -> Response:
    """A named API token acting for the caller; the answer holds the token, once."""
    return await mutate(request, actor, lambda tx: team.create_token(tx, new), status_code=201,
                        replayed=without_secret)


@router.delete("/tokens/{token_id}", status_code=204, dependencies=[MAY_READ])
async def revoke_token(token_id: PathId, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: team.revoke_token(tx, token_id), status_code=204)
