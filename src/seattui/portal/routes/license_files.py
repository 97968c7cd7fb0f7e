"""License files: the public signing keys, a license's or subscription's signed file, offline
activation through request files, and the online check of a file."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from seattui.domain.licensing import ActivationRequest, DeviceRequest
from seattui.domain.offline_licensing import DeviceFileText, FileCheck, LicenseFileText, OfflineAnswer, SigningKeys
from seattui.portal.api import CurrentActor, PathId, PortalDep, portal_of, read
from seattui.portal.services import activation, license_files
from seattui.portal.services.license_files import IssuedFile

router = APIRouter(tags=["license files"])

Fingerprint = Query(None, min_length=8, max_length=128, pattern=r"^[A-Za-z0-9:._-]+$",
                    description="bind the file to this machine (a machine file); the license must be activated there")


def _download(issued: IssuedFile) -> Response:
    return Response(issued.text, media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{issued.filename}"'})


@router.get("/license-files/keys")
async def public_keys(portal: PortalDep) -> SigningKeys:
    """The portal's public signing keys (current first); no session needed."""
    return await license_files.published_keys(portal)


@router.get("/licenses/{license_id}/file", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "the signed license file"}})
async def license_file(license_id: PathId, request: Request, actor: CurrentActor,
                       machine: str | None = Fingerprint) -> Response:
    """The license's signed file: valid 30 days (or to the license's end); with `machine`, a
    machine file valid to the license's end."""
    signing = await license_files.signer(portal_of(request))
    return _download(await read(request, actor, lambda tx: license_files.license_file(tx, signing, license_id, machine)))


@router.get("/subscriptions/{subscription_id}/file", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "the signed subscription file"}})
async def subscription_file(subscription_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """The subscription's signed file, valid to the end of its paid period (at most 30 days)."""
    signing = await license_files.signer(portal_of(request))
    return _download(await read(request, actor,
                                lambda tx: license_files.subscription_file(tx, signing, subscription_id)))


@router.post("/license-files/offline-activation")
async def offline_activation(body: DeviceFileText, request: Request, actor: CurrentActor) -> OfflineAnswer:
    """Activate a machine that cannot reach the portal from its request file, exactly as the
    online activation would; answers its machine file."""
    portal = portal_of(request)
    wanted = await license_files.offline_request(portal, actor, body.request, "activate")
    await activation.activate(portal, license_files.offline_address(actor), ActivationRequest(
        key=wanted.key, product_id=wanted.product_id, fingerprint=wanted.fingerprint, hostname=wanted.hostname))
    return await license_files.machine_file(portal, actor, wanted)


@router.post("/license-files/offline-deactivation")
async def offline_deactivation(body: DeviceFileText, request: Request, actor: CurrentActor) -> OfflineAnswer:
    """Release a machine that cannot reach the portal from its request file, as the online
    deactivation would (repeating it is harmless); answers a signed release receipt."""
    portal = portal_of(request)
    wanted = await license_files.offline_request(portal, actor, body.request, "deactivate")
    held = await license_files.held_by(portal, actor, wanted)
    await activation.deactivate(portal, license_files.offline_address(actor), DeviceRequest(
        key=wanted.key, product_id=wanted.product_id, fingerprint=wanted.fingerprint))
    return await license_files.release_receipt(portal, actor, wanted, held)


@router.post("/license-files/check")
async def check(body: LicenseFileText, portal: PortalDep) -> FileCheck:
    """Whether a file is still current: stale after an upgrade, a support extension or an edit,
    deleted with its license, released with its machine. No session needed."""
    return await license_files.check_file(portal, body.file)
