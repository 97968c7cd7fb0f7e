"""Device activation: what the licensed software calls, with its activation key and a machine
fingerprint, without a session. A license runs on one device at a time; an unknown key, a key
without the product and an ended trial are refused with codes of their own.

Calls are counted per key and per client address (store/counters.py), so the limits hold
however many portal instances answer; counting, refusals and repeats take no write
transaction of the store, which on SQLite would hold every other writer up. A check, which
devices make far more often than anything else, is a read: it is counted in the instance's
memory and shared in the background (`activation_check_share`), so it writes nothing on its
way, and a refused one is answered without touching the store."""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.catalog import ProductKind
from seattui.domain.errors import (
    ActivatedElsewhere,
    NotLicensed,
    RateLimited,
    SeattuiError,
    TrialEnded,
    UnknownKey,
)
from seattui.domain.licensing import (
    ActivationRequest,
    ActivationStatus,
    Device,
    DeviceRequest,
    License,
    LicenseStatus,
    Term,
)
from seattui.domain.roles import OrgKind, Role
from seattui.portal.context import Actor, Tx
from seattui.portal.queries.licenses import (
    addons_of,
    from_row,
    get,
    license_query,
    status_of,
)
from seattui.portal.runtime import Portal
from seattui.portal.services import audit
from seattui.portal.store.counters import window_start
from seattui.portal.store.point import PointQuery
from seattui.portal.store.sets import update_rows
from seattui.portal.store.tables import (
    Id,
    UTCDateTime,
    activation_keys,
    licenses,
    organizations,
)
from seattui.portal.store.together import Together

_LIVE = (LicenseStatus.ASSIGNED, LicenseStatus.ACTIVATED)


async def activate(portal: Portal, address: str, request: ActivationRequest) -> ActivationStatus:
    """Bind the key's best free license of the product to this machine, or say why not. A
    machine that holds a trial (running or ended) moves to a permanent license bought on the key
    since, and the trial is free again; otherwise it keeps the license it holds."""
    return await _waiting_activations(portal).activated((request, address))


class _Activations:
    """A portal's activations waiting, taken as a group in three steps. Their calls are counted
    (one write of the rate counters). One read of the keys' licenses decides which of them
    change nothing (a refusal, a repeat): those take no write transaction. The others are
    written together in one write transaction: one read of their keys' licenses (locked),
    decided one activation after another as if each ran alone, in the order they came and each
    seeing the ones before it, so seat limits stay exact and a refusal changes nothing for the
    others; then one update of every license bound or freed and one audit write. Each is
    answered only once its group is committed.

    One group runs at a time, all three steps: the calls that arrive meanwhile make the next.
    Each step run as groups of its own, 32 callers made groups of about 10 at each, whose
    statements cost more than their activations did; in one, 16 (SQLite: 1,300-1,500
    activations a second -> 1,900-2,100). The write takes the check's decisions again where it
    finds the rows the check read (_Read.holds), which they are unless another writer came
    between (SQLite: -15% of an activation's time)."""

    def __init__(self, portal: Portal) -> None:
        self._portal = weakref.ref(portal)  # the portal holds this (_waiting_activations)
        self.activated = Together(self._activate, _GROUP)

    async def _activate(self, calls: list[tuple[ActivationRequest, str]]) -> list[ActivationStatus | SeattuiError]:
        portal = self._portal()
        assert portal is not None
        outcomes: list[ActivationStatus | SeattuiError | None] = list(await _count_calls(portal, calls))
        counted = [request for (request, _), outcome in zip(calls, outcomes, strict=True) if outcome is None]
        checked, seen = await self._check(counted)
        outcomes = [next(checked) if outcome is None else outcome for outcome in outcomes]
        changing = [request for (request, _), outcome in zip(calls, outcomes, strict=True) if outcome is None]
        if changing:
            written = iter(await self._write(changing, seen))
            outcomes = [next(written) if outcome is None else outcome for outcome in outcomes]
        assert None not in outcomes
        return outcomes  # type: ignore[return-value]

    async def _check(self, requests: list[ActivationRequest]
                     ) -> tuple[Iterator[ActivationStatus | None | SeattuiError], _Read | None]:
        """For each activation: its answer if it changes nothing (or its refusal), else None;
        and the licenses read."""
        portal = self._portal()
        assert portal is not None
        if not requests:
            return iter(()), None
        # A point read, as a device's check is: the group's keys' licenses of their products. In
        # a read transaction its BEGIN and COMMIT were trips to the connection's thread that the
        # write of the group before waited behind (SQLite: activations 1,480 -> 1,660 a second).
        async with portal.store.point_read() as conn:
            now = portal.now()
            read = await _licenses_now(conn, requests, now, lock=False)
        owners, found = read.owners, read.found
        outcomes: list[ActivationStatus | None | SeattuiError] = []
        for request in requests:
            try:
                _, decided = _decide(portal, conn, request, owners, found, now)
            except SeattuiError as refusal:
                outcomes.append(refusal)
                continue
            outcomes.append(decided if isinstance(decided, ActivationStatus) else None)
        return iter(outcomes), read

    async def _write(self, requests: list[ActivationRequest], seen: _Read | None
                     ) -> list[ActivationStatus | SeattuiError]:
        portal = self._portal()
        assert portal is not None
        async with portal.store.point_write() as conn:  # a group's few statements, by key
            return await _activate_together(portal, conn, requests, seen)


