"""Print the API's OpenAPI document: python -m seattui.portal.spec > tests/openapi.json
(the committed copy tests/test_openapi.py compares with), or for a client generator."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from seattui.portal.app import create_app
from seattui.portal.settings import PortalSettings


def document() -> dict[str, Any]:
    # The app is only built, never started: its database is never opened.
    never_opened = Path(tempfile.gettempdir()) / "seattui-spec-never-opened.db"
    return create_app(PortalSettings(database_url=f"sqlite:///{never_opened}", billing_check_every=None)).openapi()


if __name__ == "__main__":
    sys.stdout.write(json.dumps(document(), indent=2, ensure_ascii=False) + "\n")
