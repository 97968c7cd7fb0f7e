"""The few requests every device and terminal makes, answered without FastAPI's request
machinery: device activation (`activation/check`, `activate`, `deactivate`), the credit
balance and the license list's pages.

A request through FastAPI walks every route of the portal to find its own, solves its
dependencies and passes four layers of middleware; for these point requests that cost more
than their SQL and their answer together (tests/test_fast_path.py, the portal_api
benchmark). Here an exact method and path go straight to the route's own service call, with
the route's own body model, token rule and answer, so the bytes are the same. Anything this
path is not sure of (a body that does not validate, another content type, a query parameter
that is blank, repeated, unknown or invalid, an unknown path) is handed on to FastAPI
unchanged, which answers as it always has; a refusal raised on the way is answered by the
app's own exception handlers. The routes stay declared in FastAPI, so the
OpenAPI document and /docs are unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seattui.domain.licensing import ActivationRequest, DeviceRequest, LicenseFilter, LicenseSort
from seattui.portal.api import (
    answer,
    bearer_token,
    client_address,
    given_token,
    portal_of,
    read_as,
)
from seattui.portal.observability import API_PREFIX
from seattui.portal.routes import licenses as license_routes
from seattui.portal.services import activation, credits

# A model to answer, a response written already, or None: FastAPI is to answer the request.
Answer = Callable[[Request, Any], Awaitable[BaseModel | Response | None]]


async def _activate(request: Request, body: Any) -> BaseModel:
    return await activation.activate(portal_of(request), client_address(request), body)


async def _deactivate(request: Request, body: Any) -> BaseModel:
    return await activation.deactivate(portal_of(request), client_address(request), body)


async def _check(request: Request, body: Any) -> BaseModel:
    return await activation.check(portal_of(request), client_address(request), body)


async def _balance(request: Request, _body: Any) -> BaseModel:
    token = await given_token(await bearer_token(request.headers.get("authorization")))
    return await read_as(request, token, credits.balance, point=True, with_actor=credits.BALANCE_WITH_ACTOR)


# The license list's parameters besides the filter's, validated as FastAPI validates them
# (pydantic, lax, from the query's text) by the route's own annotations.
_PAGE_PARAMETERS: dict[str, TypeAdapter[Any]] = {
    "sort": TypeAdapter(LicenseSort), "descending": TypeAdapter(bool),
    "cursor": TypeAdapter(license_routes.PageCursor), "limit": TypeAdapter(license_routes.PageLimit),
}
_FILTER_PARAMETERS = frozenset(LicenseFilter.model_fields)


def _page_parameters(query: QueryParams) -> tuple[LicenseFilter, dict[str, Any]] | None:
    """The list's filter and parameters when each is given once, not blank, and valid; else
    None, for FastAPI to answer (a blank one is its default there, an unknown one ignored)."""
    given = query.multi_items()
    if len(given) != len(query) or any(not value for _, value in given):
        return None
    filtering: dict[str, str] = {}
    options: dict[str, Any] = {}
    try:
        for name, value in given:
            if name in _FILTER_PARAMETERS:
                filtering[name] = value
            elif name in _PAGE_PARAMETERS:
                options[name] = _PAGE_PARAMETERS[name].validate_python(value)
            else:
                return None
        return LicenseFilter.model_validate(filtering), options
    except ValidationError:
        return None


async def _licenses(request: Request, _body: Any) -> Response | None:
    token = await given_token(await bearer_token(request.headers.get("authorization")))  # before the parameters
    parameters = _page_parameters(request.query_params)
    if parameters is None:
        return None
    wanted, options = parameters
    return await license_routes.list_licenses(request, token, wanted, **options)


# (method, path) -> (the body's model or None, the answer): the routes in routes/activation.py
# routes/credits.py and routes/licenses.py, which stay the API's declaration.
_ROUTES: dict[tuple[str, str], tuple[type[BaseModel] | None, Answer]] = {
    ("POST", f"{API_PREFIX}/activation/activate"): (ActivationRequest, _activate),
    ("POST", f"{API_PREFIX}/activation/deactivate"): (DeviceRequest, _deactivate),
    ("POST", f"{API_PREFIX}/activation/check"): (DeviceRequest, _check),
    ("GET", f"{API_PREFIX}/credits/balance"): (None, _balance),
    ("GET", f"{API_PREFIX}/licenses"): (None, _licenses),
}


class _Route:
    """What the access log and the metrics read of a matched route (observability.route_of)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


class FastPath:
    """Innermost of the portal's own middleware: inside the request id, the access log, the
    metrics and the body size limit, which see these requests as any other."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes = {route: _Route(route[1]) for route in _ROUTES}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _ROUTES.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        model, respond = route
        request = Request(scope, receive)
        try:
            body: Any = None
            if model is not None:
                raw = await request.body()
                body = _valid(model, request.headers.get("content-type"), raw)
                if body is None:  # FastAPI says what is wrong with it, in its words
                    await self.app(scope, _replaying(raw), send)
                    return
            scope["route"] = self._routes[(scope["method"], scope["path"])]
            result = await respond(request, body)
            if result is None:  # FastAPI says what is wrong with the request
                scope.pop("route", None)
                await self.app(scope, receive, send)
                return
            response = result if isinstance(result, Response) else answer(result)
        except Exception as error:
            handler = _handler_of(scope["app"], error)
            if handler is None:
                raise  # the app's last-resort handler (a fault, with its incident number)
            response = await handler(request, error)
        await response(scope, receive, send)


def _valid(model: type[BaseModel], content_type: str | None, raw: bytes) -> BaseModel | None:
    """The body as the route's model, when it is plainly JSON that validates; else None."""
    if content_type is None or content_type.split(";", 1)[0].strip().lower() != "application/json":
        return None
    try:
        return model.model_validate_json(raw)  # bad JSON is a ValidationError too
    except ValidationError:
        return None


def _replaying(raw: bytes) -> Receive:
    """The body already read, for the app to read again."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive


def _handler_of(app: Any, error: Exception) -> Any:
    """The app's exception handler for the error, looked up as Starlette looks it up."""
    handlers = app.exception_handlers
    for klass in type(error).__mro__:
        if klass in handlers and klass is not Exception:
            return handlers[klass]
    return None
