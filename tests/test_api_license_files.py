"""License files through the API, on SQLite and PostgreSQL: the public keys, a file for every
kind of license and for a subscription that the published keys verify, rotation, offline
activation that counts as an activation, release receipts, and the online check that says
when a change made a file stale."""

from __future__ import annotations

from datetime import timedelta

import pytest

from seattui.domain.errors import ActivatedElsewhere, NotFound, PermissionDenied, TrialEnded
from seattui.domain.license_file import (
    DeviceFileRequest,
    LicenseFileRefused,
    device_request_text,
    parse_keyring,
    verify_license_file,
)
from seattui.domain.licensing import ActivationRequest, LicenseStatus, LicenseUpgrade, SubscriptionOrder, Term
from seattui.domain.offline_licensing import FileVerdict, NotActivatedHere, RequestFileInvalid
from seattui.portal.services import keys, license_files, subscriptions
from seattui.domain.licensing import NewActivationKey

from harness import PortalHarness
from license_setup import a_license

FINGERPRINT = "air-gapped-0001"


def request_file(key: str, action: str = "activate", fingerprint: str = FINGERPRINT, product: str = "remotedesk") -> str:
    return device_request_text(DeviceFileRequest(action=action, key=key, product_id=product, fingerprint=fingerprint,
                                                 hostname="vault-pc"))


async def keyring(harness: PortalHarness) -> dict:
    return parse_keyring((await harness.client().signing_keys()).text)


async def test_the_public_keys_are_served_without_a_session_and_carry_no_private_half(harness: PortalHarness) -> None:
    published = await harness.client().signing_keys()
    assert [key.kid for key in published.keys] == [published.current]
    assert published.keys[0].retired_at is None
    assert list(parse_keyring(published.text)) == [published.current]
    async with harness.portal.store.read() as conn:
        from seattui.portal.store.tables import signing_keys
        private = (await conn.execute(signing_keys.select())).first().private_key
    assert private not in published.model_dump_json()
    assert (await harness.client().signing_keys()).current == published.current  # created once, on first need


@pytest.mark.parametrize("order", [
    {"term": Term.PERMANENT, "product_id": "mailguard", "edition_id": "advanced", "addons": ("encryption", "archiving"),
     "quantity": 25, "customer_email": "it@customer.example"},
    {"term": Term.TRIAL, "trial_days": 14, "quantity": 3},
    {"term": Term.FLEXIBLE, "product_id": "workspace", "edition_id": None, "quantity": 5},
    {"term": Term.ANNUAL, "product_id": "workspace", "edition_id": None, "quantity": 5},
], ids=["permanent", "trial", "flexible", "annual"])
async def test_every_kind_of_license_has_a_file_the_published_keys_verify(harness: PortalHarness, order: dict) -> None:
    license = await a_license(harness, **order)
    viewer = await harness.login("acme-viewer")  # reading a file is reading the license
    text = await viewer.license_file(license.id)
    facts = verify_license_file(text, await keyring(harness), now=harness.clock.now, product_id=license.product_id)
    assert (facts.object_id, facts.key, facts.term, facts.quantity) == (license.id, license.key, license.term.value,
                                                                      license.quantity)
    assert (facts.edition_id, facts.addons, facts.customer) == (license.edition_id, tuple(sorted(license.addons)),
                                                                license.customer_email)
    assert (facts.trial_ends_on, facts.support_ends_on, facts.term_ends_on) == (
        license.trial_ends_on, license.support_ends_on, license.term_ends_on)
    assert facts.machine is None
    # 30 days, or the license's own end when sooner (a 14-day trial, a flexible month).
    ends = license.trial_ends_on or license.term_ends_on
    expected = harness.clock.now.replace(microsecond=0) + timedelta(days=30)
    if ends is not None and ends + timedelta(days=1) <= expected.date():
        assert facts.valid_until.date() == ends + timedelta(days=1)
    else:
        assert facts.valid_until == expected
    harness.clock.advance(days=31)
    with pytest.raises(LicenseFileRefused) as expired:
        verify_license_file(text, await keyring(harness), now=harness.clock.now)
    assert expired.value.code == "expired"


async def test_a_channel_subscription_has_a_file_too(harness: PortalHarness) -> None:
    async with harness.as_org("Acme") as tx:
        key = (await keys.create(tx, NewActivationKey(name="cloud"))).key
        subscription = await subscriptions.create(tx, SubscriptionOrder(key=key, product_id="connect", channels=7))
    admin = await harness.login("acme-admin")
    facts = verify_license_file(await admin.subscription_file(subscription.id), await keyring(harness),
                                now=harness.clock.now)
    assert (facts.kind, facts.quantity, facts.unit, facts.term_ends_on) == ("subscription", 7, "channels",
                                                                            subscription.period_ends_on)


