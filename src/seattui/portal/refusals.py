"""A batch is refused whole: one reason per object that cannot be included."""

from __future__ import annotations

from typing import Any

from seattui.domain.errors import BatchRefused, Conflict
from seattui.domain.licensing import MAX_BATCH


def refuse(refusals: list[dict[str, Any]], single: Conflict | None = None) -> None:
    """Refuse a whole batch with a reason per license; a batch of one gets its own error."""
    if not refusals:
        return
    if single is not None:
        raise single
    shown = "; ".join(refusal["reason"] for refusal in refusals[:3]) + (" …" if len(refusals) > 3 else "")
    raise BatchRefused(
        f"Nothing was changed: {len(refusals)} of the licenses cannot be included. {shown}",
        {"refusals": refusals[:MAX_BATCH]},
    )
