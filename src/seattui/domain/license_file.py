"""Signed license files: written by the portal, verified by the licensed software offline.

This module is whole by itself: it imports the standard library and `cryptography` only, so a
vendor can copy it into their own software. `verify_license_file` is a pure function: the
file's text, the public keys and the time go in; the signed facts come out, or
`LicenseFileRefused` says precisely what is wrong.

A file is plain text, safe to paste in mail:

    -----BEGIN SEATTUI LICENSE FILE-----
    Kind:          license
    Key:           ABCD-EFGH-JKLM-NPQR
    ...                                 the facts, for people to read
    Signing key:   3f9a2c71d0e4b8a5

    -----SIGNED FACTS-----
    eyJmb3JtYXQiOiJzZWF0dHVpLWxp...     the same facts as canonical JSON, in base64 (76 a line)
    -----SIGNATURE ed25519 3f9a2c71d0e4b8a5-----
    q1w2e3...                           Ed25519 over the format, the key id and those bytes
    -----END SEATTUI LICENSE FILE-----

The readable part is checked too: it must be exactly what the signed facts render to, so no
edited line can mislead a person either. Text around the block (a mail's greeting, its
signature) and CRLF line ends are ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT = "seattui-license-file/1"
BEGIN = "-----BEGIN SEATTUI LICENSE FILE-----"
END = "-----END SEATTUI LICENSE FILE-----"
FACTS_MARK = "-----SIGNED FACTS-----"
_SIGNATURE_MARK = re.compile(r"^-----SIGNATURE ed25519 ([0-9a-f]{16})-----$")
REQUEST_BEGIN = "-----BEGIN SEATTUI ACTIVATION REQUEST-----"
REQUEST_END = "-----END SEATTUI ACTIVATION REQUEST-----"
ALGORITHM = "ed25519"
DEFAULT_VALIDITY = timedelta(days=30)

# What a file is: a license (or subscription) file, optionally bound to one machine, or the
# receipt that a machine released its activation.
KIND_LICENSE = "license"
KIND_SUBSCRIPTION = "subscription"
KIND_RELEASE = "release"
KINDS = (KIND_LICENSE, KIND_SUBSCRIPTION, KIND_RELEASE)


class LicenseFileRefused(Exception):
    """Why a file cannot be trusted. `code` is stable for programs; `message` is for people.

    Codes: malformed, unknown_key, bad_signature, retired_key, expired, other_machine,
    wrong_product, wrong_kind."""

    def __init__(self, code: str, message: str, facts: LicenseFacts | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.facts = facts


@dataclass(frozen=True)
class LicenseFacts:
    """What a file says. `object_id` is the license's (or subscription's) id in the portal."""

    kind: str
    object_id: int
    key: str
    product_id: str
    product_name: str
    edition_id: str | None
    addons: tuple[str, ...]
    quantity: int
    unit: str
    term: str
    trial_ends_on: date | None
    support_ends_on: date | None
    term_ends_on: date | None
    customer: str | None
    issued_at: datetime
    valid_until: datetime | None  # None: does not expire (a permanent license on an offline machine)
    machine: str | None = None  # the fingerprint of the one machine the file is for; None: any
    hostname: str = ""


@dataclass(frozen=True)
class PublicSigningKey:
    """A portal's public key. A retired key still verifies the files it signed before it was
    retired, until they expire; a file it claims to have signed later is refused."""

    kid: str
    public_key: bytes
    created_at: datetime
    retired_at: datetime | None = None
    _loaded: Ed25519PublicKey | None = field(default=None, repr=False, compare=False)

    def loaded(self) -> Ed25519PublicKey:
        return self._loaded or Ed25519PublicKey.from_public_bytes(self.public_key)


@dataclass(frozen=True)
class SignedFile:
    facts: LicenseFacts
    kid: str


@dataclass(frozen=True)
class DeviceFileRequest:
    """What the licensed software writes for a machine that cannot reach the portal."""

    action: str  # "activate" or "deactivate"
    key: str
    product_id: str
    fingerprint: str
    hostname: str = ""


# -- keys ---------------------------------------------------------------------------------------

def kid_of(public_key: bytes) -> str:
    """A key's id: derived from the public key, so it cannot name another key by mistake."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key(kid: str, raw: bytes, created_at: datetime, retired_at: datetime | None = None) -> PublicSigningKey:
    return PublicSigningKey(kid=kid, public_key=raw, created_at=created_at, retired_at=retired_at,
                            _loaded=Ed25519PublicKey.from_public_bytes(raw))


