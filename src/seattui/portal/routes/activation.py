"""Device activation: the public endpoints the licensed software calls (no session token;
the activation key is the credential). Rate-limited per key and per client address."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seattui.domain.licensing import ActivationRequest, ActivationStatus, DeviceRequest
from seattui.portal.api import PortalDep, answer, client_address
from seattui.portal.services import activation

router = APIRouter(tags=["device activation"])
# These three are answered by fast_path.py (the same service calls and answers), declared here
# for the OpenAPI document and for what the fast path hands on to FastAPI.


@router.post("/activation/activate", response_model=ActivationStatus)
async def activate(body: ActivationRequest, request: Request, portal: PortalDep) -> Response:
    """Activate the key's license of the product on this machine (fingerprint)."""
    return answer(await activation.activate(portal, client_address(request), body))


@router.post("/activation/deactivate", response_model=ActivationStatus)
async def deactivate(body: DeviceRequest, request: Request, portal: PortalDep) -> Response:
    """Release the license from this machine, so another one may activate it."""
    return answer(await activation.deactivate(portal, client_address(request), body))


@router.post("/activation/check", response_model=ActivationStatus)
async def check(body: DeviceRequest, request: Request, portal: PortalDep) -> Response:
    """Whether this machine still holds a live activation."""
    return answer(await activation.check(portal, client_address(request), body))
