"""Every change writes an audit entry: who, what, when, and the batch it belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from seattui.domain.audit import AuditEntry, AuditFilter
from seattui.domain.paging import Page
from seattui.portal.context import Tx
from seattui.portal.paging import along_the_sort, keyset_page
from seattui.portal.store.audit_chain import GENESIS, as_stored, entry_hash
from seattui.portal.store.tables import audit_chains, audit_entries, organizations


async def record(
    tx: Tx,
    action: str,
    object_type: str,
    object_id: int | None,
    summary: str,
    details: dict[str, Any] | None = None,
) -> None:
    await record_many(tx, [{"action": action, "object_type": object_type, "object_id": object_id,
                            "summary": summary, "details": details}])


async def record_many(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Audit entries, chained after the organization's last one and written in one statement."""
    await record_each([(tx, row) for row in rows])


async def record_each(entries: Sequence[tuple[Tx, dict[str, Any]]]) -> None:
    """Audit entries of several transactions' actors sharing one connection (changes written
    together, each by whom it acts for): each organization's entries chained after its last one
    in the order given, all written in one statement, each chain's end in one more."""
    if not entries:
        return
    conn = entries[0][0].conn
    counts: dict[int, int] = {}
    for tx, _row in entries:
        counts[tx.org_id] = counts.get(tx.org_id, 0) + 1
    # Chains claimed in one order everywhere, so two writers' claims never lock in a cycle.
    places = {org_id: await _claim_places(conn, org_id, counts[org_id]) for org_id in sorted(counts)}
    chained = []
    for tx, row in entries:
        seq, previous = places[tx.org_id]
        entry = {"org_id": tx.org_id, "at": tx.now, "actor_id": tx.actor.user_id, "actor": tx.actor.login,
                 "batch_id": tx.batch_id, "token_name": tx.actor.token_name} | row | {
            "summary": (row.get("summary") or "")[:500], "details": as_stored(row.get("details")),
            "object_id": row.get("object_id"), "chain_seq": seq + 1, "prev_hash": previous}
        entry["entry_hash"] = entry_hash(entry)
        places[tx.org_id] = seq + 1, entry["entry_hash"]
        chained.append(entry)
    await conn.execute(insert(audit_entries), chained)
    await conn.execute(_CHAIN_END, [{"chain_org": org_id, "chain_hash": end} for org_id, (_seq, end) in places.items()])


_CHAIN_END = update(audit_chains).where(audit_chains.c.org_id == bindparam("chain_org")).values(
    hash=bindparam("chain_hash"))


# Built once: every audited change claims its places, and building the statement (and its
# cache key) each time cost more than SQLite took to run it.
_CLAIM = (update(audit_chains).where(audit_chains.c.org_id == bindparam("claim_org"))
          .values(seq=audit_chains.c.seq + bindparam("claim_count")).returning(audit_chains.c.seq, audit_chains.c.hash))


async def _claim_places(conn: AsyncConnection, org_id: int, count: int) -> tuple[int, str]:
    """Take `count` places at the end of the organization's chain: the last place before
    them and its hash. The update locks the chain's row until the transaction ends, so a
    concurrent writer of the same organization (on any instance) chains after this one."""
    claim = {"claim_org": org_id, "claim_count": count}
    row = (await conn.execute(_CLAIM, claim)).first()
    if row is None:  # the organization's first entry: start its chain (a twin may do so too)
        start = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(audit_chains)
        await conn.execute(start.values(org_id=org_id, seq=0, hash=GENESIS).on_conflict_do_nothing())
        row = (await conn.execute(_CLAIM, claim)).one()
    return row.seq - count, row.hash


