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

if TYPE_CHECKING:
    from seattui.client.portal_client import PortalClient
    from seattui.portal.settings import PortalSettings

T = TypeVar("T")
CLOSING_GRACE_SECONDS = 2


def portal_settings(database: str | Path | None, **overrides: Any) -> PortalSettings:
    from seattui.portal.settings import PortalSettings
    from seattui.portal.store import database_url

    target = database if database is not None else default_database()
    if isinstance(target, Path) or "://" not in str(target):
        Path(target).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return PortalSettings(database_url=database_url(target), **overrides)


class PortalThread:
    """The embedded portal's own event loop, on a thread of its own: a heavy request (10,000
    seat moves, a filter over 100,000 employees) never waits for the app to finish drawing a
    frame, and the app keeps drawing while the portal works."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="seattui-portal", daemon=True)
        self.thread.start()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the portal's loop; cancelling the caller cancels the work there too."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def stop(self) -> None:
        # The loop is stopped, not closed: a database thread still finishing a query whose
        # request was cancelled hands its result to the loop, which must not fail then.
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class EmbeddedConnector:
    """A portal running in this process, on the profile's database (SQLite by default)."""

    def __init__(self, database: str | Path | None = None, **settings: Any) -> None:
        self.database = str(database if database is not None else default_database())
        self._settings = settings
        self._stack: AsyncExitStack | None = None
        self._app: Any = None
        self._thread: PortalThread | None = None

    @property
    def description(self) -> str:
        return f"embedded ({self.database})"

    async def start(self) -> Any:
        """Start the portal (migrations included) once, on its thread; later opens reuse it."""
        if self._app is None:
            thread = PortalThread()
            try:
                self._stack, self._app = await thread.run(self._start())
            except BaseException:
                thread.stop()
                raise
            self._thread = thread
        return self._app

    async def _start(self) -> tuple[AsyncExitStack, Any]:
        # The portal's modules take a while to import: here, off the app's loop.
        create_app = importlib.import_module("seattui.portal.app").create_app
        mail = importlib.import_module("seattui.portal.options").mail_settings_from_environment()
        app = create_app(portal_settings(self.database, **{**mail, **self._settings}))
        stack = AsyncExitStack()
        await stack.enter_async_context(app.router.lifespan_context(app))
        return stack, app

    async def open(self, token: str | None) -> PortalClient:
        import httpx

        from seattui.client.portal_client import PortalClient

        app = await self.start()
        assert self._thread is not None
        # A failure inside the portal reaches the client as the portal's 500 answer, as it
        # would over the network, not as an exception thrown into the app.
        transport = _threaded_transport(httpx.ASGITransport(app=app, raise_app_exceptions=False), self._thread)
        return PortalClient(transport=transport, token=token)

    async def close(self) -> None:
        if self._stack is not None and self._thread is not None:
            stack, thread = self._stack, self._thread
            self._stack, self._app, self._thread = None, None, None
            try:
                await thread.run(_closing(stack))
            finally:
                thread.stop()


async def _closing(stack: AsyncExitStack) -> None:
    """Cancel the requests still running (the app is closing), then stop the portal."""
    current = asyncio.current_task()
    running = [task for task in asyncio.all_tasks() if task is not current]
    for task in running:
        task.cancel()
    if running:
        # Bounded: a database driver that ignores the cancellation must not keep quit waiting.
        await asyncio.wait(running, timeout=CLOSING_GRACE_SECONDS)
    await stack.aclose()


def _threaded_transport(inner: Any, thread: PortalThread) -> Any:
    import httpx

    class ThreadedTransport(httpx.AsyncBaseTransport):
        """Hands each request to the portal's thread and its answer back."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = await request.aread()  # read here: the request's stream belongs to this loop
            forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=body,
                                      extensions=request.extensions)

            async def answer() -> httpx.Response:
                # Read there: the answer's stream belongs to the portal's loop.
                response = await inner.handle_async_request(forwarded)
                content = await response.aread()
                return httpx.Response(response.status_code, headers=response.headers, content=content,
                                      extensions=response.extensions)

            return await thread.run(answer())

    return ThreadedTransport()


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
