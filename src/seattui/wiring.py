"""The composition root: the only place that wires an embedded portal to a client.

Heavy modules wait until a connector opens: the portal's (FastAPI, SQLAlchemy, Alembic) only
for an embedded profile, the client's (httpx) after the app has drawn its first frame.
"""

from __future__ import annotations

import asyncio
import importlib
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seattui.client.connector import PortalConnector
from seattui.config import Profile, default_database

if TYPE_CHECKING:
    from seattui.client.portal_client import PortalClient
    from seattui.portal.settings import PortalSettings


def portal_settings(database: str | Path | None, **overrides: Any) -> PortalSettings:
    from seattui.portal.settings import PortalSettings
    from seattui.portal.store import database_url

    target = database if database is not None else default_database()
    if isinstance(target, Path) or "://" not in str(target):
        Path(target).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return PortalSettings(database_url=database_url(target), **overrides)


class EmbeddedConnector:
    """A portal running in this process, on the profile's database (SQLite by default)."""

    def __init__(self, database: str | Path | None = None, **settings: Any) -> None:
        self.database = str(database if database is not None else default_database())
        self._settings = settings
        self._stack: AsyncExitStack | None = None
        self._app: Any = None

    @property
    def description(self) -> str:
        return f"embedded ({self.database})"

    async def start(self) -> Any:
        """Start the portal (migrations included) once; later opens reuse it."""
        if self._app is None:
            # The portal's modules take a while to import: do it off the event loop so the
            # app keeps drawing meanwhile.
            module = await asyncio.to_thread(importlib.import_module, "seattui.portal.app")
            create_app = module.create_app
            app = create_app(portal_settings(self.database, **self._settings))
            stack = AsyncExitStack()
            await stack.enter_async_context(app.router.lifespan_context(app))
            self._stack, self._app = stack, app
        return self._app

    async def open(self, token: str | None) -> PortalClient:
        import httpx

        from seattui.client.portal_client import PortalClient

        app = await self.start()
        # A failure inside the portal reaches the client as the portal's 500 answer, as it
        # would over the network, not as an exception thrown into the app.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        return PortalClient(transport=transport, token=token)

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._app = self._stack, None, None
            await stack.aclose()


class RemoteConnector:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @property
    def description(self) -> str:
        return self.url

    async def open(self, token: str | None) -> PortalClient:
        from seattui.client.portal_client import PortalClient

        return PortalClient(self.url, token=token)

    async def close(self) -> None:
        return None


def connector_for(profile: Profile) -> PortalConnector:
    if profile.is_embedded:
        return EmbeddedConnector(profile.database)
    return RemoteConnector(profile.portal)