def keyring_text(keys: list[PublicSigningKey]) -> str:
    """The public keys as a text file (what `seattui signing-key public` prints)."""
    lines = ["# seattui license-file signing keys: key id, algorithm, public key (raw, base64), "
             "created, retired"]
    for key in keys:
        line = f"{key.kid} {ALGORITHM} {base64.b64encode(key.public_key).decode()} created={_stamp(key.created_at)}"
        if key.retired_at is not None:
            line += f" retired={_stamp(key.retired_at)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def parse_keyring(text: str) -> dict[str, PublicSigningKey]:
    """Read the public keys file; a damaged line is refused, naming it."""
    keys: dict[str, PublicSigningKey] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        try:
            kid, algorithm, encoded, *stamps = words
            options = dict(stamp.split("=", 1) for stamp in stamps)
            raw = base64.b64decode(encoded, validate=True)
            if algorithm != ALGORITHM or len(raw) != 32 or kid_of(raw) != kid:
                raise ValueError("not an Ed25519 key of this id")
            keys[kid] = public_key(kid, raw, _parse_stamp(options["created"]),
                                   _parse_stamp(options["retired"]) if "retired" in options else None)
        except (ValueError, KeyError, binascii.Error):
            raise LicenseFileRefused(
                "malformed", f"Line {number} of the public keys is not a key (kid ed25519 BASE64 created=...)."
            ) from None
    return keys


# -- writing ------------------------------------------------------------------------------------

def sign_license_file(facts: LicenseFacts, private_key: Ed25519PrivateKey, kid: str) -> str:
    """The file's text. The same facts and key give the same bytes (Ed25519 is deterministic)."""
    dates = _dates(facts)
    payload = _payload(facts, dates)
    signature = private_key.sign(_message(kid, payload))
    return _text(_header(facts, dates, kid), kid, payload, signature)


def _dates(facts: LicenseFacts) -> tuple[str | None, ...]:
    """Trial end, support end, term end, issued at, valid until: as text, for the JSON and the header."""
    trial, support, term_end, valid = facts.trial_ends_on, facts.support_ends_on, facts.term_ends_on, facts.valid_until
    return (trial.isoformat() if trial else None, support.isoformat() if support else None,
            term_end.isoformat() if term_end else None, _stamp(facts.issued_at), _stamp(valid) if valid else None)


_quoted = json.encoder.encode_basestring_ascii  # a JSON string, escaped to ASCII
# Keys in a fixed order, no spaces, ASCII only: one byte string for one set of facts. Written
# with a template rather than json.dumps: the same JSON in a third of the time.
_PAYLOAD = ('{"format":%s,"kind":%s,"id":%d,"key":%s,"product_id":%s,"product_name":%s,"edition_id":%s,'
            '"addons":[%s],"quantity":%d,"unit":%s,"term":%s,"trial_ends_on":%s,"support_ends_on":%s,'
            '"term_ends_on":%s,"issued_at":%s,"valid_until":%s,"customer":%s,"machine":%s,"hostname":%s}')


def _nullable(value: str | None) -> str:
    return "null" if value is None else _quoted(value)