async def list_entries(tx: Tx, wanted: AuditFilter, *, cursor: str | None, limit: int) -> Page[AuditEntry]:
    """Newest first, at any size: each filter has an index on (org_id, its column, at, id)
    (tables.py); the first filter given walks its index, the others are checked along it."""
    entries = audit_entries.c
    conditions: list[ColumnElement[bool]] = []
    if wanted.user:
        conditions.append(entries.actor == wanted.user.lower())
    if wanted.kind:
        kind = wanted.kind.lower()
        # "license" stands for every license.* action; "license.create" for that one.
        conditions.append(entries.action == kind if "." in kind
                          else or_(entries.action == kind, entries.action.like(f"{_like_escaped(kind)}.%", escape="\\")))
    if wanted.object_type:
        conditions.append(entries.object_type == wanted.object_type.lower())
        if wanted.object_id is not None:
            conditions.append(entries.object_id == wanted.object_id)
    if wanted.batch_id:
        conditions.append(entries.batch_id == wanted.batch_id)
    if wanted.since is not None:
        conditions.append(entries.at >= datetime.combine(wanted.since, time(), UTC))
    if wanted.until is not None and wanted.until < date.max:  # the last day has no day after it
        conditions.append(entries.at < datetime.combine(wanted.until + timedelta(days=1), time(), UTC))
    query = select(audit_entries).where(entries.org_id == tx.org_id)
    if conditions:
        query = query.where(conditions[0], *(along_the_sort(condition) for condition in conditions[1:]))
    return await keyset_page(tx.conn, query, sort=entries.at, id_column=entries.id, descending=True,
                             cursor=cursor, limit=limit, convert=_entry)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        summary=row.summary,
        details=row.details or {},
        batch_id=row.batch_id,
        token=row.token_name,
    )


# -- the hash chain's check ------------------------------------------------------------------

@dataclass(frozen=True)
class BrokenLink:
    org_id: int
    organization: str
    entry_id: int | None  # None when entries at the end of the chain are gone
    place: int
    reason: str


@dataclass(frozen=True)
class ChainCheck:
    organizations: int
    entries: int
    broken: BrokenLink | None


async def verify_chains(conn: AsyncConnection, *, chunk: int = 2000) -> ChainCheck:
    """Walk every organization's chain in order and stop at the first broken link: an entry
    whose content no longer gives its hash (edited), whose link does not name the hash of the
    entry before it (that one replaced), or a place missing (deleted)."""
    heads = {row.org_id: row for row in (await conn.execute(select(audit_chains))).all()}
    names = dict((await conn.execute(select(organizations.c.id, organizations.c.name))).all())
    with_entries = set((await conn.execute(select(audit_entries.c.org_id).distinct())).scalars())
    checked = 0
    org_ids = sorted(set(heads) | with_entries)
    for org_id in org_ids:
        def broken(entry_id: int | None, place: int, reason: str) -> ChainCheck:
            link = BrokenLink(org_id, names.get(org_id, f"#{org_id}"), entry_id, place, reason)
            return ChainCheck(len(org_ids), checked, link)

        place, previous = 0, GENESIS
        while True:
            rows = (await conn.execute(
                select(audit_entries).where(audit_entries.c.org_id == org_id, audit_entries.c.chain_seq > place)
                .order_by(audit_entries.c.chain_seq).limit(chunk))).mappings().all()
            for row in rows:
                if row["chain_seq"] != place + 1:
                    missing = (f"place {place + 1}" if row["chain_seq"] == place + 2
                               else f"places {place + 1} to {row['chain_seq'] - 1}")
                    return broken(row["id"], place + 1,
                                  f"the entry at {missing} is missing (deleted): entry #{row['id']} is at place "
                                  f"{row['chain_seq']}")
                if row["prev_hash"] != previous:
                    return broken(row["id"], row["chain_seq"],
                                  f"entry #{row['id']} does not link to the entry before it: that entry was "
                                  "changed or replaced, hash and all")
                if entry_hash(row) != row["entry_hash"]:
                    return broken(row["id"], row["chain_seq"],
                                  f"entry #{row['id']} was changed after it was written (its content no longer "
                                  "gives its hash)")
                place, previous = row["chain_seq"], row["entry_hash"]
                checked += 1
            if len(rows) < chunk:
                break
        head = heads.get(org_id)
        if head is None or head.seq != place or head.hash != previous:
            last = head.seq if head is not None else "none"
            return broken(None, place + 1,
                          f"the chain ends at place {place} but its end was recorded at place {last}: "
                          "the last entries were deleted")
    return ChainCheck(len(org_ids), checked, None)
