"""The async client of the license portal: typed methods over httpx that return domain models.

Importing this package imports neither Textual nor FastAPI, and httpx only when PortalClient
is first used, so the terminal app draws its first frame before paying for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seattui.client.portal_client import PortalClient

__all__ = ["PortalClient"]


def __getattr__(name: str) -> Any:
    if name == "PortalClient":
        from seattui.client.portal_client import PortalClient

        return PortalClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
