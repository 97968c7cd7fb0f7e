"""The OpenAPI document is one a generator can use: every operation named in camelCase, the
bearer scheme, `Idempotency-Key` on the changes, the portal's error body for the statuses each
operation answers with, an example of every request body; the docs page works offline; a
client generated from it by openapi-python-client logs in, reads the balance and pages through
keys. tests/openapi.json is the committed copy: a change to the API shows there first.

Update the copy after a deliberate change:  .venv/bin/python -m seattui.portal.spec > tests/openapi.json
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from seattui.portal.api import MAX_IDEMPOTENCY_KEY
from seattui.portal.openapi import EXAMPLES, OPERATIONS

from harness import PASSWORD, PortalHarness

COMMITTED = Path(__file__).with_name("openapi.json")
CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)*")


def document(harness: PortalHarness) -> dict[str, Any]:
    return harness.app.openapi()  # type: ignore[no-any-return]


def raw(harness: PortalHarness) -> httpx.AsyncClient:
    """Plain HTTP to the portal, as any program would send it."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://portal")


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, methods in spec["paths"].items()
            for method, operation in methods.items()]


def test_fastapi_gives_every_route_its_own_id_without_a_warning(harness: PortalHarness) -> None:
    """GET and HEAD of a probe are routes of their own: FastAPI warns of no duplicate id."""
    import warnings

    from fastapi.openapi.utils import get_openapi

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Duplicate Operation ID")
        get_openapi(title="seattui", version="0", routes=harness.app.routes)


async def test_every_operation_has_a_camel_case_id_of_its_own(harness: PortalHarness) -> None:
    spec = document(harness)
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert all(CAMEL_CASE.fullmatch(name) for name in ids), [name for name in ids if not CAMEL_CASE.fullmatch(name)]
    assert len(ids) == len(set(ids))
    named = {operation.id for operation in OPERATIONS.values()}
    unnamed = [f"{method.upper()} {path}" for method, path, operation in operations(spec)
               if operation["operationId"] not in named]
    assert unnamed == [], "name these in portal/openapi.py OPERATIONS"
    by_route = {(method, path): operation["operationId"] for method, path, operation in operations(spec)}
    assert by_route[("get", "/api/v1/keys")] == "listKeys"
    assert by_route[("post", "/api/v1/licenses")] == "createLicense"


async def test_the_bearer_scheme_covers_what_needs_a_login(harness: PortalHarness) -> None:
    spec = document(harness)
    assert spec["components"]["securitySchemes"]["bearer"] == {**spec["components"]["securitySchemes"]["bearer"],
                                                              "type": "http", "scheme": "bearer"}
    by_id = {operation["operationId"]: operation for _, _, operation in operations(spec)}
    assert by_id["listKeys"]["security"] == [{"bearer": []}]
    assert by_id["login"]["security"] == [] and by_id["activate"]["security"] == []
    # The token is the scheme's, not a header parameter of each operation.
    assert not any(parameter["name"].lower() == "authorization"
                   for operation in by_id.values() for parameter in operation.get("parameters", []))
    # And a call without it is refused as documented.
    async with raw(harness) as http:
        answer = await http.get("/api/v1/keys")
    assert answer.status_code == 401 and "401" in by_id["listKeys"]["responses"]


async def test_changes_document_the_idempotency_key_and_the_portal_honours_it(harness: PortalHarness) -> None:
    spec = document(harness)
    by_id = {operation["operationId"]: operation for _, _, operation in operations(spec)}
    changes = {operation.id for operation in OPERATIONS.values() if operation.change}
    for name in changes:
        header = [p for p in by_id[name]["parameters"] if p["name"] == "Idempotency-Key"]
        assert header and header[0]["schema"]["maxLength"] == MAX_IDEMPOTENCY_KEY, name
    assert "createLicense" in changes and "createKey" in changes and "listKeys" not in changes
    owner = await harness.login("acme-owner")
    headers = {"Idempotency-Key": "key-once", "Authorization": f"Bearer {owner.token}"}
    async with raw(harness) as http:
        first = await http.post("/api/v1/keys", json={"name": "Once"}, headers=headers)
        again = await http.post("/api/v1/keys", json={"name": "Once"}, headers=headers)
        other = await http.post("/api/v1/keys", json={"name": "Another"}, headers=headers)
    assert first.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409 and "409" in by_id["createKey"]["responses"]


