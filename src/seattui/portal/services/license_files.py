"""License files: the portal's Ed25519 signing keys (with ids and rotation), signed files for
licenses and subscriptions, offline activation through request files, and the online check
that tells a file made stale by a later change (upgrade, support, deletion).

The private keys live in `signing_keys`, which no route reads but for the public half; they
are never printed or logged. The files themselves are written and read by
domain.license_file, which the licensed software can copy."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.domain.catalog import Catalog
from seattui.domain.errors import Conflict, NotFound, PortalUnavailable, TrialEnded
from seattui.domain.license_file import (
    ALGORITHM,
    KIND_RELEASE,
    KIND_SUBSCRIPTION,
    DeviceFileRequest,
    LicenseFacts,
    LicenseFileRefused,
    PublicSigningKey,
    keyring_text,
    kid_of,
    parse_device_request,
    public_bytes,
    public_key,
    read_license_file,
)
from seattui.domain.licensing import ActivationRequest, License, LicenseStatus
from seattui.domain.offline_licensing import (
    FileCheck,
    FileVerdict,
    NotActivatedHere,
    OfflineAnswer,
    RequestFileInvalid,
    SigningKeyInfo,
    SigningKeys,
)
from seattui.domain.roles import Permission, Role
from seattui.portal.context import Actor, Tx
from seattui.portal.runtime import Portal
from seattui.portal.queries import keys, licenses, subscriptions
from seattui.portal.queries.license_files import (
    IssuedFile,
    Signer,
    issued_file,
    license_facts,
    subscription_facts,
)
from seattui.portal.services import audit
from seattui.portal.store.tables import licenses as licenses_table
from seattui.portal.store.tables import signing_keys
from seattui.portal.store.tables import subscriptions as subscriptions_table

# A retired key goes on verifying files stamped up to a minute after its rotation: another
# portal instance may be signing with it at that very moment.
ROTATION_GRACE = timedelta(minutes=1)


# -- signing keys ------------------------------------------------------------------------------------

async def _current_row(conn: AsyncConnection) -> Any:
    return (await conn.execute(
        select(signing_keys).where(signing_keys.c.retired_at.is_(None)).order_by(signing_keys.c.id.desc()).limit(1)
    )).first()


async def _create(conn: AsyncConnection, now: datetime) -> str:
    private = Ed25519PrivateKey.generate()
    raw = public_bytes(private)
    kid = kid_of(raw)
    try:
        new_id = (await conn.execute(insert(signing_keys).values(
            kid=kid, algorithm=ALGORITHM, public_key=base64.b64encode(raw).decode(),
            private_key=base64.b64encode(private.private_bytes_raw()).decode(), created_at=now,
        ).returning(signing_keys.c.id))).scalar_one()
    except DBAPIError:
        # The driver's error quotes the statement's parameters, the private key among them:
        # it must reach no log.
        raise PortalUnavailable("The portal could not store a new signing key; try again.") from None
    await conn.execute(update(signing_keys).where(signing_keys.c.retired_at.is_(None), signing_keys.c.id < new_id)
                       .values(retired_at=now + ROTATION_GRACE))
    return kid


async def ensure_signing_key(conn: AsyncConnection, now: datetime) -> str:
    """The current key's id, creating the portal's first key if it has none (`seattui init`)."""
    row = await _current_row(conn)
    return row.kid if row is not None else await _create(conn, now)


async def rotate(conn: AsyncConnection, now: datetime) -> str:
    """A new current key; the old ones verify what they signed until those files expire."""
    return await _create(conn, now)


async def signer(portal: Portal) -> Signer:
    """The key that signs now, created on first need for a portal set up before license files."""
    async with portal.store.read() as conn:
        row = await _current_row(conn)
    if row is None:
        async with portal.store.write() as conn:
            await ensure_signing_key(conn, portal.now())
            row = await _current_row(conn)
    return Signer(kid=row.kid, private_key=Ed25519PrivateKey.from_private_bytes(base64.b64decode(row.private_key)))


async def public_keys(conn: AsyncConnection) -> list[PublicSigningKey]:
    """Every key's public half: the current one first, then the retired ones, newest first."""
    rows = (await conn.execute(
        select(signing_keys.c.kid, signing_keys.c.public_key, signing_keys.c.created_at, signing_keys.c.retired_at)
        .order_by(signing_keys.c.retired_at.is_not(None), signing_keys.c.id.desc())
    )).all()
    return [public_key(row.kid, base64.b64decode(row.public_key), row.created_at, row.retired_at) for row in rows]


