"""The audit log's hash chain: each entry holds the hash of the one before it in its
organization, so an entry edited or deleted in the store breaks a link that
`seattui audit verify` reports.

One chain per organization, not one for the portal: a global chain would make every
organization's changes wait for one another on a single row (across every portal instance),
while per organization they wait only for changes of the same organization, which mostly
lock its row already; and an organization's log stays checkable on its own.

An entry's hash covers a canonical serialization of every column of its row but its id and
its own hash, with NULL columns left out: a nullable column added later (NULL in the rows
already written) leaves their hashes as they were, while setting it in an old row is found.
A new column with a non-NULL default needs its migration to compute the chain again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of an organization's first entry
UNHASHED = frozenset({"id", "entry_hash"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def canonical(row: Mapping[str, Any]) -> bytes:
    facts = {name: _plain(value) for name, value in row.items() if name not in UNHASHED and value is not None}
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(row: Mapping[str, Any]) -> str:
    """The hash of an audit row; it holds its `prev_hash`, which makes the chain."""
    return hashlib.sha256(canonical(row)).hexdigest()


def as_stored(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Details as the store gives them back (tuples as lists...), so the hash written now
    is the one recomputed from the row later."""
    return json.loads(json.dumps(dict(details or {}), default=str))  # type: ignore[no-any-return]
