"""The HTTP face of errors: one JSON shape ({code, message, details}) and the right status."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seattui.domain import errors
from seattui.domain.validation import validation_failed
from seattui.portal.observability import ERROR_CODE_KEY

log = logging.getLogger("seattui.portal")

_STATUS: dict[type[errors.SeattuiError], int] = {
    errors.ValidationFailed: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InsufficientCredits: 402,
    errors.Unauthenticated: 401,
    errors.LoginThrottled: 429,
    errors.AccountLocked: 423,
    errors.PermissionDenied: 403,
    errors.RateLimited: 429,
    errors.PayloadTooLarge: 413,
    errors.PortalUnavailable: 503,
    errors.PortalFault: 500,
}


def status_of(error: errors.SeattuiError) -> int:
    for klass in type(error).__mro__:
        if klass in _STATUS:
            return _STATUS[klass]
    return 400


def error_response(error: errors.SeattuiError) -> JSONResponse:
    status = status_of(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = error.details.get("retry_after")
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(
        {"code": error.code, "message": error.message, "details": error.details},
        status_code=status,
        headers=headers,
    )


def _refused(request: Request, error: errors.SeattuiError) -> JSONResponse:
    """A request refused for what it asked: one line in the log, no traceback (not a fault)."""
    response = error_response(error)
    fields = error.details.get("fields")
    log.info("refused %s %s: %s %s%s", request.method, request.url.path, response.status_code, error.code,
             f" ({', '.join(fields)})" if isinstance(fields, dict) and fields else "")
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.SeattuiError)
    async def _domain(request: Request, exc: errors.SeattuiError) -> JSONResponse:
        request.scope[ERROR_CODE_KEY] = exc.code  # for the metrics of activation outcomes
        if isinstance(exc, errors.PortalUnavailable):
            return error_response(exc)
        return _refused(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        error = validation_failed(exc.errors())
        request.scope[ERROR_CODE_KEY] = error.code
        return _refused(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(errors.NotFound("There is no such endpoint; see /docs for the API."))
        if isinstance(exc, BodyTooLarge):
            return too_large(exc.max_bytes)
        if exc.status_code == 413:
            return too_large(request.app.state.portal.settings.max_body_bytes)
        code = "method_not_allowed" if exc.status_code == 405 else "http_error"
        return JSONResponse(
            {"code": code, "message": str(exc.detail), "details": {}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if isinstance(exc, IntegrityError):
            # A unique or foreign key the checks had found free was taken by a change that
            # committed meanwhile (two adds of one email at once): the caller's to retry.
            return _refused(request, errors.Conflict(
                "Another change got there first (the same name, email or key at the same moment); "
                "nothing was changed: reload and try again."))
        if not isinstance(exc, (OperationalError, InterfaceError)) and not exc.connection_invalidated:
            # The database refused a statement (bad data, a broken constraint): the portal's
            # fault, not the database's absence, and the client must not retry it as a 503.
            return _fault(request, exc)
        return _unavailable(request, exc.orig or exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, (ConnectionError, TimeoutError)):  # a driver's socket to the database
            return _unavailable(request, exc)
        return _fault(request, exc)


def _unavailable(request: Request, reason: BaseException) -> JSONResponse:
    """The database is unreachable, restarting or busy: the operator needs the reason in one
    line, not a traceback; the client may retry."""
    text = str(reason).strip()
    log.error("database unavailable for %s %s: %s", request.method, request.url.path,
              text.splitlines()[0] if text else type(reason).__name__)
    return error_response(
        errors.PortalUnavailable(
            "The portal cannot reach its database right now; try again in a moment, "
            "and tell the portal's operator if it persists."
        )
    )


def _fault(request: Request, exc: Exception) -> JSONResponse:
    """A real fault of the portal: the traceback goes to the log with an incident number."""
    incident = uuid.uuid4().hex[:12]
    log.error("unexpected error in %s %s, incident %s", request.method, request.url.path, incident, exc_info=exc)
    return error_response(
        errors.PortalFault(
            f"The portal failed inside (incident {incident}). Nothing was changed by the "
            "failed request; try again, and report the incident if it repeats.",
            {"incident": incident},
        )
    )


class BodyTooLarge(StarletteHTTPException):
    """A body that grew past its path's limit while it was read (the handler above answers)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413)
        self.max_bytes = max_bytes


class BodySizeLimit:
    """Refuses request bodies over a size before anything parses them: `max_bytes`, or the
    limit `larger` gives the request's path (a bulk request that must arrive whole)."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # An HTTPException passes through FastAPI's body parsing to the handler above.
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


def too_large(max_bytes: int) -> JSONResponse:
    size = f"{max_bytes / 1024 / 1024:g} MiB" if max_bytes >= 1024 * 1024 else f"{max_bytes // 1024} KiB"
    return error_response(
        errors.PayloadTooLarge(
            f"The request is larger than the portal accepts here ({size}, {max_bytes:,} bytes); "
            "send it in smaller parts.",
            {"max_bytes": max_bytes},
        )
    )
