"""Moving a portal's data to another database (an embedded SQLite portal that outgrew one
machine, to PostgreSQL): every table, rows keyed as they were, into a freshly migrated and
empty database; then the row counts and each organization's ledger are compared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from seattui.portal.store import Store, metadata, shown_url
from seattui.portal.store.tables import key_counts, ledger_entries, license_tally

BATCH_ROWS = 2000
# Kept by triggers on licenses and activation_keys. Into SQLite the target's triggers rebuild
# them as the rows arrive; PostgreSQL's triggers are switched off for the copy (rows arrive
# one statement each, and its triggers count once per statement) and these tables are copied
# like the others. The row counts compared after the copy include them either way.
DERIVED = {license_tally.name, key_counts.name}
COUNTED = ("licenses", "activation_keys")


class CopyRefused(RuntimeError):
    """A copy that was not made, or did not come out equal; the message says what to do."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    ledger: dict[int, int] = field(default_factory=dict)  # organization id -> sum of its entries

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


async def _counts(conn: AsyncConnection) -> dict[str, int]:
    return {table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables}


async def _ledger_sums(conn: AsyncConnection) -> dict[int, int]:
    rows = await conn.execute(select(ledger_entries.c.org_id, func.sum(ledger_entries.c.amount))
                              .group_by(ledger_entries.c.org_id))
    return {int(org_id): int(total) for org_id, total in rows}


async def _set_sequences_past_ids(conn: AsyncConnection) -> None:
    """PostgreSQL hands out ids from sequences, which a copy with explicit ids leaves at 1."""
    for table in metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.autoincrement or not table.c.id.primary_key:
            continue
        await conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))


async def copy_database(source_url: str, target_url: str,
                        progress: Callable[[str, int], None] | None = None) -> CopyReport:
    source, target = Store(source_url), Store(target_url)
    try:
        readiness = await source.readiness()
        if not readiness.ready:
            raise CopyRefused(f"The source {shown_url(source.url)} is not ready to copy: {readiness.problem()} "
                              "Start this seattui's portal on it once (it migrates the schema), then copy.")
        await target.migrate()
        async with target.read() as conn:
            holding = [name for name, count in (await _counts(conn)).items() if count]
        if holding:
            raise CopyRefused(f"The target {shown_url(target.url)} holds data already ({', '.join(holding)}); "
                              "copy into a new, empty database.")
        report = CopyReport()
        # One read transaction (one snapshot of the source) and one write transaction: the
        # target gets all of it or, if anything fails, none.
        async with source.read() as reading, target.write() as writing:
            if not target.is_sqlite:
                for name in COUNTED:  # inside the transaction: a failed copy leaves them on
                    await writing.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
            for table in metadata.sorted_tables:
                if table.name in DERIVED and target.is_sqlite:
                    continue
                order = list(table.primary_key.columns)
                result = await reading.stream(select(table).order_by(*order))
                copied = 0
                async for rows in result.mappings().partitions(BATCH_ROWS):
                    await writing.execute(insert(table), [dict(row) for row in rows])
                    copied += len(rows)
                report.rows[table.name] = copied
                if progress is not None:
                    progress(table.name, copied)
            if not target.is_sqlite:
                await _set_sequences_past_ids(writing)
                for name in COUNTED:
                    await writing.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))
            # Checked before the commit: a copy that differs is rolled back, the target left empty.
            source_counts, copied_counts = await _counts(reading), await _counts(writing)
            if copied_counts != source_counts:
                differ = sorted(name for name in source_counts if copied_counts.get(name) != source_counts[name])
                raise CopyRefused(f"The copy's rows differ from the source's in {', '.join(differ)}; "
                                  "nothing was kept. Stop the source's portal and copy again.")
            expected_ledger, copied_ledger = await _ledger_sums(reading), await _ledger_sums(writing)
            if copied_ledger != expected_ledger:
                raise CopyRefused("The copy's ledger sums differ from the source's; nothing was kept.")
        report.ledger = copied_ledger
        await target.analyze()  # every row arrived at once: plan with the statistics of them
        return report
    finally:
        await source.dispose()
        await target.dispose()
