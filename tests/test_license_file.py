"""The license-file verifier, a pure function: round trips for every kind of file, each refusal
with its own reason, stable bytes, and a property test over license contents."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from seattui.domain import license_file
from seattui.domain.license_file import (
    BEGIN,
    END,
    DeviceFileRequest,
    LicenseFacts,
    LicenseFileRefused,
    device_request_text,
    keyring_text,
    kid_of,
    parse_device_request,
    parse_keyring,
    public_bytes,
    public_key,
    sign_license_file,
    verify_license_file,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# Fixed keys: the stable-output test compares whole files.
PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KID = kid_of(public_bytes(PRIVATE))
KEYS = {KID: public_key(KID, public_bytes(PRIVATE), NOW - timedelta(days=100))}

BASE = LicenseFacts(
    kind="license", object_id=42, key="ABCD-EFGH-JKLM-NPQR", product_id="remotedesk", product_name="RemoteDesk",
    edition_id="standard", addons=(), quantity=10, unit="users", term="permanent", trial_ends_on=None,
    support_ends_on=date(2027, 3, 2), term_ends_on=None, customer="it@customer.example", issued_at=NOW,
    valid_until=NOW + timedelta(days=30),
)
KINDS = {
    "permanent": BASE,
    "permanent with add-ons": replace(BASE, product_id="mailguard", product_name="MailGuard", edition_id="advanced",
                                      addons=("archiving", "encryption"), quantity=250, unit="mailboxes"),
    "trial": replace(BASE, term="trial", quantity=1, unit="user", trial_ends_on=date(2026, 3, 16),
                     support_ends_on=None, customer=None, valid_until=datetime(2026, 3, 17, tzinfo=UTC)),
    "flexible seats": replace(BASE, product_id="workspace", product_name="Workspace", edition_id=None, term="flexible",
                              unit="seats", support_ends_on=None, term_ends_on=date(2026, 4, 1)),
    "annual seats": replace(BASE, product_id="workspace", product_name="Workspace", edition_id=None, term="annual",
                            unit="seats", support_ends_on=None, term_ends_on=date(2027, 3, 2)),
    "channel subscription": replace(BASE, kind="subscription", product_id="connect", product_name="Connect Cloud",
                                    edition_id=None, quantity=7, unit="channels", term="monthly",
                                    support_ends_on=None, term_ends_on=date(2026, 4, 2)),
    "machine file": replace(BASE, machine="9f2c41d7e0b5a8c3", hostname="reception-pc", valid_until=None),
}


def refusal(text: str, keys: dict = KEYS, **options: object) -> LicenseFileRefused:
    with pytest.raises(LicenseFileRefused) as refused:
        verify_license_file(text, keys, **({"now": NOW} | options))  # type: ignore[arg-type]
    return refused.value


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_file_reads_back_as_signed(kind: str) -> None:
    facts = KINDS[kind]
    text = sign_license_file(facts, PRIVATE, KID)
    assert verify_license_file(text, KEYS, now=NOW, machine=facts.machine, product_id=facts.product_id) == facts
    assert text.isascii() and max(len(line) for line in text.splitlines()) <= 76  # safe in mail


def test_a_release_receipt_verifies_only_as_a_receipt() -> None:
    receipt = replace(BASE, kind="release", machine="9f2c41d7e0b5a8c3", valid_until=None)
    text = sign_license_file(receipt, PRIVATE, KID)
    assert verify_license_file(text, KEYS, now=NOW, machine="9f2c41d7e0b5a8c3", kind="release") == receipt
    assert refusal(text).code == "wrong_kind"


def test_the_header_shows_the_facts_a_person_needs() -> None:
    text = sign_license_file(KINDS["machine file"], PRIVATE, KID)
    for line in ("Key:           ABCD-EFGH-JKLM-NPQR", "Product:       RemoteDesk (remotedesk)",
                 "Quantity:      10 users", "Support ends:  2027-03-02", "Machine:       9f2c41d7e0b5a8c3 (reception-pc)",
                 "Valid until:   does not expire", f"Signing key:   {KID}", "Kind:          license, machine file"):
        assert line in text.splitlines()


def test_the_same_facts_give_the_same_bytes() -> None:
    assert sign_license_file(BASE, PRIVATE, KID) == sign_license_file(replace(BASE), PRIVATE, KID)
    assert sign_license_file(BASE, PRIVATE, KID) != sign_license_file(replace(BASE, quantity=11), PRIVATE, KID)


def test_a_flipped_byte_anywhere_in_the_file_is_refused() -> None:
    text = sign_license_file(KINDS["permanent with add-ons"], PRIVATE, KID)
    data = text.encode()
    block_end = data.index(END.encode()) + len(END)
    markers = {BEGIN, END, license_file.FACTS_MARK, f"-----SIGNATURE ed25519 {KID}-----", ""}
    line_of = {}
    offset = 0
    for line in text.split("\n"):
        for position in range(offset, offset + len(line) + 1):
            line_of[position] = line
        offset += len(line) + 1
    codes: dict[str, int] = {}
    for position in range(block_end):  # the block; text after its END line is a mail's, ignored
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        try:
            damaged = flipped.decode()
        except UnicodeDecodeError:
            continue  # not text any more: no program would read it as a file
        code = refusal(damaged).code
        codes[code] = codes.get(code, 0) + 1
        line = line_of[position]
        if line in markers or data[position] == ord("\n"):
            assert code in ("malformed", "unknown_key", "bad_signature"), (position, line)
        else:
            assert code == "bad_signature", (position, line, code)
    assert codes["bad_signature"] > 0.8 * block_end  # every byte was tried; the markers are the rest


def test_a_file_signed_by_another_key_is_refused_as_a_bad_signature() -> None:
    forged = sign_license_file(BASE, OTHER, KID)  # claims the portal's key id
    assert refusal(forged).code == "bad_signature"


def test_a_file_signed_by_a_key_the_software_does_not_know_is_refused_naming_it() -> None:
    other_kid = kid_of(public_bytes(OTHER))
    refused = refusal(sign_license_file(BASE, OTHER, other_kid))
    assert refused.code == "unknown_key" and other_kid in refused.message and KID in refused.message


def test_an_expired_file_is_refused_with_its_date() -> None:
    text = sign_license_file(BASE, PRIVATE, KID)
    assert verify_license_file(text, KEYS, now=NOW + timedelta(days=30, seconds=-1)) == BASE
    refused = refusal(text, now=NOW + timedelta(days=30))
    assert refused.code == "expired" and "expired on 2026-04-01T09:30:00Z" in refused.message
    assert refused.facts == BASE


def test_a_machine_file_is_refused_on_another_machine_and_for_another_product() -> None:
    text = sign_license_file(KINDS["machine file"], PRIVATE, KID)
    refused = refusal(text, machine="0000111122223333")
    assert refused.code == "other_machine" and "9f2c41d7e0b5a8c3" in refused.message
    assert refusal(text, product_id="mailguard").code == "wrong_product"
    # A file bound to no machine runs on any.
    assert verify_license_file(sign_license_file(BASE, PRIVATE, KID), KEYS, now=NOW, machine="0000111122223333")


def test_a_rotated_out_key_verifies_its_files_until_they_expire_and_nothing_signed_after() -> None:
    retired = {KID: public_key(KID, public_bytes(PRIVATE), NOW - timedelta(days=100), retired_at=NOW + timedelta(days=1))}
    text = sign_license_file(BASE, PRIVATE, KID)
    assert verify_license_file(text, retired, now=NOW + timedelta(days=10)) == BASE
    assert refusal(text, retired, now=NOW + timedelta(days=31)).code == "expired"
    later = sign_license_file(replace(BASE, issued_at=NOW + timedelta(days=2)), PRIVATE, KID)
    assert refusal(later, retired).code == "retired_key"


def test_a_file_pasted_in_mail_still_verifies() -> None:
    text = sign_license_file(BASE, PRIVATE, KID)
    mail = "Hello,\r\n\r\nyour license:\r\n\r\n" + text.replace("\n", "\r\n") + "\r\nBest regards,\r\nSales\r\n"
    assert verify_license_file(mail, KEYS, now=NOW) == BASE
    assert refusal("Hello, no file here").code == "malformed"
    assert refusal(text.split("-----SIGNED FACTS-----")[0] + END).code == "malformed"


def test_the_public_keys_file_round_trips_and_a_damaged_line_is_named() -> None:
    keys = [public_key(KID, public_bytes(PRIVATE), NOW, retired_at=NOW + timedelta(days=5)),
            public_key(kid_of(public_bytes(OTHER)), public_bytes(OTHER), NOW + timedelta(days=5))]
    read = parse_keyring(keyring_text(keys))
    assert [(k.kid, k.public_key, k.created_at, k.retired_at) for k in read.values()] == [
        (k.kid, k.public_key, k.created_at, k.retired_at) for k in keys]
    damaged = keyring_text(keys).replace(KID + " ", "0000000000000000 ")
    with pytest.raises(LicenseFileRefused, match="Line 2"):
        parse_keyring(damaged)


def test_request_files_round_trip() -> None:
    request = DeviceFileRequest(action="activate", key="ABCD-EFGH-JKLM-NPQR", product_id="remotedesk",
                                fingerprint="9f2c41d7e0b5a8c3", hostname="reception-pc")
    assert parse_device_request("Please activate:\n" + device_request_text(request)) == request
    with pytest.raises(LicenseFileRefused, match="lacks fingerprint"):
        parse_device_request(device_request_text(replace(request, fingerprint="")))


def test_the_verifier_can_be_copied_out_on_its_own() -> None:
    """It imports the standard library and cryptography only: vendors vendor the one file."""
    source = Path(license_file.__file__).read_text(encoding="utf-8")
    imported = {node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert all(name.split(".")[0] in ("__future__", "base64", "binascii", "hashlib", "json", "re", "collections",
                                      "dataclasses", "datetime", "cryptography") for name in imported), imported


printable = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20)
days = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2100, 1, 1)))
moments = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=0))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["license", "subscription", "release"]), st.integers(1, 2**62), ids, printable,
    st.one_of(st.none(), ids), st.lists(ids, max_size=5).map(lambda addons: tuple(sorted(set(addons)))),
    st.integers(1, 100_000), st.sampled_from(["trial", "permanent", "flexible", "annual", "monthly"]), days, days,
    days, st.one_of(st.none(), printable), moments, st.one_of(st.none(), st.integers(1, 3650)),
    st.one_of(st.none(), st.text("abcdef0123456789:._-", min_size=8, max_size=128)), printable,
)
def test_any_license_contents_round_trip_and_any_changed_fact_is_refused(
    kind: str, object_id: int, product_id: str, product_name: str, edition_id: str | None, addons: tuple[str, ...],
    quantity: int, term: str, trial: date | None, support: date | None, term_end: date | None, customer: str | None,
    issued: datetime, valid_days: int | None, machine: str | None, hostname: str,
) -> None:
    facts = LicenseFacts(
        kind=kind, object_id=object_id, key="ABCD-EFGH-JKLM-NPQR", product_id=product_id, product_name=product_name,
        edition_id=edition_id, addons=addons, quantity=quantity, unit="users", term=term, trial_ends_on=trial,
        support_ends_on=support, term_ends_on=term_end, customer=customer, issued_at=issued,
        valid_until=issued + timedelta(days=valid_days) if valid_days else None, machine=machine,
        hostname=hostname if machine else "",
    )
    text = sign_license_file(facts, PRIVATE, KID)
    read = license_file.read_license_file(text, KEYS)
    assert read.facts == facts and read.kid == KID
    assert sign_license_file(read.facts, PRIVATE, KID) == text
    # The same signature over other facts never verifies.
    payload = text.split("-----SIGNED FACTS-----\n")[1].split("\n-----SIGNATURE")[0]
    other = sign_license_file(replace(facts, quantity=quantity + 1), PRIVATE, KID)
    other_payload = other.split("-----SIGNED FACTS-----\n")[1].split("\n-----SIGNATURE")[0]
    with pytest.raises(LicenseFileRefused) as refused:
        license_file.read_license_file(text.replace(payload, other_payload), KEYS)
    assert refused.value.code == "bad_signature"
