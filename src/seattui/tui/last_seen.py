"""The last dashboard seen, per profile, so the next start shows figures at once (marked as
such) while the portal is read again. Kept beside the tokens' data, readable by you alone;
forgotten on logout. Anything unreadable or from another portal is ignored.

Read with json and the plain views alone: the start that draws these figures has not imported
pydantic or the portal yet, and must not wait for them. Imported before the first frame, so
what reading and writing need is imported when they run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from seattui.config import data_dir

if TYPE_CHECKING:
    from seattui.tui.views import DashboardView, Who

FORMAT = 2


@dataclass(frozen=True)
class LastSeen:
    who: Who
    dashboard: DashboardView
    saved_at: datetime


def _path(profile: str) -> Path:
    return data_dir() / "last-seen" / f"{profile}.json"


def save(profile: str, portal: str, who: Who, dashboard: DashboardView, now: datetime | None = None) -> None:
    import json
    import tempfile

    path = _path(profile)
    record = {
        "format": FORMAT,
        "portal": portal,
        "saved_at": (now or datetime.now(UTC)).isoformat(),
        "who": who.record(),
        "dashboard": dashboard.record(),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(record, file, default=str)
        os.replace(temporary, path)
    except OSError:
        pass  # a cache that cannot be written costs only a slower next start


def load(profile: str, portal: str) -> LastSeen | None:
    import json

    from seattui.tui.views import DashboardView, Who

    try:
        record = json.loads(_path(profile).read_text(encoding="utf-8"))
        if record.get("format") != FORMAT or record.get("portal") != portal:
            return None
        return LastSeen(
            who=Who.from_record(record["who"]),
            dashboard=DashboardView.from_record(record["dashboard"]),
            saved_at=datetime.fromisoformat(record["saved_at"]),
        )
    except (OSError, ArithmeticError, ValueError, KeyError, TypeError, AttributeError):
        return None


def forget(profile: str) -> None:
    _path(profile).unlink(missing_ok=True)
