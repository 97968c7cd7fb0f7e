"""Child accounts: a reseller's own customer organizations. The parent lists them with their
usage, creates them, invites their members and moves licenses into them; it acts inside a
child through these routes only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from seattui.domain.children import Child, LicenseMove, LicenseMoved, NewChild
from seattui.domain.roles import Permission
from seattui.domain.team import Invitation, NewInvitation
from seattui.portal.api import CurrentActor, PathId, allowed, mutate, portal_address, read, without_secret
from seattui.portal.context import Tx

from seattui.portal.services import children, team

router = APIRouter(tags=["children"])
MAY_READ = allowed(Permission.READ)


async def _may_manage(actor: CurrentActor) -> None:
    # Before the body is read, in the service's words (a child's owner hears why, not "your role").
    children.may_manage(actor)


MAY_MANAGE = Depends(_may_manage)


@router.get("/children", dependencies=[MAY_READ])
async def list_children(request: Request, actor: CurrentActor) -> list[Child]:
    """The organization's child accounts by name, each with its usage (licenses, seats assigned and
    purchased, devices activated, members, this month's spend). Empty for a child account."""
    return await read(request, actor, children.children)


@router.post("/children", status_code=201, response_model=Child, dependencies=[MAY_MANAGE])
async def create_child(new: NewChild, request: Request, actor: CurrentActor) -> Response:
    """Create a child account; invite its first member next (POST /children/{child_id}/invitations)."""
    return await mutate(request, actor, lambda tx: children.create(tx, new), status_code=201)


@router.get("/children/{child_id}", dependencies=[MAY_READ])
async def get_child(child_id: PathId, request: Request, actor: CurrentActor) -> Child:
    """One child account with its usage; another organization's child is not found."""
    return await read(request, actor, lambda tx: children.child(tx, child_id))


@router.post("/children/{child_id}/invitations", status_code=201, response_model=Invitation,
             dependencies=[MAY_MANAGE])
async def invite_to_child(child_id: PathId, new: NewInvitation, request: Request, actor: CurrentActor) -> Response:
    """Mail an invitation to become a member of the child (any role, owner too); the answer holds
    its token once."""
    address = portal_address(request)

    async def action(tx: Tx) -> Invitation:
        into = await children.inside(tx, child_id)
        invitation = await team.invite(into, new, address)
        await children.record_invitation(tx, into, invitation)
        return invitation

    return await mutate(request, actor, action, status_code=201, replayed=without_secret)


@router.post("/children/{child_id}/licenses", response_model=LicenseMoved, dependencies=[MAY_MANAGE])
async def move_license_to_child(child_id: PathId, move: LicenseMove, request: Request,
                                actor: CurrentActor) -> Response:
    """Move a license or seat plan, with its activation key, into the child. Refused while it is
    activated on a device, while seats of the plan are assigned, or while its key holds more."""
    return await mutate(request, actor, lambda tx: children.move_license(tx, child_id, move))
