"""How a portal runs: its database, its catalog, its clock and its security knobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


class PortalSettings(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    database_url: str
    catalog_path: Path | None = None
    token_ttl: timedelta = timedelta(days=30)
    # Failed logins: from the 3rd in a row each next try waits longer; the 10th locks the login.
    login_throttle_after: int = 3
    login_lock_after: int = 10
    login_lock: timedelta = timedelta(minutes=15)
    login_failure_window: timedelta = timedelta(minutes=15)
    # argon2id cost; tests lower it, production keeps the library's defaults.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # Request bodies: 4 MiB, except a batch of seat moves, which is applied whole and so cannot
    # be split: up to MAX_MOVES (100,000) moves, named by email (about 110 bytes each) or by id.
    # Parsed, a body takes about ten times its size in memory; the limit keeps that bounded.
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch_body_bytes: int = 24 * 1024 * 1024
    # Device activation calls, per key and per client address, in each window.
    activation_limit: int = 30
    activation_window: timedelta = timedelta(minutes=1)
    clock: Callable[[], datetime] = Field(default=utc_now, exclude=True)
