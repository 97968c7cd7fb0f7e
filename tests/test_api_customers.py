"""Customers through the client: made by assigning a license or subscription to an email (one
customer per email whatever its case), listed with counts and this year's spend, filtered
and paged, added and edited; a license on a device stays with its customer; organizations
apart; roles."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from seattui.domain.customers import CustomerDetails, CustomerFilter, CustomerSort, NewCustomer
from seattui.domain.errors import Conflict, LicenseActivated, NotFound, PermissionDenied, ValidationFailed
from seattui.domain.licensing import LicenseEdit, LicenseOrder, Term

from harness import PortalHarness
from license_setup import a_license, on_device


async def everyone(client, chosen=None, **options):  # type: ignore[no-untyped-def]
    seen, cursor = [], None
    while True:
        page = await client.customers(chosen, cursor=cursor, **options)
        seen += page.items
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


async def test_assigning_a_license_to_an_email_makes_one_customer_whatever_the_case(harness: PortalHarness) -> None:
    await a_license(harness, customer_email="Ada@Example.Org", quantity=2)
    await a_license(harness, customer_email="ada@example.org", quantity=1)
    await a_license(harness, customer_email="bob@example.org", quantity=1)
    await a_license(harness, quantity=1)  # no customer
    admin = await harness.login("acme-admin")
    listed = await everyone(admin)
    assert [(c.email, c.licenses) for c in listed] == [("ada@example.org", 2), ("bob@example.org", 1)]
    ada = listed[0]
    detail = await admin.customer(ada.id)
    assert sorted(h.what for h in detail.holdings) == ["RemoteDesk permanent, 1 user", "RemoteDesk permanent, 2 users"]
    # Both purchases were paid: the spend is what their order lines charged this year.
    assert ada.spend_this_year == sum((line.amount for line in detail.lines), Decimal("0")) > 0
    assert {line.object_id for line in detail.lines} == {h.id for h in detail.holdings}


async def test_a_refund_takes_back_from_the_spend(harness: PortalHarness) -> None:
    bought = await a_license(harness, customer_email="ada@example.org")
    admin = await harness.login("acme-admin")
    [ada] = await everyone(admin)
    assert ada.spend_this_year == bought.paid > 0
    await admin.delete_licenses([bought.id])
    [ada] = await everyone(admin)
    assert (ada.licenses, ada.spend_this_year) == (0, Decimal("0.00"))


async def test_filter_sort_and_pages_cover_every_customer_once(harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    for n in range(23):
        await admin.add_customer(NewCustomer(email=f"user{n:02d}@example.org", name=f"Name {22 - n:02d}",
                                             company="Initech" if n % 3 == 0 else "Hooli"))
    seen, cursor = [], None
    while True:
        page = await admin.customers(sort=CustomerSort.NAME, cursor=cursor, limit=5)
        assert page.total == (23 if cursor is None else None)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [c.name for c in seen] == sorted(c.name for c in seen) and len({c.id for c in seen}) == 23
    initech = await everyone(admin, CustomerFilter(text="INITECH user1"))
    assert sorted(c.email for c in initech) == ["user12@example.org", "user15@example.org", "user18@example.org"]
    assert await everyone(admin, CustomerFilter(text="100%_")) == []  # wildcards are plain text


async def test_a_filter_pages_alike_whether_its_matches_are_few_or_many(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    from seattui.portal.services import customers as customer_service

    admin = await harness.login("acme-admin")
    for n in range(12):
        await admin.add_customer(NewCustomer(email=f"user{n:02d}@example.org", name=f"Name {11 - n:02d}",
                                             company="Initech" if n % 2 else "Hooli"))

    async def pages(wanted: CustomerFilter) -> tuple[int | None, list[str]]:
        seen, cursor, total = [], None, None
        while True:
            page = await admin.customers(wanted, sort=CustomerSort.NAME, descending=True, cursor=cursor, limit=4)
            total = page.total if cursor is None else total
            seen += [c.email for c in page.items]
            if page.next_cursor is None:
                return total, seen
            cursor = page.next_cursor

    few = await pages(CustomerFilter(text="initech"))  # 6 matches: gathered first, read by id
    monkeypatch.setattr(customer_service, "FEW_MATCHES", 3)  # now many: the page walks the sort
    many = await pages(CustomerFilter(text="initech"))
    assert few == many == (6, [f"user{n:02d}@example.org" for n in (1, 3, 5, 7, 9, 11)])


async def test_add_and_edit_a_customer_and_the_email_is_unique(harness: PortalHarness) -> None:
    op = await harness.login("acme-op")
    added = await op.add_customer(NewCustomer(email=" Grace@Example.Org ", name="Grace Hopper", company="Navy"))
    assert (added.email, added.name, added.licenses, added.spend_this_year) == (
        "grace@example.org", "Grace Hopper", 0, Decimal("0.00"))
    with pytest.raises(Conflict, match=f"already customer {added.id}"):
        await op.add_customer(NewCustomer(email="GRACE@example.org"))
    edited = await op.edit_customer(added.id, CustomerDetails(name="Grace B. Hopper", company="US Navy",
                                                              address="1 Main St, Arlington", notes="prefers mail"))
    assert (edited.name, edited.company, edited.address, edited.email) == (
        "Grace B. Hopper", "US Navy", "1 Main St, Arlington", "grace@example.org")
    # A license assigned to her email later joins the same customer.
    await a_license(harness, customer_email="grace@EXAMPLE.org")
    assert (await op.customer(added.id)).customer.licenses == 1
    with pytest.raises(ValidationFailed, match="^Name: Control character"):
        await op.edit_customer(added.id, CustomerDetails.model_construct(name="x\x1b[2J", company="", address="",
                                                                          notes=""))


async def test_a_license_on_a_device_stays_with_its_customer(harness: PortalHarness) -> None:
    license = await a_license(harness, customer_email="ada@example.org")
    op = await harness.login("acme-op")
    moved = await op.edit_license(license.id, LicenseEdit(customer_email="bob@example.org", comment="moved"))
    assert moved.customer_email == "bob@example.org"
    await on_device(harness, moved, "ws-01")
    with pytest.raises(LicenseActivated, match="Deactivate it first"):
        await op.edit_license(license.id, LicenseEdit(customer_email="carol@example.org"))
    # The comment and the same customer in another case may still change.
    kept = await op.edit_license(license.id, LicenseEdit(customer_email="BOB@example.org", comment="on ws-01"))
    assert kept.comment == "on ws-01"
    customers = {c.email: c.licenses for c in await everyone(op)}
    assert customers == {"ada@example.org": 0, "bob@example.org": 1}


async def test_two_purchases_for_a_new_email_at_once_make_one_customer(harness: PortalHarness) -> None:
    admin = await harness.login("acme-admin")
    keys = [await admin.create_key(f"k{n}") for n in range(6)]
    await asyncio.gather(*(admin.create_license(LicenseOrder(
        key=key.key, product_id="remotedesk", edition_id="standard", term=Term.PERMANENT, quantity=1,
        customer_email="new@example.org")) for key in keys))
    assert [(c.email, c.licenses) for c in await everyone(admin)] == [("new@example.org", 6)]


async def test_another_organizations_customer_is_not_found(harness: PortalHarness) -> None:
    await a_license(harness, customer_email="ada@example.org")
    acme = await harness.login("acme-admin")
    [ada] = await everyone(acme)
    globex = await harness.login("globex-owner")
    assert await everyone(globex) == []
    with pytest.raises(NotFound):
        await globex.customer(ada.id)
    with pytest.raises(NotFound):
        await globex.edit_customer(ada.id, CustomerDetails(name="taken"))
    # The same email is a customer of its own in another organization.
    await a_license(harness, "Globex", customer_email="ada@example.org")
    [theirs] = await everyone(globex)
    assert theirs.id != ada.id and theirs.licenses == 1


async def test_viewers_read_customers_but_do_not_change_them(harness: PortalHarness) -> None:
    await a_license(harness, customer_email="ada@example.org")
    viewer = await harness.login("acme-viewer")
    [ada] = await everyone(viewer)
    with pytest.raises(PermissionDenied):
        await viewer.add_customer(NewCustomer(email="bob@example.org"))
    with pytest.raises(PermissionDenied):
        await viewer.edit_customer(ada.id, CustomerDetails(name="Ada"))
