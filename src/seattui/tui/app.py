"""The terminal app (its screens arrive with the next issue)."""

from __future__ import annotations

import sys


def run_app(profile_name: str | None = None) -> int:
    print("The terminal app is not built yet; use seattui credits, login, serve and init.", file=sys.stderr)
    return 1
