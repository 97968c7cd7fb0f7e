"""How `seattui serve` runs the portal under uvicorn: whose X-Forwarded-For counts, and a
request that is not readable HTTP answered in the API's JSON error shape.

Requests are parsed by httptools (llhttp, in C) and the event loop is uvloop where it is
installed: uvicorn's pure-Python h11 parser took a sixth of the portal's time per request."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# The most of a request's head (request line and headers) read before it ends: uvicorn's h11
# limit, which httptools does not have.
MAX_HEAD_BYTES = 16 * 1024


class TrustedProxyError(ValueError):
    pass


def trusted_proxies(addresses: Sequence[str]) -> list[str]:
    """The proxies whose X-Forwarded-For is believed: IP addresses or networks (10.0.0.0/8)."""
    checked: list[str] = []
    for address in addresses:
        try:
            checked.append(str(ipaddress.ip_network(address.strip(), strict=False)))
        except ValueError:
            raise TrustedProxyError(
                f"--trusted-proxy {address!r} is not an IP address or network (like 10.0.0.5 or 10.0.0.0/8)."
            ) from None
    return checked


def uvicorn_options(*, trusted: Sequence[str] = ()) -> dict[str, Any]:
    """Keyword arguments of uvicorn.run. Without a trusted proxy no forwarded header counts:
    uvicorn's default trusts 127.0.0.1, so anyone on the portal's own host (or a proxy that
    passes the header through) could pick the address the activation limits count."""
    proxies = trusted_proxies(trusted)
    return {
        "http": JsonErrorHttpToolsProtocol,
        "loop": "auto",  # uvloop when installed
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or [],
    }


def _json_400(msg: str) -> bytes:
    return json.dumps({
        "code": "bad_request",
        "message": "The portal could not read this request as HTTP (a header too large or malformed); "
                   "send a smaller, well-formed request.",
        "details": {"reason": msg},
    }).encode()


class JsonErrorHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering a request it cannot parse (a malformed line, a
    head over MAX_HEAD_BYTES) with the API's {code, message, details} instead of plain text."""

    _in_body = False
    _head_bytes = 0  # read since the last head ended

    def data_received(self, data: bytes) -> None:
        if not self._in_body:
            self._head_bytes += len(data)
        super().data_received(data)
        if not self._in_body and self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self.send_400_response("Request header too large.")

    def on_headers_complete(self) -> None:
        self._in_body, self._head_bytes = True, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        body = _json_400(msg)
        self.transport.write(b"".join([
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n",
            b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body), body]))
        self.transport.close()
