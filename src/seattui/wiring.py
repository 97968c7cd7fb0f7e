"""The composition root: the only place that wires an embedded portal to a client.

Heavy modules wait until a connector opens: the portal's (FastAPI, SQLAlchemy, Alembic) only
for an embedded profile, the client's (httpx) after the app has drawn its first frame.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from seattui.client.connector import PortalConnector
from seattui.config import Profile, default_database

T = TypeVar("T")

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


class PortalThread:
    """An event loop of the embedded portal's own, on a thread. The portal's request handling
    and database round trips then never queue behind the app's drawing (which made a 40 ms
    page take several hundred while a screen was being built), and a long change in the portal
    cannot hold the app's loop up."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="seattui-portal", daemon=True)
        self._thread.start()

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the portal's loop; cancelling the caller cancels it there too."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class EmbeddedConnector:
    """A portal running in this process, on the profile's database (SQLite by default)."""

    def __init__(self, database: str | Path | None = None, **settings: Any) -> None:
        self.database = str(database if database is not None else default_database())
        self._settings = settings
        self._stack: AsyncExitStack | None = None
        self._thread: PortalThread | None = None
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
            thread = PortalThread()
            stack = AsyncExitStack()
            try:
                await thread.run(stack.enter_async_context(app.router.lifespan_context(app)))
            except BaseException:
                thread.stop()
                raise
            self._stack, self._thread, self._app = stack, thread, app
        return self._app

    async def open(self, token: str | None) -> PortalClient:
        import httpx

        from seattui.client.portal_client import PortalClient

        app = await self.start()
        assert self._thread is not None
        # A failure inside the portal reaches the client as the portal's 500 answer, as it
        # would over the network, not as an exception thrown into the app.
        transport = _on_portal_thread(httpx.ASGITransport(app=app, raise_app_exceptions=False), self._thread)
        return PortalClient(transport=transport, token=token)

    async def close(self) -> None:
        if self._stack is not None and self._thread is not None:
            stack, thread = self._stack, self._thread
            self._stack, self._thread, self._app = None, None, None
            try:
                await thread.run(stack.aclose())
            finally:
                thread.stop()


def _on_portal_thread(inner: Any, thread: PortalThread) -> Any:
    # Defined here, not at the top: httpx is imported only once a portal is opened.
    import httpx

    class OnPortalThread(httpx.AsyncBaseTransport):
        """Hands each request to the portal's loop and brings back the whole answer."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            async def answer() -> httpx.Response:
                response = await inner.handle_async_request(request)
                content = await response.aread()
                return httpx.Response(response.status_code, headers=response.headers, content=content,
                                      extensions=response.extensions)

            return await thread.run(answer())

        async def aclose(self) -> None:
            await thread.run(inner.aclose())

    return OnPortalThread()


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
