"""Activation keys through the client: random or custom, unique, listed with their counts
(filter, sort, pages), read with what is attached, renamed, deleted only while unused;
each change audited, each organization's keys its own."""

from __future__ import annotations

import secrets

import pytest

from seattui.domain.errors import KeyInUse, KeyTaken, NotFound, PermissionDenied, ValidationFailed
from seattui.domain.keys import is_key
from seattui.domain.licensing import KeyHolds, KeySort, LicenseOrder, SubscriptionOrder, Term

from harness import PortalHarness


def trial(key: str, product: str = "remotedesk", days: int = 14) -> LicenseOrder:
    edition = {"remotedesk": "standard", "mailguard": "basic"}.get(product)
    return LicenseOrder(key=key, product_id=product, edition_id=edition, term=Term.TRIAL, trial_days=days, quantity=5)


async def test_a_random_key_is_drawn_from_secrets_without_look_alikes(
    harness: PortalHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await harness.login("acme-owner")
    drawn: list[str] = []
    real_choice = secrets.choice

    def recording_choice(alphabet: str) -> str:
        drawn.append(alphabet)
        return real_choice(alphabet)

    monkeypatch.setattr(secrets, "choice", recording_choice)
    created = await owner.create_key("Contoso")
    assert is_key(created.key) and created.name == "Contoso"
    assert len(drawn) == 16 and not set(drawn[0]) & set("0O1I")
    assert (await owner.audit()).items[0].action == "key.create"


async def test_a_custom_key_is_upper_cased_and_unique_across_organizations(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    created = await owner.create_key("Fabrikam", " abcd-efgh-jkl2-npq3 ")
    assert created.key == "ABCD-EFGH-JKL2-NPQ3"
    globex = await harness.login("globex-owner")
    with pytest.raises(KeyTaken, match="ABCD-EFGH-JKL2-NPQ3 is taken"):
        await globex.create_key("mine", "ABCDEFGHJKL2NPQ3")


async def test_a_malformed_custom_key_is_refused_naming_the_field(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed) as refused:
        await owner.request("POST", "/api/v1/keys", body={"name": "x", "key": "ABCD-EFGH-JKLM"})
    assert "4 groups of 4" in refused.value.fields["key"]
    assert (await owner.keys()).total == 0


async def test_the_list_pages_filters_by_name_or_key_and_counts_what_is_attached(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    made = [await owner.create_key(f"Customer {n:02d}", f"TEST-{n:04d}-AAAA-BBBB") for n in range(7)]
    await owner.create_key("Other", "ZZZZ-YYYY-XXXX-WWWW")
    await owner.create_license(trial(made[3].key))
    await owner.create_license(trial(made[3].key, "mailguard"))
    await owner.create_subscription(SubscriptionOrder(key=made[5].key, product_id="connect", channels=2))
    await (await harness.login("globex-owner")).create_key("Customer 99", "TEST-0099-AAAA-BBBB")

    first = await owner.keys(query="customer", sort=KeySort.NAME, descending=False, limit=3)
    assert first.total == 7 and [k.name for k in first.items] == ["Customer 00", "Customer 01", "Customer 02"]
    names = [k.name for k in first.items]
    cursor = first.next_cursor
    while cursor:
        page = await owner.keys(query="customer", sort=KeySort.NAME, descending=False, limit=3, cursor=cursor)
        assert page.total is None  # counted on the first page only
        names += [k.name for k in page.items]
        cursor = page.next_cursor
    assert names == [f"Customer {n:02d}" for n in range(7)]

    by_key = await owner.keys(query="test0003aaaa")  # any case, without dashes
    assert [(k.key, k.license_count, k.subscription_count) for k in by_key.items] == [("TEST-0003-AAAA-BBBB", 2, 0)]
    holding = await owner.keys(holds=KeyHolds.SUBSCRIPTIONS)
    assert [k.key for k in holding.items] == [made[5].key]
    assert (await owner.keys(holds=KeyHolds.NOTHING)).total == 6
    assert (await owner.keys(query="%")).total == 0  # a wildcard is a character like any other


async def test_a_keys_detail_lists_its_licenses_and_subscriptions(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso")
    license = await owner.create_license(trial(key.key))
    subscription = await owner.create_subscription(SubscriptionOrder(key=key.key, product_id="connect", channels=3))
    detail = await owner.key(key.id)
    assert (detail.key.license_count, detail.key.subscription_count) == (1, 1)
    assert [item.id for item in detail.licenses] == [license.id]
    assert [item.id for item in detail.subscriptions] == [subscription.id]
    with pytest.raises(NotFound):
        await (await harness.login("globex-owner")).key(key.id)


async def test_renaming_is_audited_and_needs_the_right_to_manage_keys(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    key = await owner.create_key("Contoso")
    renamed = await owner.rename_key(key.id, "  Contoso HQ ")
    assert (renamed.name, (await owner.key(key.id)).key.name) == ("Contoso HQ", "Contoso HQ")
    entry = (await owner.audit()).items[0]
    assert entry.action == "key.rename" and entry.details == {"key": key.key, "before": "Contoso", "after": "Contoso HQ"}
    with pytest.raises(PermissionDenied):
        await (await harness.login("acme-viewer")).rename_key(key.id, "nope")
    with pytest.raises(NotFound):
        await (await harness.login("globex-owner")).rename_key(key.id, "mine now")


async def test_a_key_is_deleted_only_while_nothing_is_attached(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    free, licensed, subscribed = [await owner.create_key(name) for name in ("free", "licensed", "subscribed")]
    await owner.create_license(trial(licensed.key))
    await owner.create_subscription(SubscriptionOrder(key=subscribed.key, product_id="connect", channels=1))
    for used in (licensed, subscribed):
        with pytest.raises(KeyInUse, match="is deleted only while no license or subscription"):
            await owner.delete_key(used.id)
    with pytest.raises(NotFound):
        await (await harness.login("globex-owner")).delete_key(free.id)
    await owner.delete_key(free.id)
    with pytest.raises(NotFound):
        await owner.key(free.id)
    assert (await owner.audit()).items[0].action == "key.delete"
    assert {k.name for k in (await owner.keys()).items} == {"licensed", "subscribed"}