async def test_refusals_answer_the_documented_error_body(harness: PortalHarness) -> None:
    spec = document(harness)
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message", "details"]
    by_id = {operation["operationId"]: operation for _, _, operation in operations(spec)}
    viewer = await harness.login("acme-viewer")
    auth = {"Authorization": f"Bearer {viewer.token}"}
    async with raw(harness) as http:
        real = {
            ("createKey", 403): await http.post("/api/v1/keys", json={"name": "x"}, headers=auth),
            ("getKey", 404): await http.get("/api/v1/keys/999999", headers=auth),
            ("listKeys", 422): await http.get("/api/v1/keys?limit=0", headers=auth),
            ("login", 401): await http.post("/api/v1/auth/login", json={"login": "acme-viewer", "password": "no"}),
            ("getBalance", 401): await http.get("/api/v1/credits/balance"),
        }
    for (name, status), answer in real.items():
        assert answer.status_code == status, (name, answer.text)
        assert set(answer.json()) == {"code", "message", "details"}
        documented = by_id[name]["responses"][str(status)]
        assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, name
    # Every refusal an operation documents uses that body; nothing refers to FastAPI's own shape.
    for _, _, operation in operations(spec):
        for status, answer in operation["responses"].items():
            if int(status) >= 400 and operation["operationId"] not in ("getReadiness", "headReadiness"):
                assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "HTTPValidationError" not in json.dumps(spec)


async def test_every_request_body_has_an_example_its_model_accepts(harness: PortalHarness) -> None:
    for model, example in EXAMPLES.items():
        model.model_validate(example)  # raises if the example drifted from the model
    spec = document(harness)
    without = [operation["operationId"] for _, _, operation in operations(spec)
               for media in operation.get("requestBody", {}).get("content", {}).values() if "example" not in media]
    assert without == []


async def test_the_docs_page_loads_only_the_portals_own_files(harness: PortalHarness) -> None:
    async with raw(harness) as http:
        for page in ("/docs", "/redoc"):
            html = (await http.get(page)).text
            sources = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", html)
            urls = [url for pair in sources for url in pair if url]
            assert urls and not [url for url in urls if "://" in url or url.startswith("//")], (page, urls)
            for url in urls:
                answer = await http.get(url)
                assert answer.status_code == 200 and answer.content, url


async def test_the_spec_matches_the_committed_copy(harness: PortalHarness) -> None:
    spec = json.loads(json.dumps(document(harness)))
    assert COMMITTED.exists(), "write it: .venv/bin/python -m seattui.portal.spec > tests/openapi.json"
    assert spec == json.loads(COMMITTED.read_text()), (
        "The API changed. If that is meant, update the copy: "
        ".venv/bin/python -m seattui.portal.spec > tests/openapi.json")


async def test_a_generated_client_logs_in_reads_the_balance_and_pages_through_keys(
    harness: PortalHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_file = tmp_path / "openapi.json"
    spec_file.write_text(json.dumps(document(harness)))
    tool = Path(sys.executable).with_name("openapi-python-client")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    # The invoice PDF is a file to the generator, as any binary body.
    config = tmp_path / "generator.json"
    config.write_text(json.dumps({"content_type_overrides": {"application/pdf": "application/octet-stream"}}))
    done = await asyncio.to_thread(subprocess.run, [
        str(tool), "generate", "--path", str(spec_file), "--output-path", str(tmp_path / "portal_client"),
        "--meta", "none", "--config", str(config)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Cannot parse" not in done.stdout + done.stderr  # every response and body was understood
    owner = await harness.login("acme-owner")
    for n in range(5):
        await owner.create_key(f"Generated {n}")

    monkeypatch.syspath_prepend(str(tmp_path))
    client_module = importlib.import_module("portal_client.client")
    login = importlib.import_module("portal_client.api.session.login")
    get_balance = importlib.import_module("portal_client.api.credits_.get_balance")
    list_keys = importlib.import_module("portal_client.api.keys.list_keys")
    credentials = importlib.import_module("portal_client.models.credentials")
    try:
        transport = {"transport": httpx.ASGITransport(app=harness.app)}
        anonymous = client_module.Client(base_url="http://portal", httpx_args=transport)
        session = await login.asyncio(client=anonymous,
                                      body=credentials.Credentials(login="acme-owner", password=PASSWORD))
        assert session is not None and hasattr(session, "token"), session
        client = client_module.AuthenticatedClient(base_url="http://portal", token=session.token,
                                                   httpx_args=transport)
        balance = await get_balance.asyncio(client=client)
        assert str(balance.balance) == str((await owner.balance()).balance)
        names, cursor = [], None
        while True:
            page = await list_keys.asyncio(client=client, limit=2, **({"cursor": cursor} if cursor else {}))
            names += [key.name for key in page.items]
            cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
            if cursor is None:
                break
        assert sorted(name for name in names if name.startswith("Generated")) == [f"Generated {n}" for n in range(5)]
        refused = await get_balance.asyncio(client=client_module.AuthenticatedClient(
            base_url="http://portal", token="not-a-token", httpx_args=transport))
        assert refused.code in ("unauthenticated", "session_expired")  # the Error model, parsed
    finally:
        for name in [name for name in sys.modules if name == "portal_client" or name.startswith("portal_client.")]:
            del sys.modules[name]
