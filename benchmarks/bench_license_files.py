"""License files signed and verified per second (domain.license_file: the facts rendered, the
JSON, the readable header and the checks of the whole text) against the raw `cryptography`
Ed25519 sign and verify of the same bytes. Short rounds of each are interleaved, so both see the
same machine load: the rates are the medians of the rounds, and each ratio is the median of a
round's rate against the raw rate measured next to it (a shared machine's speed drifts within
seconds). Target: at least 0.5x raw for both."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness import figure, median

from seattui.domain import license_file
from seattui.domain.license_file import LicenseFacts, kid_of, public_bytes, public_key, sign_license_file, verify_license_file

ROUNDS, FILES = 41, 500
SMOKE_ROUNDS, SMOKE_FILES = 3, 50
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _facts(count: int) -> list[LicenseFacts]:
    base = LicenseFacts(
        kind="license", object_id=1, key="ABCD-EFGH-JKLM-NPQR", product_id="mailguard", product_name="MailGuard",
        edition_id="advanced", addons=("archiving", "encryption"), quantity=1, unit="mailboxes", term="permanent",
        trial_ends_on=None, support_ends_on=date(2027, 3, 2), term_ends_on=None, customer="it@customer.example",
        issued_at=NOW, valid_until=NOW + timedelta(days=30),
    )
    return [replace(base, object_id=number, quantity=number % 500 + 1) for number in range(1, count + 1)]


def _rate(work: Callable[[], None], count: int) -> float:
    start = time.perf_counter()
    work()
    return count / (time.perf_counter() - start)


def run(smoke: bool = False) -> Iterator[dict[str, Any]]:
    rounds, files = (SMOKE_ROUNDS, SMOKE_FILES) if smoke else (ROUNDS, FILES)
    private = Ed25519PrivateKey.generate()
    raw = public_bytes(private)
    kid = kid_of(raw)
    keys = {kid: public_key(kid, raw, NOW)}
    facts = _facts(files)
    texts = [sign_license_file(one, private, kid) for one in facts]
    # What the raw calls sign and verify: the very bytes a file's signature covers.
    messages = [license_file._message(kid, license_file._payload(one, license_file._dates(one))) for one in facts]
    signatures = [private.sign(message) for message in messages]
    loaded = keys[kid].loaded()
    checked = NOW + timedelta(days=1)

    def sign_files() -> None:
        for one in facts:
            sign_license_file(one, private, kid)

    def sign_raw() -> None:
        for message in messages:
            private.sign(message)

    def verify_files() -> None:
        for text in texts:
            verify_license_file(text, keys, now=checked)

    def verify_raw() -> None:
        for signature, message in zip(signatures, messages, strict=True):
            loaded.verify(signature, message)

    signed, signed_raw, verified, verified_raw = [], [], [], []
    for _ in range(rounds):
        signed.append(_rate(sign_files, files))
        signed_raw.append(_rate(sign_raw, files))
        verified.append(_rate(verify_files, files))
        verified_raw.append(_rate(verify_raw, files))
    yield _compared("files_signed_per_s", signed, signed_raw)
    yield _compared("files_verified_per_s", verified, verified_raw)


def _compared(metric: str, ours: list[float], raw: list[float]) -> dict[str, Any]:
    result = figure(metric, median(ours), "files/s", baseline=median(raw), target=0.5)
    result["ratio"] = round(median([mine / theirs for mine, theirs in zip(ours, raw, strict=True)]), 3)
    return result


if __name__ == "__main__":
    import json
    import sys

    for line in run(smoke="--smoke" in sys.argv[1:]):
        print(json.dumps({"benchmark": "license_files", **line}))