async def published_keys(portal: Portal) -> SigningKeys:
    current = await signer(portal)
    async with portal.store.read() as conn:
        found = await public_keys(conn)
    return SigningKeys(
        current=current.kid,
        keys=[SigningKeyInfo(kid=key.kid, algorithm=ALGORITHM, public_key=base64.b64encode(key.public_key).decode(),
                             created_at=key.created_at, retired_at=key.retired_at) for key in found],
        text=keyring_text(found),
    )


# -- files -------------------------------------------------------------------------------------------

def _may_read(tx: Tx) -> None:
    # A customer's own login reads the files of its own licenses (licenses.get is scoped to them).
    if Permission.OWN_LICENSES not in tx.actor.permissions:
        tx.actor.require(Permission.READ)


async def license_file(tx: Tx, signing: Signer, license_id: int, machine: str | None = None) -> IssuedFile:
    """A license's file; with `machine`, a machine file for the device that holds its activation."""
    _may_read(tx)
    license = await licenses.get(tx, license_id)
    if license.status is LicenseStatus.TRIAL_ENDED:
        raise TrialEnded(f"The trial of license {license_id} ended on {license.trial_ends_on}; "
                         "there is nothing left to license.", {"license_id": license_id})
    if license.status is LicenseStatus.TERM_ENDED:
        raise Conflict(f"The term of license {license_id} ended on {license.term_ends_on}; renew it first.",
                       {"license_id": license_id})
    hostname = ""
    if machine is not None:
        device = license.device
        if device is None or device.fingerprint != machine:
            where = f"it is activated on {device.hostname or device.fingerprint}" if device else "it is not activated"
            raise NotActivatedHere(
                f"License {license_id} is not activated on machine {machine} ({where}). A machine file is for the "
                "machine that holds the activation: activate it offline first "
                "(seattui license offline-activate REQUEST -o RESPONSE).",
                {"license_id": license_id, "fingerprint": machine},
            )
        hostname = device.hostname
    return issued_file(license_facts(license, tx.catalog, tx.now, machine=machine, hostname=hostname), signing)


async def subscription_file(tx: Tx, signing: Signer, subscription_id: int) -> IssuedFile:
    _may_read(tx)
    subscription = await subscriptions.get(tx, subscription_id)
    return issued_file(subscription_facts(subscription, tx.catalog, tx.now), signing)


# -- offline activation: request files in, machine files and release receipts out ------------------

def _request(text: str, action: str) -> DeviceFileRequest:
    try:
        request = parse_device_request(text)
    except LicenseFileRefused as refused:
        raise RequestFileInvalid(refused.message, {"request": refused.message}) from None
    if request.action != action:
        raise RequestFileInvalid(f"This is a request to {request.action}, not to {action}.",
                                 {"request": f"action {request.action}"})
    try:
        # The same rules as the online endpoints': a key as typed, a fingerprint of 8 to 128 characters.
        checked = ActivationRequest(key=request.key, product_id=request.product_id, fingerprint=request.fingerprint,
                                    hostname=request.hostname)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise RequestFileInvalid(f"The request file is not valid: {problems}.", {"request": problems}) from None
    return DeviceFileRequest(action=action, key=checked.key, product_id=checked.product_id,
                             fingerprint=checked.fingerprint, hostname=checked.hostname)


async def _held_by(tx: Tx, request: DeviceFileRequest) -> License | None:
    row = (await tx.conn.execute(licenses.license_query().where(
        licenses_table.c.org_id == tx.org_id, licenses_table.c.key == request.key,
        licenses_table.c.product_id == request.product_id,
        licenses_table.c.device_fingerprint == request.fingerprint,
    ).order_by(licenses_table.c.id))).first()
    return licenses.from_row(row, tx.today) if row is not None else None


async def _any_of(tx: Tx, request: DeviceFileRequest) -> License:
    row = (await tx.conn.execute(licenses.license_query().where(
        licenses_table.c.org_id == tx.org_id, licenses_table.c.key == request.key,
        licenses_table.c.product_id == request.product_id,
    ).order_by(licenses_table.c.id.desc()))).first()
    if row is None:
        raise NotFound(f"The key {request.key} holds no license of {request.product_id}.",
                       {"key": request.key, "product_id": request.product_id})
    return licenses.from_row(row, tx.today)


