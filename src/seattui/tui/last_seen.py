"""The last dashboard seen, per profile, so the next start shows figures at once (marked as
such) while the portal is read again. Kept beside the tokens' data, readable by you alone;
forgotten on logout. Anything unreadable or from another portal is ignored."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from seattui.config import data_dir

if TYPE_CHECKING:
    from seattui.domain.accounts import Me
    from seattui.domain.dashboard import Dashboard

FORMAT = 1


@dataclass(frozen=True)
class LastSeen:
    me: Me
    dashboard: Dashboard
    saved_at: datetime


def _path(profile: str) -> Path:
    return data_dir() / "last-seen" / f"{profile}.json"


def save(profile: str, portal: str, me: Me, dashboard: Dashboard, now: datetime | None = None) -> None:
    import tempfile  # here, not at the top: the app's first frame does not wait for it

    path = _path(profile)
    record = {
        "format": FORMAT,
        "portal": portal,
        "saved_at": (now or datetime.now(UTC)).isoformat(),
        "me": me.model_dump(mode="json"),
        "dashboard": dashboard.model_dump(mode="json"),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.replace(temporary, path)
    except OSError:
        pass  # a cache that cannot be written costs only a slower next start


def load(profile: str, portal: str) -> LastSeen | None:
    from pydantic import ValidationError

    from seattui.domain.accounts import Me
    from seattui.domain.dashboard import Dashboard

    try:
        record = json.loads(_path(profile).read_text(encoding="utf-8"))
        if record.get("format") != FORMAT or record.get("portal") != portal:
            return None
        return LastSeen(
            me=Me.model_validate(record["me"]),
            dashboard=Dashboard.model_validate(record["dashboard"]),
            saved_at=datetime.fromisoformat(record["saved_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError, ValidationError):
        return None


def forget(profile: str) -> None:
    _path(profile).unlink(missing_ok=True)
