"""Credits: an append-only ledger per organization. The balance is the sum of its entries;
each entry also keeps the running balance so reading it needs one row, not a scan.

A debit first locks the organization's row (PostgreSQL) inside a write transaction that
SQLite already serializes, so two debits never both see the same balance. Should a code path
ever forget that lock, entries are numbered per organization and the store refuses a number
twice: the second debit fails instead of spending the same credits.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from seattui.domain.roles import OrgKind, Permission
from seattui.domain.credits import CreditBalance, CreditGrant, LedgerEntry, LedgerFilter, LedgerReason, running_balances
from seattui.domain.errors import InsufficientCredits, NotFound
from seattui.domain.money import format_credits, from_hundredths, to_hundredths
from seattui.domain.paging import Page
from seattui.domain.pricing import PriceLine, total
from seattui.portal.context import Tx
from seattui.portal.paging import along_the_sort, containing, keyset_page, on_days
from seattui.portal.queries.actors import WithActor
from seattui.portal.queries.organizations import payer
from seattui.portal.services import audit
from seattui.portal.store.point import PointQuery
from seattui.portal.store.tables import ledger_entries, organizations, users


async def balance_of(conn: AsyncConnection, org_id: int) -> Decimal:
    return (await _last_entry(conn, org_id))[0]


async def paying_balance(tx: Tx) -> Decimal:
    """The balance that pays for the organization's orders (a child account's parent's)."""
    return await balance_of(tx.conn, (await payer(tx)).org_id)


# Built once: every balance read runs it, and building it cost more than running it.
_LAST_ENTRY = PointQuery(
    select(ledger_entries.c.balance_after, ledger_entries.c.sequence)
    .where(ledger_entries.c.org_id == bindparam("org_id"))
    .order_by(ledger_entries.c.sequence.desc())
    .limit(1)
)


async def _last_entry(conn: AsyncConnection, org_id: int) -> tuple[Decimal, int]:
    """The balance and the number of the organization's last ledger entry (0 before the first)."""
    row = await _LAST_ENTRY.first(conn, {"org_id": org_id})
    return (from_hundredths(row.balance_after), row.sequence) if row else (Decimal("0.00"), 0)


async def ledger_sum(conn: AsyncConnection, org_id: int) -> Decimal:
    """The balance recomputed from every entry; equal to balance_of() by construction."""
    total = await conn.scalar(
        select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(ledger_entries.c.org_id == org_id)
    )
    return from_hundredths(int(total or 0))


async def lock_balance(tx: Tx, org_id: int | None = None) -> Decimal:
    """Lock the organization's credits for the rest of the transaction and read the balance:
    a child account's are its parent's (both rows are locked, the parent's first: a parent is
    older, so this is id order, as the billing run locks organizations)."""
    if org_id is None:
        paying = await payer(tx)
        targets = [paying.org_id, tx.org_id] if paying is not tx else [tx.org_id]
    else:
        targets = [org_id]
    for target in targets:
        await tx.conn.execute(select(organizations.c.id).where(organizations.c.id == target).with_for_update())
    return await balance_of(tx.conn, targets[0])


async def post(
    tx: Tx,
    amount: Decimal,
    reason: LedgerReason,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    memo: str = "",
    org_id: int | None = None,
) -> LedgerEntry:
    """Append one entry; call lock_balance() first in the same transaction.

    A debit that would take the balance below zero raises InsufficientCredits and writes nothing.
    """
    target = tx.org_id if org_id is None else org_id
    balance, last = await _last_entry(tx.conn, target)
    after = balance + amount
    if after < 0:
        raise insufficient(balance, -amount)
    values: dict[str, Any] = {
        "org_id": target,
        "sequence": last + 1,
        "at": tx.now,
        "amount": to_hundredths(amount),
        "balance_after": to_hundredths(after),
        "reason": reason.value,
        "object_type": object_type,
        "object_id": object_id,
        "memo": memo[:500],
        "actor_id": tx.actor.user_id,
        "batch_id": tx.batch_id,
    }
    entry_id = (await tx.conn.execute(insert(ledger_entries).values(**values).returning(ledger_entries.c.id))).scalar_one()
    return LedgerEntry(
        id=entry_id,
        at=tx.now,
        amount=amount,
        balance_after=after,
        reason=reason,
        object_type=object_type,
        object_id=object_id,
        memo=memo[:500],
        actor=tx.actor.login,
    )


async def post_many(tx: Tx, entries: list[tuple[Decimal, LedgerReason, str, int, str]]) -> Decimal:
    """Append entries (amount, reason, object type, object id, memo) of one batch in one
    statement, each with its running balance; call lock_balance() first. Returns the balance after.

    A debit that would take the balance below zero raises InsufficientCredits and writes nothing.
    """
    balance, last = await _last_entry(tx.conn, tx.org_id)
    balances = running_balances(balance, [amount for amount, *_ in entries])
    if balances and min(balances) < 0:
        raise insufficient(balance, -sum((amount for amount, *_ in entries), Decimal(0)))
    rows = [
        {"org_id": tx.org_id, "sequence": last + number, "at": tx.now, "amount": to_hundredths(amount),
         "balance_after": to_hundredths(after), "reason": reason.value, "object_type": object_type,
         "object_id": object_id, "memo": memo[:500], "actor_id": tx.actor.user_id, "batch_id": tx.batch_id}
        for number, ((amount, reason, object_type, object_id, memo), after)
        in enumerate(zip(entries, balances, strict=True), start=1)
    ]
    if rows:
        await tx.conn.execute(insert(ledger_entries), rows)
    return balances[-1] if balances else balance


