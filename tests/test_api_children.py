"""Child accounts through the real client, on both stores: a reseller creates a child, invites
its first member, moves licenses and seat plans into it and pays for its orders; a child's
users see only the child; another organization's child and the parent's objects seen from the
child are "not found"; two children buying at once never take the parent's credits below zero."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from seattui.client import PortalClient
from seattui.domain.billing import BillingTerms, PaymentMethod, PaymentTerms
from seattui.domain.credits import CreditBalance
from seattui.domain.errors import Conflict, InsufficientCredits, NotFound, PermissionDenied, ValidationFailed
from seattui.domain.licensing import LicenseFilter, LicenseOrder, Term
from seattui.domain.people import EmployeeFields
from seattui.domain.roles import OrgKind, Permission, Role
from seattui.portal.app import create_app
from seattui.portal.context import Tx
from seattui.portal.services import accounts, billing, credits
from seattui.portal.store.tables import audit_entries, licenses

from harness import PortalHarness
from harness import test_settings as settings_for  # not collected as a test
from license_setup import a_license, on_device

NEW_PASSWORD = "a long new password"
PRICE = Decimal("490.00")  # RemoteDesk Standard, 10 users


async def a_child(harness: PortalHarness, name: str = "Contoso", *, parent: str = "acme-owner",
                  login: str | None = None) -> tuple[int, PortalClient]:
    """A child of the parent's organization, with an owner who accepted the mailed invitation."""
    owner = await harness.login(parent)
    child = await owner.create_child(name)
    invitation = await owner.invite_to_child(child.id, f"it@{name.lower()}.example", "owner")
    member = harness.client()
    await member.accept_invitation(invitation.token or "", login or f"{name.lower()}-owner", NEW_PASSWORD)
    return child.id, member


def order(key: str) -> LicenseOrder:
    return LicenseOrder(key=key, product_id="remotedesk", edition_id="standard", term=Term.PERMANENT, quantity=10)


async def set_terms(harness: PortalHarness, org: str, terms: BillingTerms) -> None:
    async with harness.portal.store.write() as conn:
        actor = await accounts.organization_by_name(conn, org)
        await billing.set_terms(Tx(conn=conn, actor=actor, catalog=harness.portal.catalog, now=harness.clock.now), terms)


# -- creating and inviting -------------------------------------------------------------------


async def test_a_reseller_creates_a_child_whose_invited_owner_sees_only_the_child(harness: PortalHarness) -> None:
    child_id, member = await a_child(harness)
    me = await member.me()
    assert (me.organization.name, me.organization.kind, me.user.role) == ("Contoso", OrgKind.CHILD, Role.OWNER)
    assert Permission.MANAGE_CHILDREN not in me.permissions  # one level: a child has no children
    assert (await member.licenses()).items == []
    assert [m.login for m in await member.members()] == ["contoso-owner"]
    owner = await harness.login("acme-owner")
    [listed] = await owner.children()
    assert (listed.id, listed.name, listed.usage.members, listed.usage.licenses) == (child_id, "Contoso", 1, 0)
    assert "contoso-owner" not in [m.login for m in await owner.members()]


async def test_only_a_resellers_owners_and_admins_manage_children(harness: PortalHarness) -> None:
    for login in ("acme-op", "acme-viewer"):
        with pytest.raises(PermissionDenied):
            await (await harness.login(login)).create_child("Nope Ltd")
    assert (await (await harness.login("acme-viewer")).children()) == []
    _, member = await a_child(harness)
    with pytest.raises(PermissionDenied, match="child account has no child accounts"):
        await member.create_child("Grandchild Ltd")
    assert await member.children() == []
    admin = await harness.login("acme-admin")
    assert (await admin.create_child("Fabrikam")).name == "Fabrikam"


