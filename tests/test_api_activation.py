"""Device activation, the licensed software's side: one device at a time, distinct refusals for
an unknown key and an ended trial, the admin seeing the device, and rate limits per key and
per client address that hold across portal instances sharing a database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from seattui.client import PortalClient
from seattui.domain.errors import (
    ActivatedElsewhere,
    NotLicensed,
    RateLimited,
    SeattuiError,
    TrialEnded,
    UnknownKey,
    ValidationFailed,
)
from seattui.domain.licensing import ActivationRequest, DeviceRequest, LicenseStatus, Term
from seattui.portal.app import create_app

import harness as test_harness
from harness import PortalHarness, running_portal
from license_setup import a_license


def device(key: str, name: str, product: str = "remotedesk") -> ActivationRequest:
    return ActivationRequest(key=key, product_id=product, fingerprint=f"machine-{name}-fp", hostname=name)


def same(request: ActivationRequest) -> DeviceRequest:
    return DeviceRequest(key=request.key, product_id=request.product_id, fingerprint=request.fingerprint)


async def test_a_license_runs_on_one_device_until_it_is_deactivated(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=1)
    software = harness.client()  # no session: the key is the credential
    first, second = device(license.key, "pc-1"), device(license.key.lower(), "pc-2")
    status = await software.activate(first)
    assert (status.activated_here, status.status, status.edition_id) == (True, LicenseStatus.ACTIVATED, "standard")
    assert (await software.activate(first)).activated_here  # again from the same machine: fine
    with pytest.raises(ActivatedElsewhere, match="pc-1"):
        await software.activate(second)
    assert not (await software.check_activation(same(second))).activated_here
    assert (await software.check_activation(same(first))).activated_here

    admin = await harness.login("acme-admin")
    shown = await admin.license(license.id)
    assert (shown.device.hostname, shown.device.fingerprint) == ("pc-1", "machine-pc-1-fp")

    assert not (await software.deactivate(same(first))).activated_here
    assert not (await software.deactivate(same(first))).activated_here  # a repeated release changes nothing
    assert (await software.activate(second)).activated_here
    actions = [(e.action, e.actor) for e in (await admin.audit(limit=4)).items if e.object_id == license.id]
    assert actions == [("license.activate", "device"), ("license.deactivate", "device"), ("license.activate", "device")]


async def test_a_check_tells_a_machine_all_the_activation_told_it(harness: PortalHarness) -> None:
    # A check of a machine that holds its license is answered from the license's row, the
    # activation from the license: every field must agree.
    software = harness.client()
    for term in (Term.PERMANENT, Term.TRIAL):
        license = await a_license(harness, product_id="mailguard", edition_id="advanced",
                                  addons=("encryption", "archiving"), term=term, quantity=3,
                                  **({"trial_days": 14} if term is Term.TRIAL else {}))
        request = device(license.key, f"mail-{term.value}", product="mailguard")
        activated = await software.activate(request)
        checked = await software.check_activation(same(request))
        assert checked == activated
        assert (checked.activated_here, checked.term, checked.quantity) == (True, term, 3)
        assert sorted(checked.addons) == ["archiving", "encryption"]
        assert (checked.trial_ends_on is not None) == (term is Term.TRIAL)


async def test_unknown_keys_ended_trials_and_missing_products_are_refused_distinctly(harness: PortalHarness) -> None:
    trial = await a_license(harness, term=Term.TRIAL, trial_days=3, quantity=1)
    software = harness.client()
    with pytest.raises(UnknownKey) as unknown:
        await software.activate(device("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "pc-1"))
    assert unknown.value.code == "unknown_key"
    with pytest.raises(NotLicensed):
        await software.activate(device(trial.key, "pc-1", product="mailguard"))
    with pytest.raises(NotLicensed):
        await software.activate(device(trial.key, "pc-1", product="workspace"))
    # A check and a deactivation read in a statement of their own: refused as distinctly.
    for call in (software.check_activation, software.deactivate):
        with pytest.raises(UnknownKey):
            await call(same(device("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "pc-1")))
        with pytest.raises(NotLicensed, match="holds no license of mailguard"):
            await call(same(device(trial.key, "pc-1", product="mailguard")))
        with pytest.raises(NotLicensed, match="not activated on devices"):
            await call(same(device(trial.key, "pc-1", product="workspace")))
    assert (await software.activate(device(trial.key, "pc-1"))).trial_ends_on == trial.trial_ends_on
    harness.clock.advance(days=4)
    with pytest.raises(TrialEnded, match="ended on") as ended:
        await software.check_activation(same(device(trial.key, "pc-1")))
    assert ended.value.code == "trial_ended"
    with pytest.raises(TrialEnded):
        await software.activate(device(trial.key, "pc-2"))
    with pytest.raises(ValidationFailed) as bad:
        await software.request("POST", "/api/v1/activation/activate",
                               body={"key": "nope", "product_id": "remotedesk", "fingerprint": "x"})
    assert {"key", "fingerprint"} <= set(bad.value.fields)


async def test_a_key_with_a_permanent_license_and_a_trial_activates_the_permanent_first(harness: PortalHarness) -> None:
    trial = await a_license(harness, term=Term.TRIAL, trial_days=10, quantity=1)
    permanent = await a_license(harness, key=trial.key, quantity=1)
    software = harness.client()
    await software.activate(device(trial.key, "pc-1"))
    await software.activate(device(trial.key, "pc-2"))
    owner = await harness.login("acme-owner")
    assert (await owner.license(permanent.id)).device.hostname == "pc-1"
    assert (await owner.license(trial.id)).device.hostname == "pc-2"
    with pytest.raises(ActivatedElsewhere):
        await software.activate(device(trial.key, "pc-3"))


async def test_a_device_holding_the_trial_moves_to_the_permanent_license_bought_on_the_same_key(
    harness: PortalHarness,
) -> None:
    trial = await a_license(harness, term=Term.TRIAL, trial_days=10, quantity=1)
    software = harness.client()
    assert (await software.activate(device(trial.key, "pc-1"))).term is Term.TRIAL
    permanent = await a_license(harness, key=trial.key, quantity=1)  # bought later, on the same key
    status = await software.activate(device(trial.key, "pc-1"))
    assert (status.term, status.activated_here, status.support_ends_on) == (
        Term.PERMANENT, True, permanent.support_ends_on)
    owner = await harness.login("acme-owner")
    assert (await owner.license(permanent.id)).device.hostname == "pc-1"
    assert (await owner.license(trial.id)).device is None  # the trial is free for another device
    assert (await software.check_activation(same(device(trial.key, "pc-1")))).term is Term.PERMANENT
    assert (await software.activate(device(trial.key, "pc-2"))).term is Term.TRIAL
    moves = [(e.action, e.object_id) for e in reversed((await owner.audit(limit=200)).items)  # newest first
             if e.action in ("license.activate", "license.deactivate")]
    assert moves == [("license.activate", trial.id), ("license.deactivate", trial.id), ("license.activate", permanent.id),
                     ("license.activate", trial.id)]


async def test_a_device_whose_trial_ended_moves_to_the_permanent_license(harness: PortalHarness) -> None:
    trial = await a_license(harness, term=Term.TRIAL, trial_days=3, quantity=1)
    software = harness.client()
    await software.activate(device(trial.key, "pc-1"))
    harness.clock.advance(days=4)
    permanent = await a_license(harness, key=trial.key, quantity=1)
    assert (await software.activate(device(trial.key, "pc-1"))).term is Term.PERMANENT
    owner = await harness.login("acme-owner")
    assert (await owner.license(trial.id)).device is None  # so the ended trial can be deleted
    assert (await owner.license(permanent.id)).device.hostname == "pc-1"


async def test_among_equal_licenses_a_device_gets_the_most_recently_created_and_keeps_it(
    harness: PortalHarness,
) -> None:
    older = await a_license(harness, quantity=1)
    newer = await a_license(harness, key=older.key, quantity=1)
    software = harness.client()
    await software.activate(device(older.key, "pc-1"))
    owner = await harness.login("acme-owner")
    assert (await owner.license(newer.id)).device.hostname == "pc-1"
    await software.deactivate(same(device(older.key, "pc-1")))
    await software.activate(device(older.key, "pc-2"))  # the newer again, now for pc-2
    await software.activate(device(older.key, "pc-1"))
    assert (await owner.license(older.id)).device.hostname == "pc-1"
    await software.deactivate(same(device(older.key, "pc-2")))
    await software.activate(device(older.key, "pc-1"))  # a license as good is free: pc-1 keeps its own
    assert (await owner.license(older.id)).device.hostname == "pc-1"
    assert (await owner.license(newer.id)).device is None


def from_address(harness_app: object, address: str) -> PortalClient:
    transport = httpx.ASGITransport(app=harness_app, raise_app_exceptions=False, client=(address, 40000))
    return PortalClient(transport=transport, retries=0)


async def test_calls_are_limited_per_key_and_per_address_across_portal_instances(database_url: str) -> None:
    # Checks counted before they are answered (a share interval of 0): exact across instances.
    exact = {"activation_limit": 3, "activation_check_share": timedelta(0)}
    async with running_portal(database_url, **exact) as harness:
        license = await a_license(harness, quantity=1)
        other = create_app(test_harness.test_settings(database_url, harness.clock, **exact))
        async with other.router.lifespan_context(other):
            one, two, guesser = (from_address(harness.app, "10.0.0.1"), from_address(other, "10.0.0.2"),
                                 from_address(other, "10.0.0.3"))
            await one.activate(device(license.key, "pc-1"))
            await two.check_activation(same(device(license.key, "pc-1")))
            await one.check_activation(same(device(license.key, "pc-1")))
            with pytest.raises(RateLimited) as limited:  # the key's 4th call, over two instances
                await two.check_activation(same(device(license.key, "pc-1")))
            assert 0 < limited.value.details["retry_after"] <= 60
            for guess in ("AAAA-AAAA-AAAA-AAA1", "AAAA-AAAA-AAAA-AAA2", "AAAA-AAAA-AAAA-AAA3"):
                with pytest.raises(UnknownKey):
                    await guesser.activate(device(guess, "pc-9"))
            with pytest.raises(RateLimited):  # the address's 4th call, each key new
                await guesser.activate(device("AAAA-AAAA-AAAA-AAA4", "pc-9"))
            harness.clock.advance(minutes=1)
            assert (await two.check_activation(same(device(license.key, "pc-1")))).activated_here
            for client in (one, two, guesser):
                await client.aclose()


async def test_checks_counted_by_one_instance_reach_the_other_after_a_share(database_url: str) -> None:
    # The default: checks are counted in each instance's memory and shared in the background.
    limit = 40
    async with running_portal(database_url, activation_limit=limit) as harness:
        license = await a_license(harness, quantity=1)
        other = create_app(test_harness.test_settings(database_url, harness.clock, activation_limit=limit))
        async with other.router.lifespan_context(other):
            one, two = from_address(harness.app, "10.0.0.1"), from_address(other, "10.0.0.2")
            asking = same(device(license.key, "pc-1"))
            await one.activate(device(license.key, "pc-1"))
            for _ in range(limit - 1):
                assert (await one.check_activation(asking)).activated_here
            with pytest.raises(RateLimited):  # refused by the instance that counted them
                await one.check_activation(asking)
            # Until the shares the other instance may let a few through; then it refuses, long
            # before its own count of the key would.
            admitted, deadline = 0, asyncio.get_running_loop().time() + 30
            while True:
                try:
                    await two.check_activation(asking)
                except RateLimited:
                    break
                admitted += 1
                assert admitted < limit and asyncio.get_running_loop().time() < deadline, \
                    "the other instance never saw the checks"
                await asyncio.sleep(0.05)  # between polls: the share runs every 0.25 s
            for client in (one, two):
                await client.aclose()


async def test_checks_counted_in_memory_are_shared_when_the_instance_stops(database_url: str) -> None:
    exact = {"activation_limit": 4, "activation_check_share": timedelta(0)}
    async with running_portal(database_url, **exact) as harness:
        license = await a_license(harness, quantity=1)
        asking = same(device(license.key, "pc-1"))
        # An instance that would share only in an hour: its checks reach the store as it stops.
        other = create_app(test_harness.test_settings(database_url, harness.clock, activation_limit=4,
                                                      activation_check_share=timedelta(hours=1)))
        async with other.router.lifespan_context(other):
            stopping = from_address(other, "10.0.0.2")
            for _ in range(3):
                assert not (await stopping.check_activation(asking)).activated_here
            await stopping.aclose()
        staying = from_address(harness.app, "10.0.0.1")
        await staying.activate(device(license.key, "pc-1"))  # the key's 4th call
        with pytest.raises(RateLimited):
            await staying.check_activation(asking)
        await staying.aclose()


async def test_the_address_limit_is_apart_from_the_key_limit(database_url: str) -> None:
    # A fleet behind one NAT address: the operator lets the address call more often than a key.
    async with running_portal(database_url, activation_limit=2, activation_address_limit=4) as harness:
        fleet = from_address(harness.app, "198.51.100.7")
        for guess in ("AAAA-AAAA-AAAA-AAA1", "AAAA-AAAA-AAAA-AAA2", "AAAA-AAAA-AAAA-AAA3", "AAAA-AAAA-AAAA-AAA4"):
            with pytest.raises(UnknownKey):  # four keys from one address: past the key limit of 2
                await fleet.activate(device(guess, "pc-9"))
        with pytest.raises(RateLimited):  # the address's 5th call
            await fleet.activate(device("AAAA-AAAA-AAAA-AAA5", "pc-9"))
        license = await a_license(harness, quantity=1)
        first, second, third = (from_address(harness.app, f"10.0.0.{n}") for n in (1, 2, 3))
        await first.activate(device(license.key, "pc-1"))
        await second.check_activation(same(device(license.key, "pc-1")))
        with pytest.raises(RateLimited):  # the key's 3rd call, each from an address of its own
            await third.check_activation(same(device(license.key, "pc-1")))
        for client in (fleet, first, second, third):
            await client.aclose()


async def test_activations_written_together_are_answered_only_once_they_are_stored(harness: PortalHarness) -> None:
    """Machines activating at once are written in one transaction; when it cannot be stored,
    none of them is told it holds a license, and none does."""
    licenses = [await a_license(harness, quantity=1) for _ in range(4)]
    machines = [device(license.key, f"pc-{n}") for n, license in enumerate(licenses)]

    def refuse_to_store(conn: Any) -> None:
        if conn.get_execution_options().get("seattui_write"):  # a write transaction's commit
            raise OSError("disk full")

    engines = [engine.sync_engine for engine in harness.portal.store.engines]  # point_write's too
    for engine in engines:
        event.listen(engine, "commit", refuse_to_store)
    try:
        results = await asyncio.gather(*(harness.client(retries=0).activate(machine) for machine in machines),
                                       return_exceptions=True)
    finally:
        for engine in engines:
            event.remove(engine, "commit", refuse_to_store)
    assert all(isinstance(result, SeattuiError) for result in results), results
    admin = await harness.login("acme-admin")
    assert [(await admin.license(license.id)).device for license in licenses] == [None] * 4
    software = harness.client()
    assert all([(await software.activate(machine)).activated_here for machine in machines])


async def test_activations_at_once_over_the_keys_limit_are_each_counted_and_answered_in_turn(
        database_url: str) -> None:
    """Machines activating at the same moment are counted, read and written as one group: exactly
    the limit's number are let through, in the order they came, and of those the first takes the
    license and the others hear it is taken; the refused ones change nothing."""
    async with running_portal(database_url, activation_limit=7) as harness:
        license = await a_license(harness, quantity=1)
        software = harness.client()
        results = await asyncio.gather(*(software.activate(device(license.key, f"pc-{n}")) for n in range(12)),
                                       return_exceptions=True)
        kinds = [type(result).__name__ for result in results]
        assert kinds.count("RateLimited") == 5, kinds
        answered = [result for result in results if not isinstance(result, RateLimited)]
        assert [isinstance(result, ActivatedElsewhere) for result in answered] == [False] + [True] * 6, kinds
        assert answered[0].activated_here
        admin = await harness.login("acme-admin")
        holder = (await admin.license(license.id)).device
        assert holder is not None and holder.hostname == "pc-0"


async def test_a_license_taken_between_the_groups_read_and_its_write_is_not_taken_again(
        harness: PortalHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """An activation group decides from one read, and writes after it in a transaction of its
    own: a license another writer took in between (another instance, the CLI) is seen taken
    there, and the machine is refused rather than given it too."""
    from contextlib import asynccontextmanager

    from sqlalchemy import update

    from seattui.portal.store.tables import licenses as licenses_table

    license = await a_license(harness, quantity=1)
    store = harness.portal.store
    point_write = store.point_write

    @asynccontextmanager
    async def taken_first() -> Any:
        async with store.write() as conn:  # the other writer, between the read and the write
            await conn.execute(update(licenses_table).where(licenses_table.c.id == license.id).values(
                device_fingerprint="machine-elsewhere-fp", device_hostname="elsewhere",
                activated_at=harness.portal.now()))
        monkeypatch.setattr(store, "point_write", point_write)
        async with point_write() as conn:
            yield conn

    monkeypatch.setattr(store, "point_write", taken_first)
    with pytest.raises(ActivatedElsewhere, match="elsewhere"):
        await harness.client().activate(device(license.key, "pc-1"))
    admin = await harness.login("acme-admin")
    assert (await admin.license(license.id)).device.hostname == "elsewhere"


async def test_a_license_changed_twice_in_one_group_ends_as_its_last_change_left_it(database_url: str) -> None:
    # A group's device changes go to the store in one statement on PostgreSQL, each license
    # once: taken by one machine then freed (or freed then taken by the next), it must end as
    # its last change says, still remembered as once activated.
    from sqlalchemy import select

    from seattui.portal.services import activation
    from seattui.portal.store.tables import licenses as licenses_table

    async with running_portal(database_url) as harness:
        taken_then_freed = await a_license(harness)
        freed_then_taken = await a_license(harness)
        now = harness.portal.now()
        change = activation._device_change
        async with harness.portal.store.write() as conn:
            await activation._change_devices(conn, [
                change(taken_then_freed.id, "fp-a", "pc-a", now), change(freed_then_taken.id, None, None, now),
                change(taken_then_freed.id, None, None, now), change(freed_then_taken.id, "fp-b", "pc-b", now),
            ], now)
        async with harness.portal.store.read() as conn:
            rows = {row.id: row for row in await conn.execute(
                select(licenses_table.c.id, licenses_table.c.device_fingerprint, licenses_table.c.device_hostname,
                       licenses_table.c.activated_at, licenses_table.c.first_activated_at)
                .where(licenses_table.c.id.in_([taken_then_freed.id, freed_then_taken.id])))}
    freed, taken = rows[taken_then_freed.id], rows[freed_then_taken.id]
    assert (freed.device_fingerprint, freed.device_hostname, freed.activated_at) == (None, None, None)
    assert freed.first_activated_at == now
    assert (taken.device_fingerprint, taken.device_hostname, taken.activated_at, taken.first_activated_at) \
        == ("fp-b", "pc-b", now, now)