def _payload(facts: LicenseFacts, dates: tuple[str | None, ...]) -> bytes:
    trial, support, term_end, issued, valid = dates
    return (_PAYLOAD % (
        _quoted(FORMAT), _quoted(facts.kind), facts.object_id, _quoted(facts.key), _quoted(facts.product_id),
        _quoted(facts.product_name), _nullable(facts.edition_id), ",".join(map(_quoted, facts.addons)),
        facts.quantity, _quoted(facts.unit), _quoted(facts.term), _nullable(trial), _nullable(support),
        _nullable(term_end), _quoted(issued or ""), _nullable(valid), _nullable(facts.customer),
        _nullable(facts.machine), _quoted(facts.hostname),
    )).encode()


def _message(kid: str, payload: bytes) -> bytes:
    return _SIGNED_PREFIX + kid.encode() + b"\n" + payload


_SIGNED_PREFIX = FORMAT.encode() + b"\n"


def _text(header: str, kid: str, payload: bytes, signature: bytes) -> str:
    """The whole block, each line ended by a newline; base64 in lines of 76 (MIME's width)."""
    return "".join((BEGIN, "\n", header, "\n\n", FACTS_MARK, "\n", _wrapped(payload), _SIGNATURE_LINE % kid,
                    _wrapped(signature), END, "\n"))


_SIGNATURE_LINE = f"-----SIGNATURE {ALGORITHM} %s-----\n"


def _wrapped(data: bytes) -> str:
    text = binascii.b2a_base64(data, newline=False).decode()
    return "\n".join([text[start:start + 76] for start in range(0, len(text), 76)]) + "\n"


_LABELS = {label: f"{label + ':':<15}" for label in (
    "Kind", "License", "Subscription", "Key", "Product", "Edition", "Add-ons", "Quantity", "Term", "Trial ends",
    "Support ends", "Term ends", "Customer", "Machine", "Hostname", "Issued at", "Valid until", "Signing key",
    "Action", "Fingerprint")}
_HEADER = "\n".join(["%s" * 2 if label == "License" else _LABELS[label] + "%s" for label in (
    "Kind", "License", "Key", "Product", "Edition", "Add-ons", "Quantity", "Term", "Trial ends", "Support ends",
    "Term ends", "Customer", "Machine", "Issued at", "Valid until", "Signing key")])


def header_lines(facts: LicenseFacts, kid: str) -> list[str]:
    """The facts for people to read; what the verifier expects above the signed block."""
    return _header(facts, _dates(facts), kid).split("\n")


def _header(facts: LicenseFacts, dates: tuple[str | None, ...], kid: str) -> str:
    trial, support, term_end, issued, valid = dates
    if facts.kind == KIND_RELEASE:
        kind = "release receipt (the machine below no longer holds the license)"
    elif facts.machine:
        kind = f"{facts.kind}, machine file"
    else:
        kind = facts.kind
    machine = "any"
    if facts.machine:
        machine = f"{facts.machine} ({facts.hostname})" if facts.hostname else facts.machine
    free = (facts.key, f"{facts.product_name} ({facts.product_id})", facts.edition_id or "none",
            ", ".join(facts.addons) or "none", f"{facts.quantity} {facts.unit}", facts.term, facts.customer or "none",
            machine)
    if not "".join(free).isprintable():
        free = tuple(map(_printable, free))
    key, product, edition, addons, quantity, term, customer, machine = free
    return _HEADER % (
        _printable(kind), _LABELS["Subscription" if facts.kind == KIND_SUBSCRIPTION else "License"],
        facts.object_id, key, product, edition, addons, quantity, term, trial or "none", support or "none",
        term_end or "none", customer, machine, issued, valid or "does not expire", kid,
    )


def _printable(value: str) -> str:
    # A line break inside a value would break the layout; the signed facts keep the original.
    return value if value.isprintable() else "".join(c if c.isprintable() else "?" for c in value)


# -- reading ------------------------------------------------------------------------------------

