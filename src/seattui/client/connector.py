"""How the app reaches a portal without knowing what it is: a connector opens a client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from seattui.client.portal_client import PortalClient


class PortalConnector(Protocol):
    @property
    def description(self) -> str:
        """Where the portal is, for people: "embedded (~/.local/share/seattui/portal.db)" or a URL."""
        ...

    async def open(self, token: str | None) -> PortalClient:
        """Start what needs starting and return a client that carries `token`."""
        ...

    async def close(self) -> None: ...
