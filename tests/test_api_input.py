"""Hostile input through the client, on SQLite and PostgreSQL with the same answers: ids too
big for the store, NUL bytes and other control characters, huge amounts, values of the wrong
type, empty and broken CSV files. Each is a 422 naming the field (or the bad rows), never a
5xx; and a caller who may not act hears 403 first, whatever the body holds."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from sqlalchemy import update

from seattui.domain.errors import Conflict, ImportRefused, InvalidCredentials, PermissionDenied, PortalFault, ValidationFailed
from seattui.domain.people import EmployeeFields
from seattui.portal.store.tables import employees

from harness import PortalHarness

API = "/api/v1"
HUGE = 1180591620717411303424  # 2**70
HOSTILE_NAME = "M\u001b]0;PWNED\u0007\u001b[2J"


async def refused(client: Any, method: str, path: str, **options: Any) -> dict[str, str]:
    """The fields a request is refused for (422)."""
    with pytest.raises(ValidationFailed) as refusal:
        await client.request(method, f"{API}{path}", **options)
    return refusal.value.fields


# -- ids the store cannot hold -------------------------------------------------------------------

async def test_every_path_id_too_big_for_the_store_is_refused_naming_it(harness: PortalHarness) -> None:
    owner = await harness.login("vendor-admin")  # may do everything that takes an id
    reseller = await harness.login("acme-owner")  # but child accounts, which are a reseller's
    paths = harness.app.openapi()["paths"]
    probed = 0
    for template, operations in paths.items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", [])
                     if p["in"] == "path" and p["schema"].get("type") == "integer"]
            if not names:
                continue
            path = template.removeprefix(API)
            for name in names:
                path = path.replace("{" + name + "}", str(HUGE))
            caller = reseller if template.startswith(f"{API}/children") else owner
            fields = await refused(caller, method.upper(), path, body={} if method != "get" else None)
            assert any(name in fields for name in names), (method, template, fields)
            probed += 1
    assert probed >= 15


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/employees/lookup", {"ids": [1, HUGE]}, "ids.1"),
    ("/employees/departures", {"ids": [HUGE]}, "ids.0"),
    ("/licenses/deletion", {"license_ids": [HUGE]}, "license_ids.0"),
    ("/licenses/deletion/quote", {"license_ids": [-HUGE]}, "license_ids.0"),
    ("/support/quote", {"license_ids": [HUGE], "years": 1}, "license_ids.0"),
    ("/seats", {"employee_ids": [HUGE], "product_id": "workspace"}, "employee_ids.0"),
    ("/seat-batches", {"moves": [{"from_id": HUGE, "to_id": 1}], "dry_run": True}, "moves.0.from_id"),
])
async def test_ids_in_bodies_too_big_for_the_store_are_refused_naming_them(
    harness: PortalHarness, path: str, body: dict[str, Any], field: str
) -> None:
    owner = await harness.login("acme-owner")
    assert field in await refused(owner, "POST", path, body=body)


@pytest.mark.parametrize("reference", [str(HUGE), "0", "\u00b2"])  # past the store, no id, a digit not 0-9
async def test_an_invoice_reference_no_invoice_can_have_is_not_found(harness: PortalHarness, reference: str) -> None:
    from seattui.domain.errors import NotFound

    owner = await harness.login("acme-owner")
    for method, path in (("GET", f"/invoices/{reference}"), ("POST", f"/invoices/{reference}/payment"),
                         ("GET", f"/invoices/{reference}/pdf"), ("POST", f"/invoices/{reference}/email")):
        with pytest.raises(NotFound):
            await owner.request(method, f"{API}{path}")


async def test_a_forged_cursor_with_a_huge_number_or_a_nul_is_refused(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    for values in ([HUGE], ["a\u0000b", 1], ["Ann", HUGE]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        for path in ("/credits/ledger", "/employees", "/keys", "/licenses", "/audit"):
            assert "cursor" in await refused(owner, "GET", path, params={"cursor": cursor})


# -- NUL and other control characters -------------------------------------------------------------

@pytest.mark.parametrize("text", ["a\u0000b", HOSTILE_NAME, "Zo\u0085ë", "abc\u202egpj.exe", "tab\there", "\u007f"])
async def test_control_characters_in_text_fields_are_refused_naming_the_field(
    harness: PortalHarness, text: str
) -> None:
    owner = await harness.login("acme-owner")
    person = {"name": "Ann Smith", "email": "ann@example.com", "department": "Sales"}
    assert list(await refused(owner, "POST", "/keys", body={"name": text})) == ["name"]
    assert list(await refused(owner, "POST", "/employees", body=person | {"name": text})) == ["name"]
    assert list(await refused(owner, "POST", "/employees", body=person | {"department": text})) == ["department"]
    key = await owner.create_key("Contoso")
    assert list(await refused(owner, "PATCH", f"/keys/{key.id}", body={"name": text})) == ["name"]
    order = {"key": key.key, "product_id": "remotedesk", "edition_id": "standard", "term": "trial",
             "trial_days": 14, "quantity": 5}
    assert list(await refused(owner, "POST", "/licenses", body=order | {"comment": text})) == ["comment"]
    assert list(await refused(owner, "POST", "/licenses", body=order | {"product_id": text})) == ["product_id"]
    assert list(await refused(harness.client(), "POST", "/auth/login",
                              body={"login": text, "password": "x"})) == ["login"]
    activation = {"key": key.key, "product_id": "remotedesk", "fingerprint": "9f2c41d7e0b5a8c3"}
    assert list(await refused(harness.client(), "POST", "/activation/activate",
                              body=activation | {"hostname": text})) == ["hostname"]
    assert (await owner.keys()).total == 1 and (await owner.employees()).total == 0


@pytest.mark.parametrize(("path", "param"), [
    ("/employees", "q"), ("/employees", "department"), ("/employees/departments", "without_seat"),
    ("/employees/ids", "q"), ("/keys", "q"), ("/licenses", "q"), ("/licenses/facets", "product_id"),
    ("/licenses/ids", "edition_id"), ("/audit", "batch_id"),
])
async def test_a_nul_in_a_query_parameter_is_refused_naming_it(harness: PortalHarness, path: str, param: str) -> None:
    owner = await harness.login("acme-owner")
    assert list(await refused(owner, "GET", path, params={param: "a\u0000b"})) == [param]


async def test_a_nul_in_a_path_or_a_header_is_refused(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    assert "batch_id" in await refused(owner, "GET", "/seat-batches/a%00b")
    with pytest.raises(ValidationFailed) as refusal:
        await owner.request("POST", f"{API}/keys", body={"name": "x"}, idempotency_key="key\u0001")
    assert "Idempotency-Key" in refusal.value.fields


async def test_csv_rows_with_control_characters_are_bad_rows(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    csv = (
        "name,email,department\n"
        "Ann Smith,ann@example.com,Sales\n"
        f"{HOSTILE_NAME},m@example.com,Sales\n"
        "Bob Jones,bob@example.com,Fin\u202eance\n"
        "Cy Young,cy\u0000@example.com,Ops\n"
    )
    with pytest.raises(ImportRefused) as refusal:
        await owner.import_employees(csv)
    lines = {row["line"]: row["reason"] for row in refusal.value.rows}
    assert sorted(lines) == [3, 4, 5]
    assert lines[3].lower().startswith("name: control characters u+001b, u+0007")
    assert lines[4].lower().startswith("department: control character u+202e")
    assert (await owner.employees()).total == 0


# -- CSV files that are empty or broken -----------------------------------------------------------

async def test_an_import_of_a_header_alone_adds_nobody(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    assert (await owner.import_employees("name,email,department\n")).added == 0


async def test_an_unterminated_quote_is_a_bad_row_with_its_line(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    with pytest.raises(ImportRefused) as refusal:
        await owner.import_employees('name,email,department\nAnn Smith,ann@example.com,Sales\n"Bob,bob@example.com,Ops\n')
    assert [row["line"] for row in refusal.value.rows] == [3]
    with pytest.raises(ImportRefused) as refusal:
        await owner.import_employees('name,email,department\n"Bob,bob@example.com,Ops\n')
    assert [row["line"] for row in refusal.value.rows] == [2]
    with pytest.raises(ValidationFailed, match="empty"):
        await owner.import_employees("")
    assert (await owner.employees()).total == 0


# -- amounts and quantities: ranges, types, permission first ------------------------------------

@pytest.mark.parametrize("amount", [1e30, "1e30", "-1e30", "1e-30", "NaN", True, "100000000.01", 0])
async def test_a_grant_out_of_range_or_of_the_wrong_type_is_refused_naming_the_amount(
    harness: PortalHarness, amount: object
) -> None:
    vendor = await harness.login("vendor-admin")
    acme = harness.world.org_ids["Acme"]
    assert list(await refused(vendor, "POST", f"/organizations/{acme}/credit-grants", body={"amount": amount})) == ["amount"]
    entry = await vendor.request("POST", f"{API}/organizations/{acme}/credit-grants", body={"amount": "100000000"})
    assert entry.json()["amount"] == "100000000.00"


async def test_permission_is_checked_before_the_body(harness: PortalHarness) -> None:
    reseller = await harness.login("acme-owner")
    globex = harness.world.org_ids["Globex"]
    with pytest.raises(PermissionDenied):
        await reseller.request("POST", f"{API}/organizations/{globex}/credit-grants", body={"amount": 1e30})
    viewer = await harness.login("acme-viewer")
    for method, path, body in [
        ("POST", "/licenses", {"quantity": 1e30}),
        ("POST", "/subscriptions", {"channels": True}),
        ("POST", "/support/extensions", {"license_ids": [HUGE], "years": 10**9}),
        ("POST", "/seats", {"employee_ids": "all"}),
        ("POST", "/keys", {"name": HOSTILE_NAME}),
        ("POST", "/employees", {"name": 7}),
        ("PATCH", f"/keys/{HUGE}", {}),
    ]:
        with pytest.raises(PermissionDenied):
            await viewer.request(method, f"{API}{path}", body=body)


@pytest.mark.parametrize("quantity", [True, 1.0, "1", 1e30, 0, 100_001])
async def test_quantities_are_whole_json_numbers_in_their_range(harness: PortalHarness, quantity: object) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso")
    order = {"key": key.key, "product_id": "remotedesk", "edition_id": "standard", "term": "permanent"}
    assert list(await refused(owner, "POST", "/licenses/quote", body=order | {"quantity": quantity})) == ["quantity"]
    assert list(await refused(owner, "POST", "/licenses", body=order | {"quantity": quantity})) == ["quantity"]
    assert (await owner.balance()).balance == 1000


@pytest.mark.parametrize("value", [True, "2", 2.0])
async def test_channels_years_and_trial_days_are_strict_too(harness: PortalHarness, value: object) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso")
    subscription = {"key": key.key, "product_id": "connect", "channels": value}
    assert "channels" in await refused(owner, "POST", "/subscriptions/quote", body=subscription)
    assert "years" in await refused(owner, "POST", "/support/quote", body={"license_ids": [1], "years": value})
    trial = {"key": key.key, "product_id": "remotedesk", "edition_id": "standard", "term": "trial",
             "trial_days": value, "quantity": 5}
    assert "trial_days" in await refused(owner, "POST", "/licenses/quote", body=trial)


@pytest.mark.parametrize("typed", ["ABCD-EFGH-JKLM-NPQ\ufb00", "ABCD-EFGH-JKLM-NP\ufb00", "ABCDEFGHJKLMNPQ\u0131",
                                   "ABCD-EFGH-JKLM-NPQ\u0000"])
async def test_a_key_is_checked_as_typed_before_it_is_upper_cased(harness: PortalHarness, typed: str) -> None:
    owner = await harness.login("acme-owner")
    assert list(await refused(owner, "POST", "/keys", body={"name": "x", "key": typed})) == ["key"]
    assert (await owner.create_key("x", "abcd-efgh-jklm-npqr")).key == "ABCD-EFGH-JKLM-NPQR"


async def test_a_name_stored_before_the_rule_still_reads_back(harness: PortalHarness) -> None:
    """Rows written before control characters were refused still list and open."""
    owner = await harness.login("acme-owner")
    added = await owner.add_employee(EmployeeFields(name="Ann Smith", email="ann@example.com"))
    async with harness.portal.store.write() as conn:
        await conn.execute(update(employees).where(employees.c.id == added.id).values(name=HOSTILE_NAME))
    assert (await owner.employee(added.id)).name == HOSTILE_NAME
    assert [e.name for e in (await owner.employees()).items] == [HOSTILE_NAME]


# -- the log: one line per refused input, a traceback only for a real fault ------------------

async def test_refused_input_logs_one_line_and_a_fault_its_traceback(
    harness: PortalHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await harness.login("acme-owner")
    caplog.clear()
    with caplog.at_level("INFO", logger="seattui.portal"):
        await refused(owner, "GET", f"/keys/{HUGE}")
        await refused(owner, "POST", "/keys", body={"name": HOSTILE_NAME})
        await refused(owner, "GET", "/employees", params={"q": "\u0000"})
    lines = [record for record in caplog.records if record.name == "seattui.portal"]
    assert [record.levelname for record in lines] == ["INFO"] * 3
    assert not any(record.exc_info for record in lines)
    assert lines[1].getMessage() == "refused POST /api/v1/keys: 422 validation_failed (name)"

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("seattui.portal.services.keys.list_keys", broken)
    caplog.clear()
    with caplog.at_level("INFO", logger="seattui.portal"), pytest.raises(PortalFault):
        await owner.keys()
    faults = [record for record in caplog.records if record.name == "seattui.portal"]
    assert len(faults) == 1 and faults[0].levelname == "ERROR" and faults[0].exc_info


@pytest.mark.parametrize(("path", "sort", "values"), [
    ("/licenses", "quantity", ["99999999999999999999999", 1]),
    ("/licenses", "quantity", [1e300, 1]),
    ("/licenses", "customer", [5, 1]),
    ("/licenses", "support", [5, 1]),
    ("/licenses", "created", ["yesterday", 1]),
    ("/employees", "name", [[1], 1]),
    ("/employees", "email", [5, 1]),
    ("/keys", "created", [{"a": 1}, 1]),
    ("/keys", "name", [5, 1]),
    ("/employees", "name", [1e300, 1]),
    ("/keys", "created", [1e300, 1]),
    ("/licenses", "key", [True, 1]),
])
async def test_a_forged_cursor_of_the_wrong_type_for_its_sort_is_refused(
    harness: PortalHarness, path: str, sort: str, values: list[Any]
) -> None:
    owner = await harness.login("acme-owner")
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
    assert "cursor" in await refused(owner, "GET", path, params={"cursor": cursor, "sort": sort})


async def test_text_that_lower_casing_lengthens_still_fits_its_column(harness: PortalHarness) -> None:
    """"İ" lower-cases to two characters: a 64-character login or a long email would no
    longer fit the store's column on PostgreSQL."""
    with pytest.raises(InvalidCredentials):
        await harness.client().login("İ" * 64, "a guess")
    owner = await harness.login("acme-owner")
    email = "İ" * 64 + "@" + ".".join(["d" * 59] * 3) + ".example"
    assert "email" in await refused(owner, "POST", "/employees", body={"name": "Ann", "email": email})


async def test_two_adds_of_one_email_at_once_are_one_employee_and_a_conflict(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    person = EmployeeFields(name="Ann Smith", email="ann@example.com")
    answers = await asyncio.gather(*(owner.add_employee(person) for _ in range(6)), return_exceptions=True)
    assert sum(not isinstance(answer, BaseException) for answer in answers) == 1
    assert all(isinstance(answer, Conflict) for answer in answers if isinstance(answer, BaseException)), answers
    assert (await owner.employees()).total == 1