async def test_a_child_name_is_unique_and_plain(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.create_child("Contoso")
    with pytest.raises(Conflict, match="exists already"):
        await owner.create_child("Contoso")
    with pytest.raises(Conflict):
        await owner.create_child("Globex")  # another organization's name
    with pytest.raises(ValidationFailed):
        await owner.create_child("x")
    assert [child.name for child in await owner.children()] == ["Contoso"]


# -- isolation -------------------------------------------------------------------------------


async def test_another_organizations_child_is_not_found(harness: PortalHarness) -> None:
    child_id, _ = await a_child(harness)
    license = await a_license(harness, "Globex")
    globex = await harness.login("globex-owner")
    assert await globex.children() == []
    with pytest.raises(NotFound):
        await globex.child(child_id)
    with pytest.raises(NotFound):
        await globex.invite_to_child(child_id, "x@globex.example", "owner")
    with pytest.raises(NotFound):
        await globex.move_license_to_child(child_id, license.id)
    assert (await globex.license(license.id)).id == license.id  # nothing moved


async def test_the_parents_objects_are_not_found_from_the_child_and_the_childs_from_the_parent(
        harness: PortalHarness) -> None:
    parent_license = await a_license(harness)
    child_id, member = await a_child(harness)
    with pytest.raises(NotFound):
        await member.license(parent_license.id)
    with pytest.raises(NotFound):
        await member.child(child_id)  # not its own child
    bought = await member.create_license(order((await member.create_key("child key")).key))
    owner = await harness.login("acme-owner")
    with pytest.raises(NotFound):
        await owner.license(bought.id)  # the parent acts in a child through the child routes only
    assert bought.id not in [item.id for item in (await owner.licenses(LicenseFilter())).items]
    assert (await owner.child(child_id)).usage.licenses == 1


# -- moving licenses and seat plans ----------------------------------------------------------


async def test_a_license_moves_into_a_child_with_its_key_audited_on_both_sides(harness: PortalHarness) -> None:
    license = await a_license(harness, customer_email="ada@contoso.example", comment="for Contoso")
    child_id, member = await a_child(harness)
    owner = await harness.login("acme-owner")
    moved = await owner.move_license_to_child(child_id, license.id)
    assert (moved.license_id, moved.child, moved.key) == (license.id, "Contoso", license.key)
    with pytest.raises(NotFound):
        await owner.license(license.id)
    seen = await member.license(license.id)
    assert (seen.key, seen.customer_email) == (license.key, "ada@contoso.example")
    assert [item.id for item in (await member.licenses(LicenseFilter(q="contoso"))).items] == [license.id]
    assert (await member.licenses()).total == 1 and (await owner.licenses()).total == 0
    assert [key.key for key in (await member.keys()).items] == [license.key]
    assert (await owner.child(child_id)).usage.licenses == 1
    parent_audit = [entry.action for entry in (await owner.audit()).items]
    child_audit = [entry.action for entry in (await member.audit()).items]
    assert "child.license_out" in parent_audit and "child.license_in" in child_audit
    with pytest.raises(NotFound):  # moved already: no longer the parent's
        await owner.move_license_to_child(child_id, license.id)


async def test_a_license_on_a_device_or_sharing_its_key_does_not_move(harness: PortalHarness) -> None:
    child_id, member = await a_child(harness)
    owner = await harness.login("acme-owner")
    activated = await a_license(harness, quantity=1)
    await on_device(harness, activated, "ws-01")
    with pytest.raises(Conflict, match="activated on ws-01: deactivate it"):
        await owner.move_license_to_child(child_id, activated.id)
    first = await a_license(harness)
    await a_license(harness, key=first.key, product_id="mailguard", edition_id="basic", quantity=5)
    with pytest.raises(Conflict, match="holds 1 other license or subscription: "):
        await owner.move_license_to_child(child_id, first.id)
    assert (await member.licenses()).items == []
    assert (await owner.licenses()).total == 3


async def test_a_seat_plan_moves_only_while_none_of_its_seats_is_assigned(harness: PortalHarness) -> None:
    from seat_support import staff

    ids = await staff(harness, 2, 2)
    owner = await harness.login("acme-owner")
    [plan] = [item for item in (await owner.licenses()).items if item.product_id == "workspace"]
    child_id, member = await a_child(harness)
    with pytest.raises(Conflict, match="2 seats assigned"):
        await owner.move_license_to_child(child_id, plan.id)
    await owner.unassign_seats(ids, "workspace")
    await owner.move_license_to_child(child_id, plan.id)
    usage = (await owner.child(child_id)).usage
    assert (usage.seats_purchased, usage.seats_assigned) == (plan.quantity, 0)
    # The child seats its own employees on the plan it was given.
    dana = await member.add_employee(EmployeeFields(name="Dana Child", email="dana@contoso.example"))
    await member.assign_seats([dana.id], "workspace")
    assert (await owner.child(child_id)).usage.seats_assigned == 1


# -- billing ---------------------------------------------------------------------------------


async def test_a_childs_purchase_is_paid_by_the_parent_and_named_on_its_order(harness: PortalHarness) -> None:
    child_id, member = await a_child(harness)
    key = (await member.create_key("child")).key
    quote = await member.quote_license(order(key))
    assert quote.payment is not None and quote.payment.summary.startswith("Paid by Acme: ")
    assert quote.balance == Decimal("1000.00")
    bought = await member.create_license(order(key), idempotency_key="child-buy")
    again = await member.create_license(order(key), idempotency_key="child-buy")
    assert again.id == bought.id  # a retry charges nothing twice
    owner = await harness.login("acme-owner")
    assert (await owner.balance()).balance == Decimal("1000.00") - PRICE
    assert (await member.balance()).balance == Decimal("1000.00") - PRICE  # the credits it spends: the parent's
    [placed] = (await owner.orders()).items
    assert (placed.reference_name, placed.total, placed.paid_with) == ("Contoso", PRICE, PaymentMethod.CREDITS)
    assert placed.lines[0].object_id == bought.id
    assert (await member.orders()).items == [] and (await member.ledger()).items == []  # none of its own
    assert (await owner.child(child_id)).usage.spend_this_month == PRICE


async def test_a_balance_read_with_the_callers_token_is_the_one_read_on_its_own(harness: PortalHarness) -> None:
    """A balance request reads the balance in its token's statement (credits.BALANCE_WITH_ACTOR),
    the dashboard on its own: the same answer either way, for a child (its parent's credits),
    its parent, a session or an API token, and an organization with no ledger entry yet."""
    _, member = await a_child(harness)
    owner = await harness.login("acme-owner")
    script = harness.client(token=(await member.create_api_token("script")).token)
    paying = CreditBalance(organization="Acme", balance=Decimal("1000.00"))
    assert await member.balance() == await script.balance() == await owner.balance() == paying
    assert (await member.dashboard()).balance == (await owner.dashboard()).balance == paying
    vendor = await harness.login("vendor-admin")
    assert (await vendor.balance()).balance == (await vendor.dashboard()).balance.balance == Decimal("0.00")


async def test_a_childs_reference_name_follows_the_childs_name_and_a_refund_goes_to_the_parent(
        harness: PortalHarness) -> None:
    _, member = await a_child(harness)
    key = (await member.create_key("child")).key
    bought = await member.create_license(order(key).model_copy(update={"reference_name": "PO 7"}))
    owner = await harness.login("acme-owner")
    [placed] = (await owner.orders()).items
    assert placed.reference_name == "Contoso: PO 7"
    await member.delete_licenses([bought.id])
    assert (await owner.balance()).balance == Decimal("1000.00")  # refunded to who paid


async def test_a_child_of_a_monthly_parent_goes_on_the_parents_invoice(harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", BillingTerms(terms=PaymentTerms.MONTHLY, credit_limit=Decimal("2000.00")))
    _, member = await a_child(harness)
    key = (await member.create_key("child")).key
    quote = await member.quote_license(order(key))
    assert quote.payment is not None and quote.payment.method is PaymentMethod.INVOICE
    assert quote.payment.summary.startswith("Paid by Acme: On the ")
    await member.create_license(order(key))
    owner = await harness.login("acme-owner")
    [draft] = (await owner.invoices(unpaid=True)).items
    assert draft.total == PRICE
    detail = await owner.invoice(str(draft.id))
    assert [line.reference_name for line in detail.lines] == ["Contoso"]
    assert (await member.invoices()).items == []


@asynccontextmanager
async def second_instance(harness: PortalHarness) -> AsyncIterator[httpx.ASGITransport]:
    app = create_app(settings_for(harness.portal.settings.database_url, harness.clock))
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app, raise_app_exceptions=False)


@pytest.mark.parametrize("instances", [1, 2], ids=["one-portal", "two-portals"])
async def test_two_children_buying_at_once_never_take_the_parents_credits_below_zero(
        harness: PortalHarness, instances: int) -> None:
    # Globex has 500.00: one purchase of 490.00, whichever child is first.
    _, first = await a_child(harness, "Contoso", parent="globex-owner")
    _, second = await a_child(harness, "Fabrikam", parent="globex-owner")
    buyers: list[tuple[PortalClient, str]] = []
    for client in (first, second):
        for number in range(3):
            buyers.append((client, (await client.create_key(f"race {number}")).key))
    async with second_instance(harness) as other:
        remote = [PortalClient(transport=other, token=client.token) for client in (first, second)]
        try:
            # Every other purchase of each child goes through the second portal.
            chosen = [(remote[0 if client is first else 1] if instances == 2 and index % 2 else client, key)
                      for index, (client, key) in enumerate(buyers)]
            results = await asyncio.gather(*(client.create_license(order(key)) for client, key in chosen),
                                           return_exceptions=True)
        finally:
            for client in remote:
                await client.aclose()
    bought = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, InsufficientCredits)]
    assert (len(bought), len(refused)) == (1, len(buyers) - 1), results
    globex = harness.world.org_ids["Globex"]
    async with harness.portal.store.read() as conn:
        assert await credits.balance_of(conn, globex) == Decimal("10.00")
        assert await credits.ledger_sum(conn, globex) == Decimal("10.00")
        made = await conn.scalar(select(func.count()).select_from(licenses).where(licenses.c.product_id == "remotedesk"))
        assert made == 1
        audited = await conn.scalar(select(func.count()).select_from(audit_entries)
                                    .where(audit_entries.c.action == "license.create"))
        assert audited == 1


async def test_the_billing_run_bills_a_childs_seat_days_to_the_parent(harness: PortalHarness) -> None:
    from datetime import UTC, date, datetime

    from seattui.domain.billing import OrderKind
    from seattui.portal.billing_run import run_billing

    harness.clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    _, member = await a_child(harness)
    key = (await member.create_key("seats")).key
    plan = await member.create_license(LicenseOrder(key=key, product_id="workspace", term=Term.FLEXIBLE, quantity=5))
    people = [await member.add_employee(EmployeeFields(name=f"Person {n}", email=f"p{n}@contoso.example"))
              for n in range(2)]
    await member.assign_seats([person.id for person in people], "workspace")
    owner = await harness.login("acme-owner")
    before = (await owner.balance()).balance
    harness.clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await run_billing(harness.portal.store, date(2026, 12, 1), harness.clock, catalog=harness.portal.catalog)
    [seats] = [order for order in (await owner.orders()).items if order.kind is OrderKind.SEATS]
    assert seats.reference_name == "Contoso" and seats.lines[0].object_id == plan.id
    assert seats.lines[0].quantity == 20  # two seats, ten nights each
    assert (await owner.balance()).balance == before - seats.total
    assert (await member.orders()).items == []
