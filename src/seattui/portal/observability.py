"""What an operator sees of each request: its id on every log line and in `X-Request-ID`, an
access line (without the query string, which carries filter text and emails), and metrics."""

from __future__ import annotations

import logging
import random
import re
import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seattui.logs import ACCESS_LOGGER, request_id

if TYPE_CHECKING:
    from seattui.portal.metrics import PortalMetrics

access_log = logging.getLogger(ACCESS_LOGGER)

# A caller's (or a proxy's) own request id is kept when it is short and plain.
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Set by the error handlers (http.py): the refusal's code, for the activation metrics.
ERROR_CODE_KEY = "seattui.error_code"
API_PREFIX = "/api/v1"
ACTIVATION_PREFIX = "/activation/"


def route_of(scope: Scope) -> str:
    """The route's template without the API's prefix (`/keys/{key_id}`), so metrics stay few;
    every unknown path is one. (FastAPI gives an included route's path with or without its
    router's prefix, depending on the version.)"""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched")).removeprefix(API_PREFIX)


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: PortalMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        # 16 hex digits, as uuid4().hex[:16] gave. Not a secret, so not the system's randomness:
        # secrets' was a system call on every request (3% of a device's check). The random module
        # seeds itself anew in a forked process, so workers never share a sequence.
        rid = given if _GIVEN_ID.fullmatch(given) else f"{random.getrandbits(64):016x}"
        # Not reset afterwards: the error handler outside this middleware logs with it too.
        request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_of(scope)
        method = scope.get("method", "")
        if access_log.isEnabledFor(logging.INFO):  # its fields are not worked out for nothing
            client = scope.get("client")
            access_log.info(
                "%s %s %s %.1fms", method, scope.get("path", ""), status, seconds * 1000,
                extra={"method": method, "path": scope.get("path", ""), "route": route, "status": status,
                       "duration_ms": round(seconds * 1000, 1), "client": client[0] if client else None},
            )
        if self.metrics is None:
            return
        self.metrics.observe_request(method, route, status, seconds)
        if route.startswith(ACTIVATION_PREFIX):
            outcome = "ok" if status < 400 else str(scope.get(ERROR_CODE_KEY, f"http_{status}"))
            self.metrics.observe_activation(route.removeprefix(ACTIVATION_PREFIX), outcome)
