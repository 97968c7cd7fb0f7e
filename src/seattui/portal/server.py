"""How `seattui serve` runs the portal under uvicorn: whose X-Forwarded-For counts, and a
request that is not readable HTTP answered in the API's JSON error shape.

Requests are parsed by httptools (llhttp, in C) and the event loop is uvloop where it is
installed: uvicorn's pure-Python h11 parser took a sixth of the portal's time per request.

Several workers each listen on a socket of their own (Linux's SO_REUSEPORT), so the kernel spreads
connections over them."""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
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


# -- workers -------------------------------------------------------------------------------

# Where the kernel spreads a port's connections over the sockets of a reuse-port group; on other
# systems several sockets may bind the port, but one of them gets every connection.
SPREADS_CONNECTIONS = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


class PortTakenError(Exception):
    pass


def _worker_listener(family: socket.AddressFamily, address: tuple[str, int]) -> socket.socket:
    """In a worker: its own socket in the port's reuse-port group (uvicorn makes it listen)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


class WorkersAddress(socket.socket):
    """The workers' address, held by `serve`'s own process: bound in the reuse-port group but never
    listening, so it keeps the port and takes no connection. A worker receives it pickled and
    opens a listener of its own on the same address (_worker_listener), a restarted worker too.

    uvicorn's workers share one listening socket, and asyncio accepts up to the backlog at each
    wake-up: of 32 connections opened at once, one worker took 32 and the other none, five times
    in six, so `--workers 2` served a pool of keep-alive clients with one process."""

    @classmethod
    def hold(cls, host: str, port: int) -> WorkersAddress:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # A socket without SO_REUSEPORT first: a port another `serve --workers` already holds
        # refuses it, where the group would take the second portal in and split the traffic.
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise PortTakenError(f"The portal cannot listen on {host}:{port} ({error.strerror}): stop what "
                                     "uses that port or give another --port.") from None
            port = probe.getsockname()[1]
        held = cls(family, socket.SOCK_STREAM)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind((host, port))
        return held

    def __reduce__(self) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return _worker_listener, (self.family, (host, port))


def run_workers(app: str, workers: int, serving: dict[str, Any]) -> None:
    """uvicorn.run(app, factory=True, workers=N, **serving), each worker on its own listener
    where the system spreads connections over them."""
    import uvicorn

    if not SPREADS_CONNECTIONS:
        uvicorn.run(app, factory=True, workers=workers, **serving)
        return
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(app, factory=True, workers=workers, **serving)
    held = WorkersAddress.hold(config.host, config.port)
    try:
        Multiprocess(config, sockets=[held]).run()
    except KeyboardInterrupt:  # as uvicorn.run: the workers were told to stop
        pass
    finally:
        held.close()
