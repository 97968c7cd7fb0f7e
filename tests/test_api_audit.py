"""The audit log through the API: newest first, filtered by who, what kind, which object and
which days, in pages; a seat batch's moves in pages with the people's names."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from seattui.domain.audit import AuditFilter
from seattui.domain.errors import NotFound, ValidationFailed
from seattui.domain.licensing import LicenseOrder, Term

from harness import PortalHarness
from seat_support import move, staff


async def all_pages(client, wanted: AuditFilter, limit: int = 2) -> list:  # type: ignore[no-untyped-def]
    entries, cursor = [], None
    while True:
        page = await client.audit(wanted, cursor=cursor, limit=limit)
        entries += page.items
        cursor = page.next_cursor
        if cursor is None:
            return entries


async def test_the_log_is_newest_first_and_filtered_by_who_what_and_which_object(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    operator = await harness.login("acme-op")
    first = await owner.create_key("First")
    harness.clock.advance(minutes=5)
    second = await operator.create_key("Second")
    harness.clock.advance(minutes=5)
    await operator.create_license(LicenseOrder(key=second.key, product_id="remotedesk", edition_id="standard",
                                               term=Term.TRIAL, trial_days=14, quantity=5))
    everything = await all_pages(owner, AuditFilter())
    assert [entry.at for entry in everything] == sorted((entry.at for entry in everything), reverse=True)
    assert len({entry.id for entry in everything}) == len(everything)  # pages neither repeat nor skip

    by_operator = await all_pages(owner, AuditFilter(user="ACME-OP"))
    assert by_operator and {entry.actor for entry in by_operator} == {"acme-op"}
    keys = await all_pages(owner, AuditFilter(kind="key"))
    assert [entry.summary for entry in keys] == [f"Created key {second.key}", f"Created key {first.key}"]
    assert [entry.action for entry in await all_pages(owner, AuditFilter(kind="license.create"))] == ["license.create"]
    one = await all_pages(owner, AuditFilter(object_type="activation_key", object_id=first.id))
    assert [entry.object_id for entry in one] == [first.id]
    both = await all_pages(owner, AuditFilter(user="acme-op", kind="key"))
    assert [entry.summary for entry in both] == [f"Created key {second.key}"]
    # Another organization's entries are never among them.
    globex = await harness.login("globex-owner")
    assert await all_pages(globex, AuditFilter(kind="key")) == []


async def test_days_bound_the_log_inclusively(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.create_key("Day one")
    day_one = harness.clock.now.date()
    harness.clock.advance(days=2)
    await owner.create_key("Day three")
    names = lambda entries: [entry.summary for entry in entries if entry.action == "key.create"]  # noqa: E731
    assert len(names(await all_pages(owner, AuditFilter(since=day_one + timedelta(days=1))))) == 1
    assert len(names(await all_pages(owner, AuditFilter(until=day_one)))) == 1
    assert len(names(await all_pages(owner, AuditFilter(since=day_one, until=day_one + timedelta(days=2))))) == 2
    assert await all_pages(owner, AuditFilter(until=date.max, since=date.max)) == []


async def test_bad_filters_are_refused_with_the_field_named(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    with pytest.raises(ValidationFailed) as refused:
        await owner.request("GET", "/api/v1/audit", params={"since": "yesterday"})
    assert "since" in refused.value.fields
    with pytest.raises(ValidationFailed):
        await owner.request("GET", "/api/v1/audit", params={"object_id": "0"})
    with pytest.raises(ValidationFailed):
        await owner.request("GET", "/api/v1/audit", params={"user": "bad\x1bname"})


async def test_a_seat_batch_lists_its_moves_with_names_in_pages(harness: PortalHarness) -> None:
    ids = await staff(harness, 6, 3)
    operator = await harness.login("acme-op")
    outcome = await operator.reassign([move(ids[0], ids[3]), move(ids[1], ids[4]), move(ids[2], ids[5])])
    first = await operator.batch_moves(outcome.batch_id, limit=2)
    assert first.total == 3 and len(first.items) == 2 and first.next_cursor
    rest = await operator.batch_moves(outcome.batch_id, cursor=first.next_cursor, limit=2)
    moves = first.items + rest.items
    assert rest.next_cursor is None
    assert [(m.from_id, m.to_id, m.product_id) for m in moves] == [(ids[0], ids[3], "workspace"),
                                                                 (ids[1], ids[4], "workspace"),
                                                                 (ids[2], ids[5], "workspace")]
    assert all(m.from_name and m.to_email.endswith("@acme.example") for m in moves)
    globex = await harness.login("globex-owner")
    with pytest.raises(NotFound):
        await globex.batch_moves(outcome.batch_id)
    with pytest.raises(ValidationFailed):
        await operator.batch_moves(outcome.batch_id, cursor="bm90LWEtY3Vyc29y")
