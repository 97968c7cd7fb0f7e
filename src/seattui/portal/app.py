"""create_app(settings): the portal as an ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from typing import Any

from fastapi import FastAPI, Response
from fastapi_offline import FastAPIOffline
from starlette.routing import NoMatchFound

import seattui
from seattui.logs import TRUE_WORDS, configure_portal_logging
from seattui.portal.observability import API_PREFIX, RequestObserver
from seattui.portal.options import options_from_environment, settings_from_options
from seattui.portal import openapi
from seattui.portal.fast_path import FastPath
from seattui.portal.http import BodySizeLimit, install_error_handlers
from seattui.portal.routes import (
    activation,
    audit,
    catalog,
    children,
    credits,
    customers,
    dashboard,
    employees,
    health,
    invoices,
    keys,
    license_files,
    licenses,
    orders,
    seats,
    session,
    subscriptions,
    support,
    team,
)
from seattui.portal.billing_run import keep_billing
from seattui.portal.mailer import delivery_for
from seattui.portal.services import outbox
from seattui.portal.runtime import Portal
from seattui.portal.settings import PortalSettings


# FastAPI hands pydantic >= 2.12 a body parameter's alias in a way pydantic warns about
# although the alias works (pydantic/pydantic#12356); the warning would only reach users'
# terminals, so it is silenced here, narrowly.
warnings.filterwarnings("ignore", message="The 'alias' attribute with value", module="pydantic")


API_DESCRIPTION = (
    "The seattui license portal. Log in with `login` and send the token as `Authorization: Bearer TOKEN`. "
    "Every refusal is one JSON body, `{code, message, details}`, with the status saying its kind. "
    "Lists are pages: pass the `next_cursor` of one page as `cursor` to get the next. "
    "A change accepts an `Idempotency-Key` header, so a retry never charges twice."
)


# No route has this name: asking for it makes FastAPI walk, and so build, every route.
NO_ROUTE = "seattui-builds-every-route"


def build_routes_apart(app: FastAPI) -> threading.Thread:
    """FastAPI builds a router's routes (their dependencies and validators) when a request
    first reaches it: 0.3 s for all of the portal's, paid by the first request of each kind (the
    customers list's first page took 0.35 s instead of 0.05). A thread of its own builds them
    all as the portal starts; a request reaching a router being built waits for it under
    FastAPI's own lock, as it would have built it itself."""

    def build() -> None:
        with contextlib.suppress(NoMatchFound):
            app.url_path_for(NO_ROUTE)

    thread = threading.Thread(target=build, name="seattui-routes", daemon=True)
    thread.start()
    return thread


def create_app(settings: PortalSettings | None = None) -> FastAPI:
    """The portal's ASGI app. Without settings it is the factory process managers call
    (`uvicorn --factory seattui.portal.app:create_app`): it reads `seattui serve`'s options
    from SEATTUI_* variables and the SEATTUI_PORTAL_CONFIG file, logging included."""
    if settings is None:
        options = options_from_environment()
        configure_portal_logging(str(options.get("log_level", "info")).lower(),
                                 "json" if str(options.get("log_format", "text")).lower() == "json" else "text",
                                 str(options.get("access_log", "")).lower() in TRUE_WORDS)
        metrics = str(options.get("metrics", "true")).lower() in TRUE_WORDS
        settings = settings_from_options(options, metrics=metrics, metrics_on_api=not options.get("metrics_port"))
    portal = Portal(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await portal.start()
        app.state.routes_built = build_routes_apart(app) if settings.build_routes_at_start else None
        # The outbox is delivered beside the requests, never inside one; the billing run too,
        # at start, then when due.
        metrics = app.state.metrics
        delivery = app.state.mail_delivery = delivery_for(portal, metrics.observe_mail if metrics else None)
        if delivery is not None:
            delivery.start()
        billing = (asyncio.create_task(keep_billing(portal.store, portal.now, settings.billing_check_every,
                                                    metrics.observe_billing_run if metrics else None, portal.catalog))
                   if settings.billing_check_every is not None else None)
        # /metrics on a port of its own is answered off the event loop: keep its outbox figures read.
        outbox_figures = (asyncio.create_task(_keep_outbox_figures(portal, metrics))
                          if metrics is not None and not settings.metrics_on_api else None)
        try:
            yield
        finally:
            if outbox_figures is not None:
                outbox_figures.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await outbox_figures
            if billing is not None:
                billing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await billing
            if delivery is not None:
                await delivery.stop()
            await portal.close()

    # The docs pages load Swagger UI and ReDoc from files the portal serves itself
    # (fastapi-offline ships them), so /docs works on a network without the internet.
    app = FastAPIOffline(
        title="seattui license portal",
        version=seattui.__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        static_url="/docs/files",
        # FastAPI's own OpenTelemetry looks up the global providers on every request (3% of a
        # device's check); the portal's figures are its Prometheus metrics and access log.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    openapi.install(app)
    app.state.portal = portal
    install_error_handlers(app)
    # Innermost: device activation and the balance skip FastAPI's routing and dependencies.
    app.add_middleware(FastPath)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       larger={f"{API_PREFIX}/seat-batches": settings.max_batch_body_bytes})
    for module in (health, session, catalog, credits, dashboard, keys, licenses, subscriptions, support,
                   activation, employees, seats, audit, license_files, orders, invoices, customers, team,
                   children):
        app.include_router(module.router, prefix=API_PREFIX)
    app.state.metrics = _install_metrics(app, portal) if settings.metrics else None
    # Outermost, so the access line and the metrics see every answer, refusals included.
    app.add_middleware(RequestObserver, metrics=app.state.metrics)
    return app


OUTBOX_FIGURES_EVERY = 15.0  # seconds; a scrape interval's order


async def _read_outbox(portal: Portal, metrics: Any) -> None:
    async with portal.store.read() as conn:
        metrics.set_outbox(await outbox.status_counts(conn))


async def _keep_outbox_figures(portal: Portal, metrics: Any) -> None:
    while True:
        try:
            await _read_outbox(portal, metrics)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database away now: the figures stay as last read
            pass
        await asyncio.sleep(OUTBOX_FIGURES_EVERY)


def _install_metrics(app: FastAPI, portal: Portal) -> Any:
    # prometheus-client only where metrics are wanted: the embedded portal starts without it.
    from seattui.portal.metrics import CONTENT_TYPE, PortalMetrics

    metrics = PortalMetrics()
    metrics.watch_pool(portal.store.engine, portal.store.pool_capacity)
    if portal.settings.metrics_on_api:
        @app.get("/metrics", include_in_schema=False)
        async def exposition() -> Response:
            try:
                await _read_outbox(portal, metrics)
            except Exception:  # a database away now: the other figures still answer
                pass
            return Response(metrics.exposition(), media_type=CONTENT_TYPE)
    return metrics