_GROUP = 64  # activations at most in one transaction: its statements' parameters stay few
_activations: weakref.WeakKeyDictionary[Portal, tuple[asyncio.AbstractEventLoop, _Activations]] = \
    weakref.WeakKeyDictionary()


def _waiting_activations(portal: Portal) -> _Activations:
    """The portal's waiting activations on this event loop (a portal used from another loop,
    as tests do, gets its own)."""
    loop = asyncio.get_running_loop()
    known = _activations.get(portal)
    if known is None or known[0] is not loop:
        known = _activations[portal] = (loop, _Activations(portal))
    return known[1]


class _Read:
    """A group's keys' owners and their licenses of the products asked for, by key and product,
    as one read found them on a day (statuses depend on it), with the rows they were made of."""

    __slots__ = ("day", "found", "owners", "rows")

    def __init__(self, day: date, rows: list[Any], owners: dict[str, Any],
                 found: dict[tuple[str, str], list[License]]) -> None:
        self.day, self.rows, self.owners, self.found = day, rows, owners, found

    def holds(self, day: date, keys: Collection[str], product_ids: Collection[str], rows: list[Any]) -> bool:
        """Whether these rows of the keys' licenses of the products, read later, are the ones
        this read found: then what was made of them stands."""
        if day != self.day:
            return False
        before = [row for row in self.rows if row.owner_key in keys and row.product_id in product_ids]
        return len(before) == len(rows) and all(tuple(a) == tuple(b) for a, b in zip(before, rows, strict=True))


async def _licenses_now(conn: AsyncConnection, requests: list[ActivationRequest], now: datetime, *,
                        lock: bool, seen: _Read | None = None) -> _Read:
    """The requests' keys' owners, and their licenses of the products asked for, by key and
    product (locked when writing). What an earlier read of the group made of the same rows is
    taken again, not made anew (`seen`: a group's write finds what its check read, unless
    another writer came between)."""
    keys = sorted({request.key for request in requests})
    product_ids = sorted({request.product_id for request in requests})
    rows = (await conn.execute(_GROUP_LICENSES_LOCKED if lock else _GROUP_LICENSES,
                               {"keys": keys, "product_ids": product_ids})).all()
    today = now.date()
    if seen is not None and seen.holds(today, set(keys), set(product_ids), rows):
        return seen
    owners: dict[str, Any] = {}
    found: dict[tuple[str, str], list[License]] = {}
    for row in rows:
        owners[row.owner_key] = row
        found.setdefault((row.owner_key, row.product_id), []).append(from_row(row, today))
    if len(owners) < len(keys):  # keys without such licenses: known, or not?
        unheld = [key for key in keys if key not in owners]
        owners |= {row.key: row for row in await conn.execute(_OWNERS, {"keys": unheld})}
    return _Read(today, rows, owners, found)


