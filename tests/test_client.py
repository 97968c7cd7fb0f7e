"""The client on its own: errors typed from the portal's answers, unreachable and slow portals,
and retries only where a repeat cannot do harm."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest

from seattui.client import PortalClient
from seattui.domain.errors import (
    InsufficientCredits,
    NotFound,
    PortalFault,
    PortalUnavailable,
    SeattuiError,
    ValidationFailed,
)

BALANCE = {"organization": "Acme", "balance": "12.50", "unit": "credits"}


def client_for(handler, **options) -> PortalClient:  # type: ignore[no-untyped-def]
    return PortalClient("http://portal.test", transport=httpx.MockTransport(handler), retry_delay=0, **options)


async def test_the_portals_error_comes_back_as_its_class_with_its_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(402, json={"code": "insufficient_credits", "message": "Not enough credits: 5 short.",
                                         "details": {"shortfall": "5.00"}})

    async with client_for(handler) as client:
        with pytest.raises(InsufficientCredits, match="5 short") as error:
            await client.balance()
    assert error.value.details == {"shortfall": "5.00"}


async def test_an_unknown_error_code_is_still_an_error_with_the_portals_words() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"code": "brand_new_rule", "message": "A rule from the future.", "details": {}})

    async with client_for(handler) as client:
        with pytest.raises(SeattuiError, match="rule from the future"):
            await client.balance()


async def test_a_refused_connection_says_where_and_what_to_do() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("[Errno 111] Connection refused")

    async with client_for(handler, retries=2) as client:
        with pytest.raises(PortalUnavailable, match="Cannot reach the portal at http://portal.test: connection refused"):
            await client.balance()
    assert attempts == 3


async def test_a_portal_that_hangs_times_out_with_a_message() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    async with client_for(handler, timeout=0.5, retries=0) as client:
        with pytest.raises(PortalUnavailable, match="did not answer within 0.5 s"):
            await client.balance()


async def test_a_real_hanging_server_is_cut_off_by_the_timeout() -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with PortalClient(f"http://127.0.0.1:{port}", timeout=0.3, retries=0) as client:
            with pytest.raises(PortalUnavailable, match="did not answer"):
                await client.balance()
    finally:
        server.close()


async def test_a_500_without_json_is_a_portal_fault() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="<html>Internal Server Error</html>")

    async with client_for(handler, retries=0) as client:
        with pytest.raises(PortalFault, match="failed .500"):
            await client.balance()


async def test_reads_are_retried_through_a_passing_503() -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json=BALANCE)])

    async with client_for(lambda request: next(answers)) as client:
        assert (await client.balance()).balance == Decimal("12.50")


async def test_a_retried_change_carries_the_same_idempotency_key() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        if len(seen) == 1:
            raise httpx.ReadTimeout("lost the answer")
        return httpx.Response(201, json={"id": 1, "at": "2026-01-01T00:00:00Z", "amount": "5.00",
                                         "balance_after": "5.00", "reason": "grant"})

    async with client_for(handler) as client:
        entry = await client.grant_credits(2, Decimal("5"))
    assert entry.amount == Decimal("5.00")
    assert len(seen) == 2 and seen[0] == seen[1] and seen[0]


async def test_login_is_not_replayed_after_a_lost_answer() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("lost")

    async with client_for(handler) as client:
        with pytest.raises(PortalUnavailable):
            await client.login("someone", "a password")
    assert calls == 1


async def test_bad_input_is_refused_before_it_leaves_naming_the_field() -> None:
    async with client_for(lambda request: httpx.Response(200, json=BALANCE)) as client:
        with pytest.raises(ValidationFailed) as refused:
            await client.grant_credits(2, Decimal("-3"))
    assert "amount" in refused.value.fields


async def test_an_answer_of_the_wrong_shape_is_a_clear_fault() -> None:
    async with client_for(lambda request: httpx.Response(200, json={"what": "ever"})) as client:
        with pytest.raises(PortalFault, match="same version"):
            await client.balance()


async def test_not_found_keeps_its_details() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "not_found", "message": "No such thing.", "details": {"id": 7}})

    async with client_for(handler) as client:
        with pytest.raises(NotFound) as missing:
            await client.ledger()
    assert missing.value.details == {"id": 7}


async def test_a_hanging_portal_is_given_up_on_after_the_timeout_not_after_every_retry() -> None:
    """The retries after a timeout share its budget: the message "did not answer within
    0.3 s" comes after one wait, not three."""
    connections = 0

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await asyncio.sleep(30)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with PortalClient(f"http://127.0.0.1:{port}", timeout=0.3, retries=2) as client:
            with pytest.raises(PortalUnavailable, match="did not answer within 0.3 s"):
                await client.balance()
    finally:
        server.close()
    assert connections == 1


async def test_an_address_that_does_not_answer_http_is_named_so() -> None:
    async def ssh(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(ssh, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with PortalClient(f"http://127.0.0.1:{port}", retries=0) as client:
            with pytest.raises(PortalUnavailable, match="did not answer as a web server") as refused:
                await client.balance()
    finally:
        server.close()
    assert "check the portal's address and port" in refused.value.message