def read_license_file(text: str, keys: Mapping[str, PublicSigningKey]) -> SignedFile:
    """The signed facts of an authentic, unaltered file; nothing about time or machine yet."""
    lines = _block_of(text, BEGIN, END, "license file")
    try:
        blank = lines.index("")
        facts_at = lines.index(FACTS_MARK, blank)
        signature_at = next(i for i in range(facts_at, len(lines)) if lines[i].startswith("-----SIGNATURE")
                            and _SIGNATURE_MARK.match(lines[i]))
    except (ValueError, StopIteration):
        raise LicenseFileRefused("malformed", "The license file's signed block is missing or cut short; "
                                              "ask for the file again, and copy it whole.") from None
    kid = _SIGNATURE_MARK.match(lines[signature_at]).group(1)  # type: ignore[union-attr]
    key = keys.get(kid)
    if key is None:
        raise LicenseFileRefused(
            "unknown_key", f"The file is signed with key {kid}, which is not among the portal's public keys "
                           f"({', '.join(sorted(keys)) or 'none given'}); get the current ones with "
                           "`seattui signing-key public`.")
    payload = _unwrapped(lines[facts_at + 1:signature_at])
    signature = _unwrapped(lines[signature_at + 1:-1])
    try:
        key.loaded().verify(signature, _message(kid, payload))
    except InvalidSignature:
        raise LicenseFileRefused("bad_signature", "Bad signature: the file was altered or damaged after the "
                                                  "portal signed it; ask for a new file.") from None
    facts = _facts(payload)
    expected = _text(_header(facts, _dates(facts), kid), kid, payload, signature)
    if "\n".join(lines) + "\n" != expected:
        line, wrong, right = next((number, got, want) for number, (got, want)
                                  in enumerate(zip(lines, expected.split("\n")), 1) if got != want)
        raise LicenseFileRefused("bad_signature", f"Bad signature: line {line} of the file was changed after "
                                                  f"signing (it reads {wrong!r}; the signed facts say {right!r}).")
    return SignedFile(facts=facts, kid=kid)


def verify_license_file(
    text: str,
    keys: Mapping[str, PublicSigningKey],
    *,
    now: datetime,
    machine: str | None = None,
    product_id: str | None = None,
    kind: str | None = None,
) -> LicenseFacts:
    """The facts of a file this software may trust now, on this machine (`machine`: its
    fingerprint), for this product; or LicenseFileRefused with what is wrong.

    `kind`: "release" to verify a release receipt; otherwise a license or subscription file."""
    signed = read_license_file(text, keys)
    facts = signed.facts
    wanted = (kind,) if kind else (KIND_LICENSE, KIND_SUBSCRIPTION)
    if facts.kind not in wanted:
        raise LicenseFileRefused("wrong_kind", f"This is a {facts.kind} file, not a {' or '.join(wanted)} file.", facts)
    key = keys[signed.kid]
    if key.retired_at is not None and facts.issued_at > key.retired_at:
        raise LicenseFileRefused(
            "retired_key", f"The file says it was signed on {_stamp(facts.issued_at)} by key {signed.kid}, which "
                           f"was retired on {_stamp(key.retired_at)}; ask for a new file.", facts)
    if facts.valid_until is not None and now >= facts.valid_until:
        raise LicenseFileRefused(
            "expired", f"The file expired on {_stamp(facts.valid_until)}; ask for a new one "
                       "(`seattui license file KEY --product ID`).", facts)
    if product_id is not None and facts.product_id != product_id:
        raise LicenseFileRefused("wrong_product", f"The file licenses {facts.product_id}, not {product_id}.", facts)
    if facts.machine is not None and machine is not None and facts.machine != machine:
        raise LicenseFileRefused(
            "other_machine", f"The file is for another machine ({facts.machine}), not this one ({machine}).", facts)
    return facts


