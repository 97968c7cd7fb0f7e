"""Device activation: what the licensed software calls, with its activation key and a machine
fingerprint, without a session. A license runs on one device at a time; an unknown key, a key
without the product and an ended trial are refused with codes of their own.

Calls are counted per key and per client address (store/counters.py), so the limits hold
however many portal instances answer; counting, refusals and repeats take no write
transaction of the store, which on SQLite would hold every other writer up."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.catalog import ProductKind
from seattui.domain.errors import ActivatedElsewhere, NotLicensed, RateLimited, TrialEnded, UnknownKey
from seattui.domain.licensing import ActivationRequest, ActivationStatus, DeviceRequest, License, LicenseStatus, Term
from seattui.domain.roles import OrgKind, Role
from seattui.portal.context import Actor, Tx
from seattui.portal.runtime import Portal
from seattui.portal.services import audit
from seattui.portal.queries.licenses import from_row, get, license_query
from seattui.portal.store.tables import activation_keys, licenses, organizations

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_LIVE = (LicenseStatus.ASSIGNED, LicenseStatus.ACTIVATED)


async def activate(portal: Portal, address: str, request: ActivationRequest) -> ActivationStatus:
    """Bind the key's best free license of the product to this machine, or say why not. A
    machine that holds a trial (running or ended) moves to a permanent license bought on the key
    since, and the trial is free again; otherwise it keeps the license it holds."""
    await _count_call(portal, request.key, address)
    # Read first: a refusal or a repeat takes no write transaction (on SQLite, the whole file).
    async with portal.store.read() as conn:
        _, seen = await _licenses_of(portal, conn, request, lock=False)
    here = _active_here(seen, request.fingerprint)
    free = [license for license in seen if license.status is LicenseStatus.ASSIGNED]
    if here is not None and not any(_better_term(license, here) for license in free):
        return _status(here, activated_here=True)  # a repeat: nothing better to move to
    if here is None and not free:
        _refuse_activation(request, seen)
    async with portal.store.write() as conn:
        tx, found = await _licenses_of(portal, conn, request)
        here = _active_here(found, request.fingerprint)
        free = [license for license in found if license.status is LicenseStatus.ASSIGNED]
        if here is not None:
            free = [license for license in free if _better_term(license, here)]
            if not free:
                return _status(here, activated_here=True)
        elif not free:
            _refuse_activation(request, found)
        chosen = max(free, key=_preference)
        held = here or _active_here(found, request.fingerprint, live_only=False)  # or its trial that ended
        if held is not None:
            await _release(tx, held, moved_to=chosen)
        await conn.execute(
            update(licenses).where(licenses.c.id == chosen.id).values(
                device_fingerprint=request.fingerprint, device_hostname=request.hostname, activated_at=tx.now,
                updated_at=tx.now)
        )
        await audit.record(
            tx, "license.activate", "license", chosen.id,
            f"License {chosen.id} on {chosen.key} activated on {request.hostname or request.fingerprint}",
            {"fingerprint": request.fingerprint, "hostname": request.hostname},
        )
        # As `get` would read it back: a free license just bound to this device.
        return _status(chosen.model_copy(update={"status": LicenseStatus.ACTIVATED}), activated_here=True)


async def deactivate(portal: Portal, address: str, request: DeviceRequest) -> ActivationStatus:
    """Release the license this machine holds; a machine that holds none changes nothing, so
    the licensed software may safely repeat the call."""
    await _count_call(portal, request.key, address)
    async with portal.store.read() as conn:
        _, seen = await _licenses_of(portal, conn, request, lock=False)
    if _active_here(seen, request.fingerprint, live_only=False) is None:
        return _status(_best(seen), activated_here=False)
    async with portal.store.write() as conn:
        tx, found = await _licenses_of(portal, conn, request)
        here = _active_here(found, request.fingerprint, live_only=False)
        if here is None:
            return _status(_best(found), activated_here=False)
        await _release(tx, here)
        return _status(await get(tx, here.id), activated_here=False)


async def _release(tx: Tx, license: License, *, moved_to: License | None = None) -> None:
    """Free a license from the device that holds it, at that device's request (or as it moves
    to a better license of the key)."""
    device = license.device
    assert device is not None
    await tx.conn.execute(
        update(licenses).where(licenses.c.id == license.id).values(
            device_fingerprint=None, device_hostname=None, activated_at=None, updated_at=tx.now)
    )
    await audit.record(
        tx, "license.deactivate", "license", license.id,
        f"License {license.id} on {license.key} deactivated by {device.hostname or device.fingerprint}"
        + (f": it moved to the {moved_to.term.value} license {moved_to.id}" if moved_to is not None else ""),
        {"fingerprint": device.fingerprint, "hostname": device.hostname, "forced": False}
        | ({"moved_to": moved_to.id} if moved_to is not None else {}),
    )


async def check(portal: Portal, address: str, request: DeviceRequest) -> ActivationStatus:
    """Whether this machine holds a live activation; an ended trial is refused."""
    await _count_call(portal, request.key, address)
    async with portal.store.point_read() as conn:
        _, found = await _licenses_of(portal, conn, request, lock=False)
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


def _status(license: License, *, activated_here: bool) -> ActivationStatus:
    return ActivationStatus(
        key=license.key, product_id=license.product_id, edition_id=license.edition_id, addons=license.addons,
        term=license.term, quantity=license.quantity,
        status=license.status,
        activated_here=activated_here, trial_ends_on=license.trial_ends_on, support_ends_on=license.support_ends_on,
    )


# Built once: every device call runs these, and building them cost more than running them.
_OWNER = (
    select(activation_keys.c.id, organizations.c.id.label("org_id"), organizations.c.name, organizations.c.kind)
    .join(organizations, organizations.c.id == activation_keys.c.org_id)
    .where(activation_keys.c.key == bindparam("key"))
)
_KEY_LICENSES = license_query().where(licenses.c.key_id == bindparam("key_id"),
                                      licenses.c.product_id == bindparam("product_id"))
_KEY_LICENSES_LOCKED = _KEY_LICENSES.with_for_update(of=licenses)


async def _licenses_of(
    portal: Portal, conn: AsyncConnection, request: DeviceRequest, *, lock: bool = True
) -> tuple[Tx, list[License]]:
    """The key's licenses of the product (locked when writing), with a transaction acting for
    the key's organization as the licensed software."""
    owner = (await conn.execute(_OWNER, {"key": request.key})).first()
    if owner is None:
        raise UnknownKey(f"There is no activation key {request.key}; check the key as typed.", {"key": request.key})
    product = portal.catalog.find(request.product_id)
    if product is not None and product.kind is not ProductKind.PERPETUAL:
        raise NotLicensed(f"{product.name} is not activated on devices.", {"product_id": request.product_id})
    actor = Actor(user_id=None, login="device", display_name="Licensed software", role=Role.VIEWER,
                  org_id=owner.org_id, org_name=owner.name, org_kind=OrgKind(owner.kind))
    tx = Tx(conn=conn, actor=actor, catalog=portal.catalog, now=portal.now())
    rows = (await conn.execute(_KEY_LICENSES_LOCKED if lock else _KEY_LICENSES,
                               {"key_id": owner.id, "product_id": request.product_id})).all()
    found = [from_row(row, tx.today) for row in rows]
    if not found:
        raise NotLicensed(f"The key {request.key} holds no license of {request.product_id}.",
                          {"key": request.key, "product_id": request.product_id})
    return tx, found


# -- rate limits ------------------------------------------------------------------------------------

async def _count_call(portal: Portal, key: str, address: str) -> None:
    """Count the call against its key and its address before it is answered, so guessing
    keys is limited too (store/counters.py: off the store's write lock, across instances)."""
    settings = portal.settings
    now = portal.now()
    window = settings.activation_window
    start = _EPOCH + window * ((now - _EPOCH) // window)
    per_address = settings.activation_limit if settings.activation_address_limit is None \
        else settings.activation_address_limit
    limits = {f"activation:key:{key}": settings.activation_limit, f"activation:address:{address}": per_address}
    if not await portal.calls.hit(limits, start, keep_after=start - window):
        wait = max(1, math.ceil((start + window - now).total_seconds()))
        raise RateLimited(
            f"Too many activation calls for this key or from this address: try again in {wait} seconds.",
            {"retry_after": wait},
        )