async def _activate_together(
    portal: Portal, conn: AsyncConnection, requests: list[ActivationRequest], seen: _Read | None = None
) -> list[ActivationStatus | SeattuiError]:
    """Each activation's answer or refusal, decided from the licenses as they are now (locked),
    in turn; the licenses bound and freed and their audit entries are written before returning.
    `seen`: the group's read before, whose licenses are taken again if they are still so."""
    now = portal.now()
    read = await _licenses_now(conn, requests, now, lock=True, seen=seen)
    owners, found = read.owners, read.found
    outcomes: list[ActivationStatus | SeattuiError] = []
    changes: list[dict[str, Any]] = []
    entries: list[tuple[Tx, dict[str, Any]]] = []
    for request in requests:
        try:
            tx, decided = _decide(portal, conn, request, owners, found, now)
        except SeattuiError as refusal:
            outcomes.append(refusal)
            continue
        if isinstance(decided, ActivationStatus):  # activated here meanwhile
            outcomes.append(decided)
            continue
        held, chosen = decided
        if held is not None:
            changes.append(_device_change(held.id, None, None, now))
            entries.append((tx, _released_entry(held, moved_to=chosen)))
            _bind_here(found, held, None, now)
        changes.append(_device_change(chosen.id, request.fingerprint, request.hostname, now))
        entries.append((tx, {
            "action": "license.activate", "object_type": "license", "object_id": chosen.id,
            "summary": f"License {chosen.id} on {chosen.key} activated on {request.hostname or request.fingerprint}",
            "details": {"fingerprint": request.fingerprint, "hostname": request.hostname}}))
        outcomes.append(_status(_bind_here(found, chosen, Device.model_construct(
            fingerprint=request.fingerprint, hostname=request.hostname or "", activated_at=now), now),
            activated_here=True))
    if changes:
        await _change_devices(conn, changes, now)
        await audit.record_each(entries)
    return outcomes


def _decide(portal: Portal, conn: AsyncConnection, request: ActivationRequest, owners: dict[str, Any],
            found: dict[tuple[str, str], list[License]],
            now: datetime) -> tuple[Tx, tuple[License | None, License] | ActivationStatus]:
    """The activation's transaction and what it changes (the license given up, the one taken),
    or its answer when it changes nothing (a repeat: nothing better to move to); a refusal raised."""
    tx = _device_tx(portal, conn, request, owners.get(request.key), now)
    if not found.get((request.key, request.product_id)):
        _no_license(request)
    decided = _activation(request, found)
    if decided is None:
        here = _active_here(found[(request.key, request.product_id)], request.fingerprint)
        assert here is not None
        return tx, _status(here, activated_here=True)
    return tx, decided


def _activation(request: ActivationRequest,
                found: dict[tuple[str, str], list[License]]) -> tuple[License | None, License] | None:
    """What activating this machine changes: the license it gives up (if any) and the one it
    takes; None when it already runs the license it should; a refusal raised."""
    licenses_of_key = found[(request.key, request.product_id)]
    here = _active_here(licenses_of_key, request.fingerprint)
    free = [license for license in licenses_of_key if license.status is LicenseStatus.ASSIGNED]
    if here is not None:
        free = [license for license in free if _better_term(license, here)]
        if not free:
            return None
    elif not free:
        _refuse_activation(request, licenses_of_key)
    chosen = max(free, key=_preference)
    held = here or _active_here(licenses_of_key, request.fingerprint, live_only=False)  # or its trial that ended
    return held, chosen


def _bind_here(found: dict[tuple[str, str], list[License]], license: License, device: Device | None,
               now: datetime) -> License:
    """The license as the store now holds it, bound to the device (or freed), in place of the
    one read: the next activation of the group sees it so."""
    changed = license.model_copy(update={
        "device": device,
        "status": status_of(license.term, license.trial_ends_on, license.term_ends_on, device is not None, now.date()),
    })
    licenses_of_key = found[(license.key, license.product_id)]
    licenses_of_key[licenses_of_key.index(license)] = changed
    return changed


def _device_change(license_id: int, fingerprint: str | None, hostname: str | None, now: datetime) -> dict[str, Any]:
    activated_at = now if fingerprint is not None else None
    return {"license_id": license_id, "fingerprint": fingerprint, "hostname": hostname,
            "activated_at": activated_at, "first_at": activated_at}


async def _change_devices(conn: AsyncConnection, changes: list[dict[str, Any]], now: datetime) -> None:
    """Write the licenses' device changes, in one statement for a group on PostgreSQL
    (update_rows). A license changed twice in a group (freed by one machine, taken by the next)
    ends as its last change left it, activated first when either change activated it."""
    last: dict[int, dict[str, Any]] = {}
    for change in changes:
        before = last.get(change["license_id"])
        last[change["license_id"]] = change if before is None else \
            {**change, "first_at": before["first_at"] or change["first_at"]}
    await update_rows(conn, licenses, _DEVICE_COLUMNS, list(last.values()),
                      where=lambda change: licenses.c.id == change.license_id,
                      changes=lambda change: {
                          "device_fingerprint": change.fingerprint, "device_hostname": change.hostname,
                          "activated_at": change.activated_at, "updated_at": now,
                          "first_activated_at": func.coalesce(licenses.c.first_activated_at, change.first_at)})