def _block_of(text: str, begin: str, end: str, what: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    try:
        start = lines.index(begin)
        stop = lines.index(end, start)
    except ValueError:
        raise LicenseFileRefused(
            "malformed", f"This is not a seattui {what}: it has no line {begin if begin not in lines else end}."
        ) from None
    return lines[start:stop + 1]


def _unwrapped(lines: list[str]) -> bytes:
    try:
        return base64.b64decode("".join(lines), validate=True)
    except (binascii.Error, ValueError):
        # Damaged base64 is a damaged signature: the block check below names the line.
        return b""


def _facts(payload: bytes) -> LicenseFacts:
    try:
        data = json.loads(payload)
        if data.get("format") != FORMAT or data.get("kind") not in KINDS:
            raise ValueError("another format")
        return LicenseFacts(
            kind=data["kind"], object_id=int(data["id"]), key=str(data["key"]), product_id=str(data["product_id"]),
            product_name=str(data["product_name"]), edition_id=data["edition_id"],
            addons=tuple(str(addon) for addon in data["addons"]), quantity=int(data["quantity"]),
            unit=str(data["unit"]), term=str(data["term"]), trial_ends_on=_parse_day(data["trial_ends_on"]),
            support_ends_on=_parse_day(data["support_ends_on"]), term_ends_on=_parse_day(data["term_ends_on"]),
            customer=data["customer"], issued_at=_parse_stamp(data["issued_at"]),
            valid_until=_parse_stamp(data["valid_until"]) if data["valid_until"] else None,
            machine=data["machine"], hostname=str(data.get("hostname") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LicenseFileRefused("malformed", f"The file's signed facts are not in the format {FORMAT}; "
                                              "a newer portal may have written it.") from None


# -- requests from machines that cannot reach the portal ---------------------------------------

def device_request_text(request: DeviceFileRequest) -> str:
    """What the licensed software writes (and a person carries to the portal's administrator)."""
    rows = [("Action", request.action), ("Key", request.key), ("Product", request.product_id),
            ("Fingerprint", request.fingerprint), ("Hostname", request.hostname)]
    return "\n".join([REQUEST_BEGIN, *(_LABELS[label] + _printable(value) for label, value in rows),
                      REQUEST_END]) + "\n"


def parse_device_request(text: str) -> DeviceFileRequest:
    lines = _block_of(text, REQUEST_BEGIN, REQUEST_END, "activation request")
    fields: dict[str, str] = {}
    for line in lines[1:-1]:
        label, colon, value = line.partition(":")
        if colon:
            fields[label.strip().lower()] = value.strip()
    missing = [name for name in ("action", "key", "product", "fingerprint") if not fields.get(name)]
    if missing or fields["action"] not in ("activate", "deactivate"):
        raise LicenseFileRefused(
            "malformed", "The activation request lacks " + (", ".join(missing) if missing else
                                                           "an action of activate or deactivate") + ".")
    return DeviceFileRequest(action=fields["action"], key=fields["key"], product_id=fields["product"],
                             fingerprint=fields["fingerprint"], hostname=fields.get("hostname", ""))


# -- time and dates, always UTC to the second ----------------------------------------------------

def _stamp(moment: datetime) -> str:
    if moment.tzinfo is not UTC or moment.microsecond:
        moment = moment.astimezone(UTC).replace(microsecond=0)
    return moment.isoformat()[:-6] + "Z"


def _parse_stamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text} has no time zone")
    return moment.astimezone(UTC)


def _parse_day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def at_second(moment: datetime) -> datetime:
    """The precision a file keeps: issue with this so the facts read back equal."""
    return moment.astimezone(UTC).replace(microsecond=0)


def describe(facts: LicenseFacts, kid: str = "") -> str:
    """The facts as the readable header shows them (for `seattui license verify`)."""
    return "\n".join(line for line in header_lines(facts, kid) if kid or not line.startswith("Signing key"))


__all__ = [
    "DEFAULT_VALIDITY", "DeviceFileRequest", "LicenseFacts", "LicenseFileRefused", "PublicSigningKey",
    "SignedFile", "at_second", "describe", "device_request_text", "keyring_text", "kid_of", "parse_device_request",
    "parse_keyring", "public_bytes", "public_key", "read_license_file", "sign_license_file",
    "verify_license_file",
]
