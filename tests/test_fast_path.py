"""Device activation and the balance are answered by the portal's fast path (fast_path.py),
around FastAPI's routing: every answer, refusals included, is the same bytes FastAPI's route
gives for the same request, status and headers too, on both stores."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
from starlette.types import Receive, Scope, Send

from seattui.portal.app import create_app
from seattui.portal.fast_path import FastPath

import harness as test_harness
from harness import running_portal
from license_setup import a_license

API = "/api/v1"
JSON = {"content-type": "application/json"}


def without_fast_path(app: object) -> object:
    """The same portal answering everything through FastAPI (the middleware stack is built at
    the first request, so leaving it out before then leaves it out)."""
    app.user_middleware = [m for m in app.user_middleware if m.cls is not FastPath]  # type: ignore[attr-defined]
    return app


def answer_of(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(name, value) for name, value in response.headers.items() if name != "x-request-id"]
    return response.status_code, headers, response.content


async def test_the_fast_path_answers_as_fastapi_does(database_url: str) -> None:
    async with running_portal(database_url, activation_limit=100) as harness:
        license = await a_license(harness, quantity=1)
        owner = await harness.login("acme-owner")
        machine = {"key": license.key, "product_id": "remotedesk", "fingerprint": "machine-pc-1-fp"}
        other = create_app(test_harness.test_settings(database_url, harness.clock, activation_limit=100))
        async with other.router.lifespan_context(other):
            fast = httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://portal")
            slow = httpx.AsyncClient(transport=httpx.ASGITransport(app=without_fast_path(other)),
                                     base_url="http://portal")
            bearer = {"authorization": f"Bearer {owner.token}"}
            # The first activation is a change (the second would be a repeat): on one path only.
            first = await fast.post(f"{API}/activation/activate", json=machine | {"hostname": "pc-1"})
            assert first.status_code == 200 and first.json()["activated_here"]
            requests: list[tuple[str, str, dict[str, str], bytes]] = [
                ("POST", "/activation/check", JSON, json.dumps(machine).encode()),
                ("POST", "/activation/check", {"content-type": "application/json; charset=utf-8"},
                 json.dumps(machine | {"fingerprint": "machine-pc-2-fp"}).encode()),
                ("POST", "/activation/activate", JSON, json.dumps(machine | {"hostname": "pc-1"}).encode()),
                ("POST", "/activation/activate", JSON,  # held by pc-1: refused
                 json.dumps(machine | {"fingerprint": "machine-pc-2-fp", "hostname": "pc-2"}).encode()),
                ("POST", "/activation/deactivate", JSON,  # a machine that holds none: nothing changes
                 json.dumps(machine | {"fingerprint": "machine-pc-3-fp"}).encode()),
                ("POST", "/activation/check", JSON, json.dumps(machine | {"key": "AAAA-AAAA-AAAA-AAAA"}).encode()),
                ("POST", "/activation/check", JSON, json.dumps(machine | {"product_id": "nosuch"}).encode()),
                ("POST", "/activation/check", JSON, json.dumps({"key": license.key}).encode()),  # fields missing
                ("POST", "/activation/check", JSON, b'{"key": '),  # not JSON
                ("POST", "/activation/check", JSON, b"[1, 2]"),
                ("POST", "/activation/check", JSON, b""),
                ("POST", "/activation/check", {"content-type": "text/plain"}, json.dumps(machine).encode()),
                ("POST", "/activation/check", {}, json.dumps(machine).encode()),
                ("POST", "/activation/check", JSON, json.dumps(machine | {"fingerprint": "x" * 10_000}).encode()),
                ("GET", "/credits/balance", bearer, b""),
                ("GET", "/credits/balance?anything=1", bearer, b""),
                ("GET", "/credits/balance", {}, b""),
                ("GET", "/credits/balance", {"authorization": "Bearer stui_not-a-token"}, b""),
                ("GET", "/credits/balance", {"authorization": "Basic abc"}, b""),
                ("GET", "/activation/check", {}, b""),  # another method: FastAPI's 405
            ]
            # Which requests the fast path hands on to FastAPI: those it is not sure of only.
            handed_on: list[int] = []

            async def fastapi(scope: Scope, receive: Receive, send: Send) -> None:
                handed_on.append(len(statuses))
                await other(scope, receive, send)

            async def fast_path_alone(scope: Scope, receive: Receive, send: Send) -> None:
                scope["app"] = harness.app  # as the portal's Starlette app sets it
                await FastPath(fastapi)(scope, receive, send)

            alone = httpx.AsyncClient(transport=httpx.ASGITransport(app=fast_path_alone), base_url="http://portal")
            statuses: list[int] = []
            for method, path, headers, body in requests:
                ours = answer_of(await fast.request(method, f"{API}{path}", headers=headers, content=body))
                theirs = answer_of(await slow.request(method, f"{API}{path}", headers=headers, content=body))
                assert ours == theirs, (method, path, body[:80])
                assert answer_of(await alone.request(method, f"{API}{path}", headers=headers, content=body))[::2] \
                    == ours[::2]
                statuses.append(ours[0])
            assert statuses == [200, 200, 200, 409, 200, 404, 404, 422, 422, 422, 422, 422, 422, 422,
                                200, 200, 401, 401, 401, 405]
            assert handed_on == [7, 8, 9, 10, 11, 12, 13, 19]
            for client in (fast, slow, alone):
                await client.aclose()


async def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(database_url: str) -> None:
    async with running_portal(database_url, max_body_bytes=1024) as harness:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://portal") as raw:
            async def streamed() -> AsyncIterator[bytes]:  # no length said up front: counted as it comes
                for _ in range(4):
                    yield b" " * 512

            response = await raw.post(f"{API}/activation/check", headers=JSON, content=streamed())
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        assert response.headers["x-request-id"]


async def test_the_license_list_on_the_fast_path_answers_as_fastapi_does(database_url: str) -> None:
    # The list's pages skip FastAPI only when every parameter is plainly valid; anything else
    # (blank, repeated, unknown, invalid) is FastAPI's to answer, in its words.
    from test_api_customer_accounts import customer_session

    async with running_portal(database_url) as harness:
        for quantity in (1, 2, 3):
            await a_license(harness, quantity=quantity, comment=f"note {quantity}")
        customer, _ = await customer_session(harness, "ada@customer.example", "ada")
        owner = await harness.login("acme-owner")
        other = create_app(test_harness.test_settings(database_url, harness.clock))
        async with other.router.lifespan_context(other):
            fast = httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://portal")
            slow = httpx.AsyncClient(transport=httpx.ASGITransport(app=without_fast_path(other)),
                                     base_url="http://portal")
            bearer = {"authorization": f"Bearer {owner.token}"}
            first = (await fast.get(f"{API}/licenses?limit=2&sort=quantity", headers=bearer)).json()
            assert len(first["items"]) == 2 and first["total"] == 4  # the customer's license too
            cursor = first["next_cursor"]
            handed_on_expected = ["limit=", "limit=2&limit=3", "limit=0", "limit=501", "limit=x", "sort=nosuch",
                                  "descending=maybe", "cursor=" + "x" * 501, "page=2", "q=%1b", "term=forever",
                                  "support_from=2027-01-01&support_to=2026-01-01", "support_ending_days=-1"]
            requests: list[tuple[str, dict[str, str]]] = [
                ("", bearer), ("limit=2&sort=quantity", bearer), (f"limit=2&sort=quantity&cursor={cursor}", bearer),
                ("limit=1&sort=created&descending=true", bearer), ("limit= 2 &descending=0", bearer),
                ("q=note&limit=1", bearer), ("q=+note+2+", bearer), ("term=permanent&status=assigned", bearer),
                ("trial_ending=true&expired=false&support=ending", bearer), ("support_ending_days=30", bearer),
                ("cursor=not-a-cursor", bearer), ("", {"authorization": f"Bearer {customer.token}"}),
                ("limit=0", {}), ("", {"authorization": "Bearer stui_not-a-token"}),
                *((query, bearer) for query in handed_on_expected),
            ]
            handed_on: list[str] = []

            async def fastapi(scope: Scope, receive: Receive, send: Send) -> None:
                handed_on.append(scope["query_string"].decode())
                await other(scope, receive, send)

            async def fast_path_alone(scope: Scope, receive: Receive, send: Send) -> None:
                scope["app"] = harness.app
                await FastPath(fastapi)(scope, receive, send)

            alone = httpx.AsyncClient(transport=httpx.ASGITransport(app=fast_path_alone), base_url="http://portal")
            statuses = []
            for query, headers in requests:
                path = f"{API}/licenses?{query}" if query else f"{API}/licenses"
                ours = answer_of(await fast.get(path, headers=headers))
                theirs = answer_of(await slow.get(path, headers=headers))
                assert ours == theirs, query
                assert answer_of(await alone.get(path, headers=headers))[::2] == ours[::2]
                statuses.append(ours[0])
            # A forged cursor is the service's refusal; a repeated or unknown parameter FastAPI answers.
            assert statuses == [200] * 10 + [422, 200, 401, 401] + [422, 200] + [422] * 6 + [200] + [422] * 4
            assert handed_on == handed_on_expected
            for client in (fast, slow, alone):
                await client.aclose()