async def test_another_organizations_license_has_no_file(harness: PortalHarness) -> None:
    license = await a_license(harness, org="Globex")
    with pytest.raises(NotFound):
        await (await harness.login("acme-admin")).license_file(license.id)


async def test_an_ended_trial_gets_no_file(harness: PortalHarness) -> None:
    trial = await a_license(harness, term=Term.TRIAL, trial_days=2, quantity=1)
    harness.clock.advance(days=3)
    with pytest.raises(TrialEnded):
        await (await harness.login("acme-admin")).license_file(trial.id)


async def test_after_a_rotation_new_files_use_the_new_key_and_old_ones_verify_until_they_expire(
        harness: PortalHarness) -> None:
    license = await a_license(harness)
    admin = await harness.login("acme-admin")
    old = await admin.license_file(license.id)
    harness.clock.advance(days=1)
    async with harness.portal.store.write() as conn:
        new_kid = await license_files.rotate(conn, harness.clock.now)
    published = await harness.client().signing_keys()
    assert published.current == new_kid and len(published.keys) == 2 and published.keys[1].retired_at is not None
    ring = parse_keyring(published.text)
    assert verify_license_file(old, ring, now=harness.clock.now).object_id == license.id
    new = await admin.license_file(license.id)
    assert f"Signing key:   {new_kid}" in new
    harness.clock.advance(days=29, hours=12)  # past the old file's 30 days, within the new one's
    with pytest.raises(LicenseFileRefused) as refused:
        verify_license_file(old, ring, now=harness.clock.now)
    assert refused.value.code == "expired"
    assert verify_license_file(new, ring, now=harness.clock.now).object_id == license.id


async def test_offline_activation_counts_as_an_activation_and_answers_a_machine_file(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=1)
    operator = await harness.login("acme-op")
    answer = await operator.offline_activate(request_file(license.key.lower()))
    assert (answer.license_id, answer.fingerprint, answer.hostname) == (license.id, FINGERPRINT, "vault-pc")
    ring = await keyring(harness)
    facts = verify_license_file(answer.file, ring, now=harness.clock.now + timedelta(days=3650), machine=FINGERPRINT)
    assert (facts.machine, facts.valid_until) == (FINGERPRINT, None)  # permanent, offline: does not expire
    with pytest.raises(LicenseFileRefused) as elsewhere:
        verify_license_file(answer.file, ring, now=harness.clock.now, machine="another-machine-02")
    assert elsewhere.value.code == "other_machine"

    shown = await operator.license(license.id)
    assert (shown.status, shown.device.fingerprint, shown.device.hostname) == (LicenseStatus.ACTIVATED, FINGERPRINT,
                                                                              "vault-pc")
    with pytest.raises(ActivatedElsewhere):  # exactly as an online activation: one device at a time
        await harness.client().activate(ActivationRequest(key=license.key, product_id="remotedesk",
                                                          fingerprint="online-machine-1"))
    with pytest.raises(ActivatedElsewhere):
        await operator.offline_activate(request_file(license.key, fingerprint="second-air-gap"))
    again = await operator.offline_activate(request_file(license.key))  # the same machine again: its file again
    assert again.license_id == license.id
    renewed = (await harness.client().check_license_file(answer.file)).file  # the machine renews online
    assert verify_license_file(renewed, ring, now=harness.clock.now, machine=FINGERPRINT).hostname == "vault-pc"
    # A machine file can be fetched again for the machine that holds the activation, and only for it.
    assert "machine file" in await operator.license_file(license.id, machine=FINGERPRINT)
    with pytest.raises(NotActivatedHere, match="offline-activate"):
        await operator.license_file(license.id, machine="second-air-gap")
    actions = [entry.action for entry in (await operator.audit(limit=10)).items if entry.object_id == license.id]
    assert actions.count("license.offline_activate") == 2 and "license.activate" in actions


