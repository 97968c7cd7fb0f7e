"""`seattui billing run` that stops dead where a test asks, so that the test can SIGKILL it
exactly there: `python billing_kill_hook.py POINT N BATCH -- seattui's arguments ...`.

POINT is `numbering` (inside the N-th batch's transaction, its invoice numbers reserved and
not committed), `between` (the N-th batch committed, the next not begun) or `recording` (every
batch committed, the month not yet recorded as billed). It prints one line when it is there
and then waits to be killed. Only the tests run this; the portal knows nothing of it."""

from __future__ import annotations

import sys
import time
from typing import Any

from seattui.cli import main
from seattui.portal import billing_run

point, at, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
arguments = sys.argv[sys.argv.index("--") + 1:]
billing_run.BATCH = batch  # small batches: several of them on a few hundred organizations
counted = {"batches": 0, "numbered": 0}


def stop_here(words: str) -> None:
    print(words, flush=True)
    time.sleep(3600)  # blocks the event loop on purpose: nothing more happens until the kill


real_finalize = billing_run._finalize_batch
real_take = billing_run.take_numbers


async def finalize(*args: Any) -> list[str]:
    numbers = await real_finalize(*args)
    if numbers:
        counted["batches"] += 1
        if point == "between" and counted["batches"] == at:
            stop_here(f"committed batch {at}")
    elif point == "recording":
        stop_here("every batch committed")
    return numbers


async def take(*args: Any) -> int:
    last = await real_take(*args)
    counted["numbered"] += 1
    if point == "numbering" and counted["numbered"] == at:
        stop_here(f"numbering batch {at}")
    return last


billing_run._finalize_batch = finalize  # type: ignore[assignment]
billing_run.take_numbers = take  # type: ignore[assignment]
sys.exit(main(arguments))
