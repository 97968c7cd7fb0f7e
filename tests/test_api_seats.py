"""Seats through the client: assign and unassign within the seats bought, and batches of moves
validated whole (each rule with its reason), applied all or nothing, idempotent, undone."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from seattui.domain.errors import (
    BatchRefused,
    Conflict,
    NotFound,
    PermissionDenied,
    SeatsExhausted,
    UndoRefused,
    ValidationFailed,
)
from seattui.domain.people import EmployeeFields
from seattui.domain.seating import MAX_MOVES, MoveRequest, ReassignRequest, refused_moves

from harness import PortalHarness, running_portal
from seat_support import holders, move, staff


async def test_seats_never_exceed_the_seats_bought_and_one_per_employee(harness: PortalHarness) -> None:
    ids = await staff(harness, 6, 2, spare_seats=2)
    operator = await harness.login("acme-op")
    (pool,) = await operator.seat_pools()
    assert (pool.product_id, pool.bought, pool.assigned, pool.free) == ("workspace", 4, 2, 2)
    with pytest.raises(Conflict, match="already holds a workspace seat"):
        await operator.assign_seats([ids[0]], "workspace")
    with pytest.raises(SeatsExhausted, match="3 seat\\(s\\) asked for, 2 free"):
        await operator.assign_seats(ids[2:5], "workspace")
    assert (await operator.assign_seats(ids[2:4], "workspace")).employees == 2
    with pytest.raises(SeatsExhausted):
        await operator.assign_seats([ids[4]], "workspace")
    assert (await operator.seat_pools())[0].assigned == 4
    assert await holders(operator) == set(ids[:4])


async def test_unassign_frees_the_seat_and_both_are_audited(harness: PortalHarness) -> None:
    ids = await staff(harness, 3, 2)
    operator = await harness.login("acme-op")
    with pytest.raises(Conflict, match="holds no workspace seat"):
        await operator.unassign_seats([ids[0], ids[2]], "workspace")
    assert await holders(operator) == set(ids[:2])  # refused whole
    await operator.unassign_seats([ids[0]], "workspace")
    await operator.assign_seats([ids[2]], "workspace")
    assert await holders(operator) == {ids[1], ids[2]}
    actions = [entry.action for entry in (await operator.audit(limit=2)).items]
    assert actions == ["seat.assign", "seat.unassign"]


async def test_departed_employees_and_non_seat_products_get_no_seat(harness: PortalHarness) -> None:
    ids = await staff(harness, 2, 0, spare_seats=2)
    operator = await harness.login("acme-op")
    await operator.depart_employees([ids[0]])
    with pytest.raises(Conflict, match="has departed"):
        await operator.assign_seats(ids, "workspace")
    with pytest.raises(ValidationFailed, match="not a seat product"):
        await operator.assign_seats([ids[1]], "remotedesk")


async def test_a_batch_moves_every_seat_in_one_go_with_audit_entries_of_its_batch(harness: PortalHarness) -> None:
    ids = await staff(harness, 6, 3)
    operator = await harness.login("acme-op")
    outcome = await operator.reassign([move(ids[0], ids[3]), move(ids[1], ids[4]), move(ids[2], ids[5])])
    assert outcome.applied and outcome.batch_id and (outcome.count, outcome.products) == (3, {"workspace": 3})
    assert await holders(operator) == set(ids[3:])
    assert (await operator.seat_pools())[0].assigned == 3  # moved, not added
    (entry,) = (await operator.audit(batch_id=outcome.batch_id)).items
    assert (entry.action, entry.summary, entry.actor) == ("seat.reassign", "Reassigned 3 seat(s) (workspace 3)", "acme-op")
    assert entry.details == {"moves": 3, "products": {"workspace": 3}, "undoes": None}
    (listed,) = (await operator.seat_batches()).items
    assert (listed.batch_id, listed.moves, listed.products, listed.actor) == (
        outcome.batch_id, 3, {"workspace": 3}, "acme-op")


async def test_a_dry_run_changes_nothing_and_says_what_would_happen(harness: PortalHarness) -> None:
    ids = await staff(harness, 4, 2)
    operator = await harness.login("acme-op")
    plan = await operator.reassign([move(ids[0], ids[2]), move(ids[1], ids[0])], dry_run=True)
    assert plan.batch_id is None and not plan.applied
    assert [m.problem for m in plan.moves] == [None, f"{plan.moves[1].to_name} already holds a workspace seat"]
    assert await holders(operator) == set(ids[:2])
    assert (await operator.seat_batches()).items == []


async def test_one_bad_move_refuses_the_whole_batch_with_a_reason_per_refused_move(harness: PortalHarness) -> None:
    ids = await staff(harness, 5, 2)
    operator = await harness.login("acme-op")
    with pytest.raises(BatchRefused, match="1 of 2 moves are refused, so none was applied") as refused:
        await operator.reassign([move(ids[0], ids[2]), move(ids[4], ids[3])])
    (bad,) = refused_moves(refused.value.details)
    assert (bad.index, bad.from_id, bad.problem) == (1, ids[4], f"{bad.from_name} holds no workspace seat")
    assert await holders(operator) == set(ids[:2])
    assert (await operator.seat_batches()).items == []


@pytest.mark.parametrize("trips", ["giver holds none", "receiver holds one", "receiver departed"])
async def test_each_set_wise_check_refuses_the_whole_batch_and_says_why(harness: PortalHarness, trips: str) -> None:
    ids = await staff(harness, 5, 3)
    operator = await harness.login("acme-op")
    await operator.depart_employees([ids[4]])
    bad = {"giver holds none": move(ids[3], ids[4]), "receiver holds one": move(ids[1], ids[2]),
           "receiver departed": move(ids[1], ids[4])}[trips]
    with pytest.raises(BatchRefused) as refused:
        await operator.reassign([move(ids[0], ids[3]), bad])
    (problem,) = [m.problem for m in refused_moves(refused.value.details)]
    expected = {"giver holds none": "holds no workspace seat", "receiver holds one": "already holds a workspace seat",
                "receiver departed": "has departed"}[trips]
    assert expected in (problem or "")
    assert await holders(operator) == set(ids[:3])


async def test_every_rule_of_a_batch_has_its_own_reason(harness: PortalHarness) -> None:
    ids = await staff(harness, 8, 4)
    (stranger,) = await staff(harness, 1, 1, org="Globex")
    operator = await harness.login("acme-op")
    await operator.depart_employees([ids[7]])
    a, b, c, d, e, f, g, departed = ids
    plan = await operator.reassign([
        move(a, e),                                            # 0: fine
        move(a, f),                                            # 1: the same seat again
        move(b, e),                                            # 2: e receives twice
        move(c, d),                                            # 3: d holds one already
        move(e, f),                                            # 4: e holds none (before the batch)
        move(c, departed),                                     # 5: departed
        move(c, c),                                            # 6: to themselves
        move(c, f, "remotedesk"),                              # 7: not a seat product
        move(stranger, f),                                     # 8: another organization's
        MoveRequest(from_email="nobody@acme.example", to_id=f),  # 9: unknown, all products
        move(c, 999_999),                                      # 10: unknown receiver
        MoveRequest(to_id=f),                                  # 11: nobody gives
    ], dry_run=True)
    problems = [m.problem or "" for m in plan.moves]
    assert problems[0] == ""
    assert "already moved by move 1" in problems[1]
    assert "already receives a workspace seat in move 1" in problems[2]
    assert "already holds a workspace seat" in problems[3]
    assert "holds no workspace seat" in problems[4]
    assert "has departed" in problems[5]
    assert "would give a seat to themselves" in problems[6]
    assert "remotedesk is not a seat product" in problems[7]
    assert problems[8] == f"there is no employee employee {stranger} in your organization"
    assert problems[9] == "there is no employee nobody@acme.example in your organization"
    assert problems[10] == "there is no employee employee 999999 in your organization"
    assert problems[11] == "the move names nobody to give the seat: give from_id or from_email"


async def test_a_move_without_a_product_moves_every_seat_of_the_giver_by_email(harness: PortalHarness) -> None:
    ids = await staff(harness, 3, 1)
    operator = await harness.login("acme-op")
    giver, receiver = await operator.lookup_employees([ids[0], ids[2]])
    outcome = await operator.reassign([MoveRequest(from_email=giver.email.upper(), to_email=receiver.email)])
    assert outcome.products == {"workspace": 1} and await holders(operator) == {ids[2]}
    plan = await operator.reassign([MoveRequest(from_id=ids[1], to_id=ids[0])], dry_run=True)
    assert plan.moves[0].problem == f"{plan.moves[0].from_name} holds no seats"


async def test_a_retried_batch_is_applied_once(harness: PortalHarness) -> None:
    ids = await staff(harness, 4, 2)
    operator = await harness.login("acme-op")
    key = str(uuid.uuid4())
    first = await operator.reassign([move(ids[0], ids[2]), move(ids[1], ids[3])], idempotency_key=key)
    again = await operator.reassign([move(ids[0], ids[2]), move(ids[1], ids[3])], idempotency_key=key)
    assert again.batch_id == first.batch_id and again.applied
    assert len((await operator.seat_batches()).items) == 1
    assert await holders(operator) == set(ids[2:])


async def test_undo_gives_every_seat_back_once(harness: PortalHarness) -> None:
    ids = await staff(harness, 4, 2)
    operator = await harness.login("acme-op")
    await operator.depart_employees([ids[0]])  # undo gives seats back even to a departed giver
    batch = await operator.reassign([move(ids[0], ids[2]), move(ids[1], ids[3])])
    undone = await operator.undo_batch(batch.batch_id or "")
    assert undone.undoes == batch.batch_id and undone.batch_id != batch.batch_id
    assert undone.count == 2 and undone.kind == "undo"
    assert await holders(operator) == set(ids[:2])
    listed = {b.batch_id: b for b in (await operator.seat_batches()).items}
    assert listed[batch.batch_id or ""].undone_by == undone.batch_id
    (entry,) = (await operator.audit(batch_id=undone.batch_id)).items
    assert entry.action == "seat.undo" and entry.summary.endswith(f"undoing batch {batch.batch_id}")
    with pytest.raises(UndoRefused, match="undone already"):
        await operator.undo_batch(batch.batch_id or "")


async def test_undo_is_refused_whole_when_a_seat_changed_since(harness: PortalHarness) -> None:
    ids = await staff(harness, 6, 3)
    operator = await harness.login("acme-op")
    batch = await operator.reassign([move(ids[0], ids[3]), move(ids[1], ids[4]), move(ids[2], ids[5])])
    await operator.reassign([move(ids[3], ids[0])])  # moved away and back: changed all the same
    await operator.reassign([move(ids[0], ids[3])])
    await operator.unassign_seats([ids[4]], "workspace")
    with pytest.raises(UndoRefused, match="2 of its 3 seats changed since") as refused:
        await operator.undo_batch(batch.batch_id or "")
    problems = [m.problem for m in refused_moves(refused.value.details)]
    assert len(problems) == 2 and "was moved again since" in (problems[0] or "")
    assert "is no longer" in (problems[1] or "")
    assert await holders(operator) == {ids[3], ids[5]}  # nothing went back


async def test_a_batch_of_another_organization_is_not_found(harness: PortalHarness) -> None:
    ids = await staff(harness, 2, 1, org="Globex")
    globex = await harness.login("globex-owner")
    batch = await globex.reassign([move(ids[0], ids[1])])
    acme = await harness.login("acme-owner")
    with pytest.raises(NotFound):
        await acme.undo_batch(batch.batch_id or "")
    assert (await acme.seat_batches()).items == []


async def test_viewers_neither_assign_nor_reassign(harness: PortalHarness) -> None:
    ids = await staff(harness, 2, 1)
    viewer = await harness.login("acme-viewer")
    with pytest.raises(PermissionDenied):
        await viewer.reassign([move(ids[0], ids[1])], dry_run=True)
    with pytest.raises(PermissionDenied):
        await viewer.assign_seats([ids[1]], "workspace")
    assert (await viewer.seat_pools())[0].assigned == 1


async def test_two_batches_racing_for_the_same_seat_apply_one(harness: PortalHarness) -> None:
    ids = await staff(harness, 3, 1)
    first, second = await harness.login("acme-op"), await harness.login("acme-admin")
    results = await asyncio.gather(first.reassign([move(ids[0], ids[1])]), second.reassign([move(ids[0], ids[2])]),
                                   return_exceptions=True)
    assert sorted(type(result).__name__ for result in results) == ["BatchOutcome", "BatchRefused"]
    assert len(await holders(first)) == 1


async def test_a_new_employee_gets_a_freed_seat(harness: PortalHarness) -> None:
    ids = await staff(harness, 1, 1)
    admin = await harness.login("acme-admin")
    newcomer = await admin.add_employee(EmployeeFields(name="New", email="new@acme.example"))
    await admin.reassign([move(ids[0], newcomer.id)])
    assert (await admin.employee(newcomer.id)).seats == ("workspace",)


# -- batches the size of a plan: one request, under a limit that says itself -----------------


async def test_a_large_batch_travels_without_null_fields_and_fits_where_nulls_would_not(database_url: str) -> None:
    moves = 3000
    async with running_portal(database_url) as seeding:
        ids = await staff(seeding, 2 * moves, moves)
    batch = [move(giver, receiver) for giver, receiver in zip(ids[:moves], ids[moves:], strict=True)]
    with_nulls = ReassignRequest(moves=batch).model_dump_json().encode()
    # A limit between the two sizes: the batch fits only as the client sends it.
    limit = (len(with_nulls) + len(ReassignRequest(moves=batch).model_dump_json(exclude_none=True))) // 2
    async with running_portal(database_url, world=False, max_batch_body_bytes=limit) as harness:
        operator = await harness.login("acme-op")
        refused = await operator._http.post(
            "/api/v1/seat-batches", content=ReassignRequest(moves=batch).model_dump_json().encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {operator.token}"})
        assert refused.status_code == 413 and refused.json()["details"] == {"max_bytes": limit}
        sent: list[bytes] = []

        async def record(request: httpx.Request) -> None:
            sent.append(request.content)

        operator._http.event_hooks["request"].append(record)
        outcome = await operator.reassign(batch)
        assert outcome.applied and outcome.count == moves
        (body,) = sent
        assert len(body) <= limit < len(with_nulls) and b"null" not in body
        assert len(body) < 0.7 * len(with_nulls)
        pools = await operator.seat_pools()
        assert sum(pool.assigned for pool in pools) == moves
        assert (await operator.employee(ids[0])).seats == () and (await operator.employee(ids[-1])).seats == ("workspace",)


async def test_a_seat_batch_may_be_larger_than_other_requests_and_each_limit_is_stated(harness: PortalHarness) -> None:
    operator = await harness.login("acme-op")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {operator.token}"}
    five_mib = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    other = await operator._http.post("/api/v1/seats", content=five_mib, headers=headers)
    assert other.status_code == 413 and other.json()["code"] == "payload_too_large"
    assert "(4 MiB, 4,194,304 bytes)" in other.json()["message"]
    batch = await operator._http.post("/api/v1/seat-batches", content=five_mib, headers=headers)
    assert batch.status_code == 422 and "moves" in batch.json()["details"]["fields"]  # read, then found empty
    huge = await operator._http.post("/api/v1/seat-batches", content=b"{" + b" " * (24 * 1024 * 1024) + b"}",
                                     headers=headers)
    assert huge.status_code == 413 and huge.json()["details"] == {"max_bytes": 24 * 1024 * 1024}
    assert "(24 MiB, 25,165,824 bytes)" in huge.json()["message"]


async def test_a_batch_of_more_moves_than_one_batch_takes_is_refused_with_the_limit(harness: PortalHarness) -> None:
    operator = await harness.login("acme-op")
    too_many = '{"moves": [' + ",".join(['{"from_id": 1, "to_id": 2}'] * (MAX_MOVES + 1)) + "]}"
    response = await operator._http.post("/api/v1/seat-batches", content=too_many.encode(), headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {operator.token}"})
    assert response.status_code == 422 and f"at most {MAX_MOVES:,}" in response.json()["message"]