async def test_offline_deactivation_releases_the_machine_with_a_signed_receipt(harness: PortalHarness) -> None:
    license = await a_license(harness, quantity=1)
    operator = await harness.login("acme-op")
    machine_file = (await operator.offline_activate(request_file(license.key))).file
    receipt = await operator.offline_deactivate(request_file(license.key, action="deactivate"))
    ring = await keyring(harness)
    facts = verify_license_file(receipt.file, ring, now=harness.clock.now, machine=FINGERPRINT, kind="release")
    assert (facts.kind, facts.object_id, facts.machine) == ("release", license.id, FINGERPRINT)
    with pytest.raises(LicenseFileRefused) as wrong_kind:
        verify_license_file(receipt.file, ring, now=harness.clock.now)
    assert wrong_kind.value.code == "wrong_kind"
    assert (await operator.license(license.id)).device is None
    released = await operator.check_license_file(machine_file)
    assert released.verdict is FileVerdict.RELEASED and released.file is None  # no new file for a released machine
    assert (await operator.check_license_file(receipt.file)).verdict is FileVerdict.CURRENT
    # Repeating it is harmless, and another machine can now be activated.
    await operator.offline_deactivate(request_file(license.key, action="deactivate"))
    assert (await operator.offline_activate(request_file(license.key, fingerprint="second-air-gap"))).license_id


async def test_request_files_are_checked_and_roles_and_organizations_respected(harness: PortalHarness) -> None:
    license = await a_license(harness)
    operator = await harness.login("acme-op")
    with pytest.raises(RequestFileInvalid, match="not a seattui activation request"):
        await operator.offline_activate("hello")
    with pytest.raises(RequestFileInvalid, match="to deactivate, not to activate"):
        await operator.offline_activate(request_file(license.key, action="deactivate"))
    with pytest.raises(RequestFileInvalid, match="fingerprint"):
        await operator.offline_activate(request_file(license.key, fingerprint="short"))
    with pytest.raises(PermissionDenied):
        await (await harness.login("acme-viewer")).offline_activate(request_file(license.key))
    other = await a_license(harness, org="Globex")
    with pytest.raises(NotFound):
        await operator.offline_activate(request_file(other.key))
    assert (await operator.license(license.id)).device is None


async def test_a_change_to_the_license_makes_old_files_stale(harness: PortalHarness) -> None:
    license = await a_license(harness)
    admin = await harness.login("acme-admin")
    checker = harness.client()  # the licensed software's online check needs no session
    before = await admin.license_file(license.id)
    assert (await checker.check_license_file(before)).verdict is FileVerdict.CURRENT

    await admin.upgrade_license(license.id, LicenseUpgrade(quantity=11))
    stale = await checker.check_license_file(before)
    assert stale.verdict is FileVerdict.STALE
    assert stale.changes == ["quantity: 10 in the file, 11 now"]
    # The answer carries the new file, so software that can reach the portal now and then renews itself.
    renewed = verify_license_file(stale.file, await keyring(harness), now=harness.clock.now)
    assert (renewed.object_id, renewed.quantity) == (license.id, 11)
    upgraded = await admin.license_file(license.id)
    assert (await checker.check_license_file(upgraded)).verdict is FileVerdict.CURRENT

    await admin.extend_support([license.id], 1)
    stale = await checker.check_license_file(upgraded)
    assert stale.verdict is FileVerdict.STALE and stale.changes[0].startswith("support end: 2027-03-02 in the file")
    extended = await admin.license_file(license.id)

    await admin.delete_licenses([license.id])
    deleted = await checker.check_license_file(extended)
    assert deleted.verdict is FileVerdict.DELETED and "still verifies offline until" in deleted.message
    assert deleted.file is None
    # As the README says: a deleted license's file still verifies until it expires.
    assert verify_license_file(extended, await keyring(harness), now=harness.clock.now).object_id == license.id

    tampered = extended.replace("Quantity:      11 users", "Quantity:      99 users")
    invalid = await checker.check_license_file(tampered)
    assert (invalid.verdict, invalid.code) == (FileVerdict.INVALID, "bad_signature")


async def test_the_check_renews_an_expired_file_of_a_live_license_and_not_of_an_ended_trial(
        harness: PortalHarness) -> None:
    permanent = await a_license(harness)
    trial = await a_license(harness, term=Term.TRIAL, trial_days=5, quantity=1)
    admin = await harness.login("acme-admin")
    old, trial_file = await admin.license_file(permanent.id), await admin.license_file(trial.id)
    harness.clock.advance(days=31)
    checker = harness.client()
    expired = await checker.check_license_file(old)
    assert expired.verdict is FileVerdict.EXPIRED and "a new file comes with this answer" in expired.message
    assert verify_license_file(expired.file, await keyring(harness), now=harness.clock.now).object_id == permanent.id
    ended = await checker.check_license_file(trial_file)
    assert ended.verdict is FileVerdict.EXPIRED and ended.file is None and "the license has ended" in ended.message