async def deactivate(portal: Portal, address: str, request: DeviceRequest) -> ActivationStatus:
    """Release the license this machine holds; a machine that holds none changes nothing, so
    the licensed software may safely repeat the call."""
    now = portal.now()
    await _count_call(portal, request.key, address, now)
    async with portal.store.read() as conn:
        seen = await _device_licenses(portal, conn, request, now.date())
    if _active_here(seen, request.fingerprint, live_only=False) is None:
        return _status(_best(seen), activated_here=False)
    async with portal.store.write() as conn:
        tx, found = await _licenses_of(portal, conn, request)
        here = _active_here(found, request.fingerprint, live_only=False)
        if here is None:
            return _status(_best(found), activated_here=False)
        await _release(tx, here)
        return _status(await get(tx, here.id), activated_here=False)


async def _release(tx: Tx, license: License) -> None:
    """Free a license from the device that holds it, at that device's request."""
    await _change_devices(tx.conn, [_device_change(license.id, None, None, tx.now)], tx.now)
    await audit.record_each([(tx, _released_entry(license))])


def _released_entry(license: License, *, moved_to: License | None = None) -> dict[str, Any]:
    """The audit entry of a license freed by its device (or as it moves to a better license of
    the key)."""
    device = license.device
    assert device is not None
    return {
        "action": "license.deactivate", "object_type": "license", "object_id": license.id,
        "summary": f"License {license.id} on {license.key} deactivated by {device.hostname or device.fingerprint}"
        + (f": it moved to the {moved_to.term.value} license {moved_to.id}" if moved_to is not None else ""),
        "details": {"fingerprint": device.fingerprint, "hostname": device.hostname, "forced": False}
        | ({"moved_to": moved_to.id} if moved_to is not None else {}),
    }


async def check(portal: Portal, address: str, request: DeviceRequest) -> ActivationStatus:
    """Whether this machine holds a live activation; an ended trial is refused."""
    now = portal.now()  # one clock read for the count and the answer
    await _count_call(portal, request.key, address, now,
                      here=portal.settings.activation_check_share > timedelta(0))
    today = now.date()
    async with portal.store.point_read() as conn:
        rows = await _device_rows(portal, conn, request)
        held = _held_here(rows, request.fingerprint, today)
        if held is not None:
            return held
        found = await _device_licenses(portal, conn, request, today, rows)
    here = _active_here(found, request.fingerprint)
    if here is not None:
        return _status(here, activated_here=True)
    if not any(license.status in _LIVE for license in found):
        _refuse_activation(request, found)
    return _status(_best(found), activated_here=False)


# -- the rules ------------------------------------------------------------------------------------

def _active_here(found: list[License], fingerprint: str, *, live_only: bool = True) -> License | None:
    return next((license for license in found
                 if license.device is not None and license.device.fingerprint == fingerprint
                 and (license.status in _LIVE or not live_only)), None)


def _preference(license: License) -> tuple[bool, datetime, int]:
    """Which of a key's licenses of a product a device should run: a permanent license over a
    trial, then the most recently created (the customer's latest purchase)."""
    return license.term is Term.PERMANENT, license.created_at, license.id


def _better_term(license: License, than: License) -> bool:
    return license.term is Term.PERMANENT and than.term is not Term.PERMANENT


def _best(found: list[License]) -> License:
    """The license a status answer describes when this machine holds none."""
    return max(found, key=lambda license: (license.status in _LIVE, *_preference(license)))


def _refuse_activation(request: DeviceRequest, found: list[License]) -> None:
    elsewhere = [license for license in found if license.status is LicenseStatus.ACTIVATED]
    if elsewhere:
        device = elsewhere[0].device
        assert device is not None
        raise ActivatedElsewhere(
            f"The license of {request.product_id} on {request.key} is active on another device "
            f"({device.hostname or 'unnamed'}); deactivate it there first, or ask your administrator to.",
            {"hostname": device.hostname},
        )
    ended = [license for license in found if license.status is LicenseStatus.TRIAL_ENDED]
    if ended:
        last = max(license.trial_ends_on for license in ended if license.trial_ends_on is not None)
        raise TrialEnded(
            f"The trial of {request.product_id} on {request.key} ended on {last}; "
            "ask your reseller for a permanent license.",
            {"trial_ended_on": str(last)},
        )
    raise NotLicensed(f"The key {request.key} holds no live license of {request.product_id}.")


