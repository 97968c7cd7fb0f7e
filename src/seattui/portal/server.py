"""How `seattui serve` runs the portal under uvicorn: whose X-Forwarded-For counts, and a
request that is not readable HTTP answered in the API's JSON error shape."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


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
        "http": JsonErrorH11Protocol,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or [],
    }


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, answering a request it cannot parse (an oversized header,
    a malformed line) with the API's {code, message, details} instead of plain text."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({
            "code": "bad_request",
            "message": "The portal could not read this request as HTTP (a header too large or malformed); "
                       "send a smaller, well-formed request.",
            "details": {"reason": msg},
        }).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()
