"""Credits: the balance, the paginated ledger, the vendor's grants, idempotency, the audit,
and organizations kept apart."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from seattui.domain.credits import LedgerReason
from seattui.domain.errors import (
    IdempotencyKeyReused,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)

from harness import PortalHarness


async def test_the_balance_is_the_organizations_own(harness: PortalHarness) -> None:
    acme = await harness.login("acme-viewer")
    globex = await harness.login("globex-owner")
    assert (await acme.balance()).model_dump(mode="json") == {
        "organization": "Acme", "balance": "1000.00", "unit": "credits"}
    assert (await globex.balance()).balance == Decimal("500.00")


async def test_the_balance_needs_a_session(harness: PortalHarness) -> None:
    with pytest.raises(Unauthenticated):
        await harness.client().balance()


async def test_the_vendor_grants_credits_and_the_ledger_names_it(harness: PortalHarness) -> None:
    vendor = await harness.login("vendor-admin")
    acme_id = harness.world.org_ids["Acme"]
    entry = await vendor.grant_credits(acme_id, Decimal("250.50"), "Q3 top-up")
    assert (entry.amount, entry.balance_after, entry.reason) == (Decimal("250.50"), Decimal("1250.50"), LedgerReason.GRANT)
    acme = await harness.login("acme-owner")
    assert (await acme.balance()).balance == Decimal("1250.50")
    newest = (await acme.ledger(limit=1)).items[0]
    assert (newest.memo, newest.object_type, newest.object_id) == ("Q3 top-up", "organization", acme_id)
    audit = (await vendor.audit()).items
    assert audit[0].action == "credits.grant" and "250.50" in audit[0].summary


async def test_only_the_vendor_grants_and_only_to_its_resellers(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    with pytest.raises(PermissionDenied, match="may not"):
        await owner.grant_credits(harness.world.org_ids["Acme"], Decimal("1000000"))
    vendor = await harness.login("vendor-admin")
    with pytest.raises(NotFound):
        await vendor.grant_credits(999_999, Decimal("10"))
    with pytest.raises(NotFound):
        await vendor.grant_credits(harness.world.vendor_id, Decimal("10"))
    assert (await owner.balance()).balance == Decimal("1000.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5", "above zero"), ("0", "above zero"), ("1.005", "two decimal places"), ("1e12", "at most"),
     ("lots", "Not a number")],
)
async def test_a_bad_grant_amount_names_the_field(harness: PortalHarness, amount: str, message: str) -> None:
    vendor = await harness.login("vendor-admin")
    with pytest.raises(ValidationFailed, match=message) as refused:
        await vendor.request("POST", f"/api/v1/organizations/{harness.world.org_ids['Acme']}/credit-grants",
                             body={"amount": amount})
    assert "amount" in refused.value.fields


async def test_a_retried_grant_is_applied_once(harness: PortalHarness) -> None:
    vendor = await harness.login("vendor-admin")
    path = f"/api/v1/organizations/{harness.world.org_ids['Acme']}/credit-grants"
    key = str(uuid.uuid4())
    first = await vendor.request("POST", path, body={"amount": "100.00"}, idempotency_key=key)
    again = await vendor.request("POST", path, body={"amount": "100.00"}, idempotency_key=key)
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(IdempotencyKeyReused, match="another request"):
        await vendor.request("POST", path, body={"amount": "999.00"}, idempotency_key=key)
    acme = await harness.login("acme-owner")
    assert (await acme.balance()).balance == Decimal("1100.00")


async def test_the_ledger_pages_newest_first_without_gaps(harness: PortalHarness) -> None:
    vendor = await harness.login("vendor-admin")
    for cents in range(1, 8):
        await vendor.grant_credits(harness.world.org_ids["Globex"], Decimal(cents))
    globex = await harness.login("globex-owner")
    seen, cursor = [], None
    while True:
        page = await globex.ledger(cursor=cursor, limit=3)
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [entry.amount for entry in seen] == [Decimal(c) for c in range(7, 0, -1)] + [Decimal("500.00")]
    assert seen[0].balance_after == Decimal("528.00")
    assert all(a.id > b.id for a, b in zip(seen, seen[1:]))


async def test_a_forged_cursor_or_an_oversized_page_is_refused(harness: PortalHarness) -> None:
    acme = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed) as refused:
        await acme.ledger(cursor="not-a-cursor")
    assert "cursor" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        await acme.ledger(limit=10_000)
    assert "limit" in refused.value.fields


async def test_each_organization_sees_only_its_own_ledger_and_audit(harness: PortalHarness) -> None:
    vendor = await harness.login("vendor-admin")
    await vendor.grant_credits(harness.world.org_ids["Globex"], Decimal("42"), "for globex only")
    acme = await harness.login("acme-owner")
    assert all("globex" not in entry.memo for entry in (await acme.ledger()).items)
    actions = [entry.summary for entry in (await acme.audit()).items]
    assert actions and not any("Globex" in summary for summary in actions)


async def test_unknown_endpoints_and_oversized_bodies_get_the_error_shape(harness: PortalHarness) -> None:
    acme = await harness.login("acme-owner")
    raw = await acme._http.get("/api/v1/nowhere")
    assert raw.status_code == 404 and set(raw.json()) == {"code", "message", "details"}
    huge = await acme._http.post("/api/v1/auth/login", content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
                                 headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"
    broken = await acme._http.post("/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["code"] == "validation_failed"


async def test_the_openapi_document_is_served(harness: PortalHarness) -> None:
    spec = (await harness.client()._http.get("/api/v1/openapi.json")).json()
    assert "/api/v1/credits/balance" in spec["paths"]


async def test_concurrent_twins_with_one_idempotency_key_apply_once(harness: PortalHarness) -> None:
    import asyncio

    vendor = await harness.login("vendor-admin")
    path = f"/api/v1/organizations/{harness.world.org_ids['Globex']}/credit-grants"
    key = str(uuid.uuid4())
    responses = await asyncio.gather(
        *(vendor.request("POST", path, body={"amount": "10.00"}, idempotency_key=key) for _ in range(6))
    )
    assert {response.json()["id"] for response in responses} == {responses[0].json()["id"]}
    globex = await harness.login("globex-owner")
    assert (await globex.balance()).balance == Decimal("510.00")


async def test_a_failure_inside_the_portal_is_an_error_message_not_a_traceback(
    harness: PortalHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seattui.domain.errors import PortalFault
    from seattui.portal.services import credits

    async def broken(tx):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(credits, "balance", broken)
    acme = await harness.login("acme-owner")
    acme.retries = 0
    with pytest.raises(PortalFault, match="failed inside") as failed:
        await acme.balance()
    assert "disk on fire" not in failed.value.message and failed.value.details["incident"]