def _answer(license: License, request: DeviceFileRequest, issued: IssuedFile) -> OfflineAnswer:
    return OfflineAnswer(license_id=license.id, key=license.key, product_id=license.product_id,
                         fingerprint=request.fingerprint, hostname=request.hostname, file=issued.text,
                         filename=issued.filename)


def offline_address(actor: Actor) -> str:
    """Where an offline activation's calls are counted: apart from the network's addresses, per
    administrator feeding request files."""
    return f"offline:{actor.login}"


async def offline_request(portal: Portal, actor: Actor, text: str, action: str) -> DeviceFileRequest:
    """A request file read and checked: the caller may assign licenses, the key is the caller's
    organization's (another's is not found). The route then activates (or releases) the
    machine through the activation service, exactly as online, and asks for the answer below."""
    request = _request(text, action)
    async with portal.reading(actor) as tx:
        if actor.role is Role.CUSTOMER:
            await _customers_own(tx, request)
        else:
            actor.require(Permission.ASSIGN)
            await keys.find(tx, request.key)
    return request


async def _customers_own(tx: Tx, request: DeviceFileRequest) -> None:
    """A customer's own login feeds request files for their own devices: every license of the
    product on the key is theirs (the activation acts on the key's licenses of the product),
    else the key is not found, as another organization's is."""
    holders = (await tx.conn.execute(select(licenses_table.c.customer_id).where(
        licenses_table.c.org_id == tx.org_id, licenses_table.c.key == request.key,
        licenses_table.c.product_id == request.product_id))).scalars().all()
    if not holders or any(holder != tx.actor.customer_id for holder in holders):
        raise NotFound(f"None of your licenses is of {request.product_id} on the key {request.key}: check the "
                       "request file, or ask whoever sold you the license.",
                       {"key": request.key, "product_id": request.product_id})


async def held_by(portal: Portal, actor: Actor, request: DeviceFileRequest) -> License | None:
    """The license the request's machine holds now, if any."""
    async with portal.reading(actor) as tx:
        return await _held_by(tx, request)


async def machine_file(portal: Portal, actor: Actor, request: DeviceFileRequest) -> OfflineAnswer:
    """The machine file of the license the request's machine now holds, audited as an offline
    activation."""
    signing = await signer(portal)
    async with portal.writing(actor) as tx:
        license = await _held_by(tx, request)
        if license is None:  # released again between the activation and this
            raise Conflict("The activation was released while the machine file was being made; send the request "
                           "again.", {"key": request.key})
        await audit.record(
            tx, "license.offline_activate", "license", license.id,
            f"Machine file for license {license.id} on {license.key}, machine "
            f"{request.hostname or request.fingerprint}, from a request file",
            {"fingerprint": request.fingerprint, "hostname": request.hostname},
        )
        issued = issued_file(license_facts(license, tx.catalog, tx.now, machine=request.fingerprint,
                                       hostname=license.device.hostname if license.device else request.hostname),
                         signing)
    return _answer(license, request, issued)


async def release_receipt(portal: Portal, actor: Actor, request: DeviceFileRequest,
                          held: License | None) -> OfflineAnswer:
    """The signed receipt that the request's machine no longer holds the license (`held`: the
    one it held before its release, if any), audited as an offline deactivation."""
    signing = await signer(portal)
    async with portal.writing(actor) as tx:
        license = await licenses.get(tx, held.id) if held is not None else await _any_of(tx, request)
        await audit.record(
            tx, "license.offline_deactivate", "license", license.id,
            f"Release receipt for license {license.id} on {license.key}, machine "
            f"{request.hostname or request.fingerprint}, from a request file",
            {"fingerprint": request.fingerprint, "hostname": request.hostname, "was_held": held is not None},
        )
        issued = issued_file(license_facts(license, tx.catalog, tx.now, machine=request.fingerprint,
                                       hostname=request.hostname, kind=KIND_RELEASE), signing)
    return _answer(license, request, issued)


# -- the online check ---------------------------------------------------------------------------------

_COMPARED = (("edition_id", "edition"), ("addons", "add-ons"), ("quantity", "quantity"), ("term", "term"),
             ("trial_ends_on", "trial end"), ("support_ends_on", "support end"), ("term_ends_on", "term end"),
             ("customer", "customer"))


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return "none" if value is None else str(value)


