"""Substring filters found through a trigram index, on SQLite: an FTS5 table of the
`trigram` tokenizer, contentless, kept by triggers (the licenses' license_trigrams, the
customers' customer_trigrams). The index names candidates: every row holding each trigram of
the text; the filter's own LIKE keeps those that hold the text itself, so what a filter finds
never depends on the index. PostgreSQL's planner takes its pg_trgm indexes by itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal_column, select, table
from sqlalchemy import text as text_clause
from sqlalchemy.ext.asyncio import AsyncConnection

# Past this many rows named by the index, the text is common: a scan finds what a page needs
# sooner than checking each named row (62,000 of 1,000,000 licenses: 88 ms against 14 ms).
MOST_CANDIDATES = 20_000


def trigrams(*texts: str) -> str | None:
    """The FTS5 query of every trigram of the texts (each quoted), or None when none has one
    (a text shorter than three characters has none)."""
    found = dict.fromkeys(text[i:i + 3] for text in texts for i in range(len(text) - 2))
    return " AND ".join('"' + trigram.replace('"', '""') + '"' for trigram in found) or None


def candidates(index: str, query: str) -> Any:
    """The rowids the index names for the query (of `trigrams`)."""
    return select(literal_column("rowid")).select_from(table(index)).where(
        text_clause(f"{index} MATCH :trigrams").bindparams(trigrams=query))


async def few_candidates(conn: AsyncConnection, index: str, *texts: str) -> Any | None:
    """The index's candidates for the texts when SQLite should look through it: the texts have
    a trigram and the index names at most MOST_CANDIDATES rows. None: filter by scanning."""
    query = trigrams(*texts)
    if query is None or conn.dialect.name != "sqlite":
        return None
    named = await conn.scalar(select(func.count()).select_from(
        candidates(index, query).limit(MOST_CANDIDATES + 1).subquery()))
    return candidates(index, query) if (named or 0) <= MOST_CANDIDATES else None
