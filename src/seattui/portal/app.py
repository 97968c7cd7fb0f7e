"""create_app(settings): the portal as an ASGI application."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import seattui
from seattui.portal.http import BodySizeLimit, install_error_handlers
from seattui.portal.routes import (
    activation,
    audit,
    catalog,
    credits,
    dashboard,
    employees,
    health,
    keys,
    licenses,
    seats,
    session,
    subscriptions,
    support,
)
from seattui.portal.runtime import Portal
from seattui.portal.settings import PortalSettings

API_PREFIX = "/api/v1"

# FastAPI hands pydantic >= 2.12 a body parameter's alias in a way pydantic warns about
# although the alias works (pydantic/pydantic#12356); the warning would only reach users'
# terminals, so it is silenced here, narrowly.
warnings.filterwarnings("ignore", message="The 'alias' attribute with value", module="pydantic")


def create_app(settings: PortalSettings) -> FastAPI:
    portal = Portal(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await portal.start()
        try:
            yield
        finally:
            await portal.close()

    app = FastAPI(
        title="seattui license portal",
        version=seattui.__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.portal = portal
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       larger={f"{API_PREFIX}/seat-batches": settings.max_batch_body_bytes})
    for module in (health, session, catalog, credits, dashboard, keys, licenses, subscriptions, support,
                   activation, employees, seats, audit):
        app.include_router(module.router, prefix=API_PREFIX)
    return app