async def check_file(portal: Portal, text: str) -> FileCheck:
    """Whether a file is still what the portal would issue now, with the file it would issue
    (a changed, expiring or expired file is replaced so). Needs no session: a file this portal
    signed is proof enough of the key it carries, which is all online activation asks for."""
    async with portal.store.read() as conn:
        found = {key.kid: key for key in await public_keys(conn)}
        try:
            facts = read_license_file(text, found).facts
        except LicenseFileRefused as refused:
            return FileCheck(verdict=FileVerdict.INVALID, code=refused.code, message=refused.message)
        now = portal.now()
        current = await _now_of(conn, portal.catalog, facts, now)
    what = f"{'Subscription' if facts.kind == KIND_SUBSCRIPTION else 'License'} {facts.object_id} on {facts.key}"
    until = f"until {facts.valid_until:%Y-%m-%d %H:%M} UTC" if facts.valid_until else "without end"
    if current is None:
        return FileCheck(verdict=FileVerdict.DELETED, valid_until=facts.valid_until,
                         message=f"{what} was deleted. The file still verifies offline {until}.")
    renewed = issued_file(current.facts, await signer(portal)).text if current.renewable else None
    changes = [f"{label}: {_shown(getattr(facts, name))} in the file, {_shown(getattr(current.facts, name))} now"
               for name, label in _COMPARED if getattr(facts, name) != getattr(current.facts, name)]
    if changes:
        return FileCheck(verdict=FileVerdict.STALE, changes=changes, valid_until=facts.valid_until, file=renewed,
                         message=f"{what} changed since the file was issued ({'; '.join(changes)})"
                                 + ("; a new file comes with this answer." if renewed else "."))
    if facts.kind == KIND_RELEASE and current.held_by == facts.machine:
        return FileCheck(verdict=FileVerdict.STALE, valid_until=facts.valid_until,
                         message=f"{what} is activated on machine {facts.machine} again since this receipt.")
    if facts.kind != KIND_RELEASE and facts.machine is not None and current.held_by != facts.machine:
        return FileCheck(verdict=FileVerdict.RELEASED, valid_until=facts.valid_until,
                         message=f"{what} is no longer activated on machine {facts.machine}; "
                                 "this machine file no longer counts.")
    if facts.valid_until is not None and now >= facts.valid_until:
        return FileCheck(verdict=FileVerdict.EXPIRED, valid_until=facts.valid_until, file=renewed,
                         message=f"The file expired on {facts.valid_until:%Y-%m-%d %H:%M} UTC"
                                 + ("; a new file comes with this answer." if renewed else "; the license has ended."))
    return FileCheck(verdict=FileVerdict.CURRENT, valid_until=facts.valid_until, file=renewed,
                     message=f"{what} is as the file says; the file is valid {until}.")


@dataclass(frozen=True)
class _Now:
    facts: LicenseFacts  # what the portal would sign now, for the same machine
    held_by: str | None  # the machine that holds the activation
    renewable: bool  # a new file may be issued: a live license, and a machine file's machine holds it


async def _now_of(conn: AsyncConnection, catalog: Catalog, facts: LicenseFacts, now: datetime) -> _Now | None:
    """The file's license as it is now; None when it is gone."""
    if facts.kind == KIND_SUBSCRIPTION:
        row = (await conn.execute(subscriptions.subscription_query().where(
            subscriptions_table.c.id == facts.object_id, subscriptions_table.c.product_id == facts.product_id))).first()
        if row is None or row.key != facts.key:
            return None
        return _Now(subscription_facts(subscriptions.from_row(row), catalog, now), None, renewable=True)
    row = (await conn.execute(licenses.license_query().where(
        licenses_table.c.id == facts.object_id, licenses_table.c.product_id == facts.product_id))).first()
    # Ids may be reused after a deletion on SQLite: the key must match too.
    if row is None or row.key != facts.key:
        return None
    license = licenses.from_row(row, now.date())
    held_by = license.device.fingerprint if license.device else None
    live = license.status in (LicenseStatus.ASSIGNED, LicenseStatus.ACTIVATED)
    on_machine = facts.machine is not None and held_by == facts.machine
    current = license_facts(license, catalog, now, machine=facts.machine if on_machine else None,
                            hostname=license.device.hostname if on_machine and license.device else "")
    return _Now(current, held_by, renewable=live and facts.kind != KIND_RELEASE
                and (facts.machine is None or on_machine))