def _held_here(rows: Sequence[Any], fingerprint: str, today: date) -> ActivationStatus | None:
    """_status of the license _active_here would find, straight from the rows of
    _DEVICE_LICENSES: the answer to most checks, without building every license first
    (from_row was a tenth of a check's time)."""
    for row in rows:
        if row.device_fingerprint == fingerprint:
            term = Term(row.term)
            status = status_of(term, row.trial_ends_on, row.term_ends_on, True, today)
            if status in _LIVE:
                return ActivationStatus.model_construct(
                    key=row.key, product_id=row.product_id, edition_id=row.edition_id, addons=addons_of(row.addons),
                    term=term, quantity=row.quantity, status=status, activated_here=True,
                    trial_ends_on=row.trial_ends_on, support_ends_on=row.support_ends_on,
                )
    return None


def _status(license: License, *, activated_here: bool) -> ActivationStatus:
    # Not validated: each value is the license's, already of the answer's types (from_row).
    return ActivationStatus.model_construct(
        key=license.key, product_id=license.product_id, edition_id=license.edition_id, addons=license.addons,
        term=license.term, quantity=license.quantity,
        status=license.status,
        activated_here=activated_here, trial_ends_on=license.trial_ends_on, support_ends_on=license.support_ends_on,
    )


# Built once: every device call runs these, and building them cost more than running them.
_OWNER = (
    select(activation_keys.c.id, activation_keys.c.key, organizations.c.id.label("owner_org_id"),
           organizations.c.name.label("owner_name"), organizations.c.kind.label("owner_kind"))
    .join(organizations, organizations.c.id == activation_keys.c.org_id)
)
_OWNERS = _OWNER.where(activation_keys.c.key.in_(bindparam("keys", expanding=True)))
_OWNER = _OWNER.where(activation_keys.c.key == bindparam("key"))
_KEY_LICENSES = license_query().where(licenses.c.key_id == bindparam("key_id"),
                                      licenses.c.product_id == bindparam("product_id"))
_KEY_LICENSES_LOCKED = _KEY_LICENSES.with_for_update(of=licenses)
# Licenses with their keys' owners.
_OWNED_LICENSES = (
    license_query()
    .add_columns(activation_keys.c.key.label("owner_key"), organizations.c.id.label("owner_org_id"),
                 organizations.c.name.label("owner_name"), organizations.c.kind.label("owner_kind"))
    .join(organizations, organizations.c.id == activation_keys.c.org_id)
)
# A device's read: the key's licenses of the product with the key's owner, in one statement
# (each statement cost SQLAlchemy more than SQLite took to answer it).
_DEVICE_LICENSES = PointQuery(_OWNED_LICENSES.where(activation_keys.c.key == bindparam("key"),
                                                    licenses.c.product_id == bindparam("product_id")))
# Locked in the order of their ids, so two instances' groups never lock in a cycle (PostgreSQL).
_GROUP_LICENSES = (
    _OWNED_LICENSES
    .where(activation_keys.c.key.in_(bindparam("keys", expanding=True)),
           licenses.c.product_id.in_(bindparam("product_ids", expanding=True)))
    .order_by(licenses.c.id)
)
_GROUP_LICENSES_LOCKED = _GROUP_LICENSES.with_for_update(of=licenses)
# A license once activated is remembered so (first_activated_at: its refund is refused), as
# licenses.bind_device does; freeing it leaves that as it was (_change_devices).
_DEVICE_COLUMNS = {"license_id": Id, "fingerprint": String(), "hostname": String(), "activated_at": UTCDateTime(),
                   "first_at": UTCDateTime()}


async def _device_rows(portal: Portal, conn: AsyncConnection, request: DeviceRequest) -> Sequence[Any]:
    """The key's licenses of the product as rows, read (not locked) in one statement, a
    product not for devices refused; none when the key holds none (or is unknown)."""
    rows = await _DEVICE_LICENSES.all(conn, {"key": request.key, "product_id": request.product_id})
    if rows:
        _refuse_device(portal, request, rows[0])
    return rows