def covered(balance: Decimal, lines: Iterable[PriceLine]) -> Decimal:
    """What `lines` cost, refused when the balance read under lock_balance() falls short."""
    cost = total(lines)
    if cost > balance:
        raise insufficient(balance, cost)
    return cost


def insufficient(balance: Decimal, cost: Decimal) -> InsufficientCredits:
    shortfall = cost - balance
    return InsufficientCredits(
        f"Not enough credits: this costs {format_credits(cost)}, the balance is "
        f"{format_credits(balance)}, {format_credits(shortfall)} short. Nothing was charged; "
        "ask your vendor for credits or make the order smaller.",
        {"balance": f"{balance:.2f}", "cost": f"{cost:.2f}", "shortfall": f"{shortfall:.2f}"},
    )


async def debit(
    tx: Tx,
    cost: Decimal,
    reason: LedgerReason,
    *,
    object_type: str,
    object_id: int,
    memo: str,
) -> LedgerEntry | None:
    """Charge `cost` for an object; nothing is written for a free change."""
    if cost == 0:
        return None
    return await post(tx, -cost, reason, object_type=object_type, object_id=object_id, memo=memo)


# The organization that pays (a child account's parent) and its balance, as columns of the
# caller's `organizations` row: a balance request reads them with its token (BALANCE_WITH_ACTOR).
_PARENT = aliased(organizations, name="parent")
_IS_CHILD = organizations.c.kind == OrgKind.CHILD.value
_PAYING_ID = case((_IS_CHILD, organizations.c.parent_id), else_=organizations.c.id)
_PAYING_BALANCE = (
    case((_IS_CHILD, select(_PARENT.c.name).where(_PARENT.c.id == organizations.c.parent_id).scalar_subquery()),
         else_=organizations.c.name).label("paying_name"),
    select(ledger_entries.c.balance_after).where(ledger_entries.c.org_id == _PAYING_ID)
    .order_by(ledger_entries.c.sequence.desc()).limit(1).scalar_subquery().label("paying_balance"),
)
BALANCE_WITH_ACTOR = WithActor(*_PAYING_BALANCE)
_BALANCE = PointQuery(select(*_PAYING_BALANCE).where(organizations.c.id == bindparam("org_id")))


async def balance(tx: Tx) -> CreditBalance:
    """The balance that pays for the organization's orders: a child account's parent's."""
    row = BALANCE_WITH_ACTOR.row_of(tx) or await _BALANCE.first(tx.conn, {"org_id": tx.org_id})
    amount = Decimal("0.00") if row.paying_balance is None else from_hundredths(row.paying_balance)
    # Not validated again: the name is the store's and the amount exact hundredths by from_hundredths.
    return CreditBalance.model_construct(organization=row.paying_name, balance=amount)


async def ledger(tx: Tx, *, cursor: str | None, limit: int,
                 wanted: LedgerFilter | None = None) -> Page[LedgerEntry]:
    """The organization's ledger entries, newest first, filtered by days, reason and text."""
    wanted = wanted or LedgerFilter()
    conditions = [ledger_entries.c.org_id == tx.org_id, *on_days(ledger_entries.c.at, wanted.since, wanted.until)]
    if wanted.reason is not None:
        conditions.append(ledger_entries.c.reason == wanted.reason.value)
    if wanted.q:
        # No index finds a substring: checked on each entry as the page walks the time index.
        conditions.append(along_the_sort(containing(tx.conn, (ledger_entries.c.memo, users.c.login), wanted.q)))
    query = (
        select(ledger_entries, users.c.login.label("actor_login"))
        .select_from(ledger_entries.outerjoin(users, users.c.id == ledger_entries.c.actor_id))
        .where(*conditions)
    )
    return await keyset_page(tx.conn, query, sort=ledger_entries.c.at, id_column=ledger_entries.c.id,
                             descending=True, cursor=cursor, limit=limit, convert=_entry)


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        at=row.at,
        amount=from_hundredths(row.amount),
        balance_after=from_hundredths(row.balance_after),
        reason=LedgerReason(row.reason),
        object_type=row.object_type,
        object_id=row.object_id,
        memo=row.memo,
        actor=row.actor_login,
    )


async def grant(tx: Tx, org_id: int, request: CreditGrant) -> LedgerEntry:
    """The vendor adds credits to one of its reseller organizations."""
    tx.actor.require(Permission.GRANT_CREDITS)
    target = (
        await tx.conn.execute(
            select(organizations.c.name).where(
                organizations.c.id == org_id,
                organizations.c.kind == OrgKind.RESELLER.value,
                organizations.c.parent_id == tx.org_id,
            )
        )
    ).first()
    if target is None:
        raise NotFound(f"There is no organization {org_id} among your resellers.", {"org_id": org_id})
    await lock_balance(tx, org_id)
    memo = request.memo or f"Credits from {tx.actor.org_name}"
    entry = await post(
        tx, request.amount, LedgerReason.GRANT, object_type="organization", object_id=org_id, memo=memo, org_id=org_id
    )
    await audit.record(
        tx,
        "credits.grant",
        "organization",
        org_id,
        f"Granted {format_credits(request.amount)} credits to {target.name}",
        {"amount": f"{request.amount:.2f}", "memo": memo},
    )
    return entry
