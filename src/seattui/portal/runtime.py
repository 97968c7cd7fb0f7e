"""One running portal: its settings, store, catalog and password hasher, and its transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from seattui.domain.catalog import Catalog
from seattui.portal.catalog import load_catalog
from seattui.portal.context import Actor, Tx
from seattui.portal.passwords import PasswordHasher
from seattui.portal.settings import PortalSettings
from seattui.portal.store import Store
from seattui.portal.store.counters import CallCounter, window_start


class Portal:
    def __init__(self, settings: PortalSettings) -> None:
        self.settings = settings
        self.catalog: Catalog = load_catalog(settings.catalog_path)
        self.store = Store(settings.database_url)
        self.hasher = PasswordHasher(settings.argon2_time_cost, settings.argon2_memory_kib)
        self.calls = CallCounter(self.store)

    async def start(self) -> None:
        await self.store.migrate()
        await self.calls.start()
        if self.settings.activation_check_share > timedelta(0):
            self.calls.share_every(self.settings.activation_check_share, self._window_now)

    async def close(self) -> None:
        await self.calls.close()
        await self.store.dispose()

    def _window_now(self) -> datetime:
        """When the device calls' window now started."""
        return window_start(self.now(), self.settings.activation_window)

    def now(self) -> datetime:
        return self.settings.clock()

    @asynccontextmanager
    async def reading(self, actor: Actor) -> AsyncIterator[Tx]:
        async with self.store.read() as conn:
            yield Tx(conn=conn, actor=actor, catalog=self.catalog, now=self.now())

    @asynccontextmanager
    async def writing(self, actor: Actor, batch_id: str | None = None) -> AsyncIterator[Tx]:
        async with self.store.write() as conn:
            yield Tx(conn=conn, actor=actor, catalog=self.catalog, now=self.now(), batch_id=batch_id)