async def _device_licenses(portal: Portal, conn: AsyncConnection, request: DeviceRequest,
                           today: date, rows: Sequence[Any] | None = None) -> list[License]:
    """The key's licenses of the product (_device_rows, unless `rows` are that read already);
    a key that finds none is told apart (unknown, a product not for devices, no license of
    it) by _licenses_of."""
    if rows is None:
        rows = await _device_rows(portal, conn, request)
    if not rows:
        return (await _licenses_of(portal, conn, request, lock=False))[1]
    return [from_row(row, today) for row in rows]


async def _licenses_of(
    portal: Portal, conn: AsyncConnection, request: DeviceRequest, *, lock: bool = True
) -> tuple[Tx, list[License]]:
    """The key's licenses of the product (locked when writing), with a transaction acting for
    the key's organization as the licensed software."""
    owner = (await conn.execute(_OWNER, {"key": request.key})).first()
    tx = _device_tx(portal, conn, request, owner, portal.now())
    rows = (await conn.execute(_KEY_LICENSES_LOCKED if lock else _KEY_LICENSES,
                               {"key_id": owner.id, "product_id": request.product_id})).all()
    found = [from_row(row, tx.today) for row in rows]
    if not found:
        _no_license(request)
    return tx, found


def _device_tx(portal: Portal, conn: AsyncConnection, request: DeviceRequest, owner: Any, now: datetime) -> Tx:
    """A transaction acting for the key's owner as the licensed software; an unknown key or a
    product not activated on devices refused."""
    _refuse_device(portal, request, owner)
    actor = Actor(user_id=None, login="device", display_name="Licensed software", role=Role.VIEWER,
                  org_id=owner.owner_org_id, org_name=owner.owner_name, org_kind=OrgKind(owner.owner_kind))
    return Tx(conn=conn, actor=actor, catalog=portal.catalog, now=now)


def _refuse_device(portal: Portal, request: DeviceRequest, owner: Any) -> None:
    """An unknown key, or a product not activated on devices, refused."""
    if owner is None:
        raise UnknownKey(f"There is no activation key {request.key}; check the key as typed.", {"key": request.key})
    product = portal.catalog.find(request.product_id)
    if product is not None and product.kind is not ProductKind.PERPETUAL:
        raise NotLicensed(f"{product.name} is not activated on devices.", {"product_id": request.product_id})


def _no_license(request: DeviceRequest) -> NoReturn:
    raise NotLicensed(f"The key {request.key} holds no license of {request.product_id}.",
                      {"key": request.key, "product_id": request.product_id})


# -- rate limits ------------------------------------------------------------------------------------

async def _count_call(portal: Portal, key: str, address: str, now: datetime, *, here: bool = False) -> None:
    """Count the call against its key and its address before it is answered, so guessing
    keys is limited too (store/counters.py: off the store's write lock, across instances), or
    `here`, in the instance's memory, shared in the background."""
    start, keep_after = _windows(portal, now)
    limits = _limits(portal, key, address)
    within = portal.calls.hit_here(limits, start, keep_after=keep_after) if here \
        else await portal.calls.hit(limits, start, keep_after=keep_after)
    if not within:
        raise _rate_limited(portal, start, now)


async def _count_calls(portal: Portal, calls: list[tuple[ActivationRequest, str]]) -> list[RateLimited | None]:
    """_count_call for a group of activations, in one count: each one's refusal, or None."""
    now = portal.now()
    start, keep_after = _windows(portal, now)
    within = await portal.calls.hit_each([_limits(portal, request.key, address) for request, address in calls],
                                         start, keep_after=keep_after)
    return [None if counted else _rate_limited(portal, start, now) for counted in within]


def _windows(portal: Portal, now: datetime) -> tuple[datetime, datetime]:
    """When the call's window started, and the windows before which counts are swept."""
    window = portal.settings.activation_window
    start = window_start(now, window)
    return start, start - window


def _limits(portal: Portal, key: str, address: str) -> dict[str, int]:
    settings = portal.settings
    per_address = settings.activation_limit if settings.activation_address_limit is None \
        else settings.activation_address_limit
    return {f"activation:key:{key}": settings.activation_limit, f"activation:address:{address}": per_address}


def _rate_limited(portal: Portal, start: datetime, now: datetime) -> RateLimited:
    wait = max(1, math.ceil((start + portal.settings.activation_window - now).total_seconds()))
    return RateLimited(
        f"Too many activation calls for this key or from this address: try again in {wait} seconds.",
        {"retry_after": wait},
    )
