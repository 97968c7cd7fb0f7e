"""Where a PagedTable's rows come from: pages of the portal's list, asked for in workers of the
table and delivered to it as `PagedTable.PageArrived` messages. Every list of the app (keys,
licenses, support, employees, seat batches) is fed this one way.

Each first-page request (a new filter or sort, a refresh) starts a new generation; the table
applies a page only if it is of the current generation and drops the others, in one place
(`PagedTable.on_paged_table_page_arrived`). Only a first-page request supersedes its
predecessor, so only it is exclusive; the next pages of the same generation go on whatever
else the screen does (marking all, a write).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Generic, TypeVar

from seattui.domain.paging import Page
from seattui.tui.widgets.paged_table import PagedTable

R = TypeVar("R")
# What a screen gives: the page after `cursor` (None: the first), at most `limit` rows, or None
# when the portal failed (the screen has said why: call_portal).
Fetch = Callable[[str | None, int], Awaitable[Page[Any] | None]]

FIRST_PAGES, NEXT_PAGES, ALL_PAGES = "first-page", "next-page", "all-pages"  # one worker group per job
MAX_PAGE = 500  # the most rows the portal sends at once


class PagedSource(Generic[R]):
    def __init__(self, table: PagedTable[R], fetch: Fetch, *, first_page: int = 100, page: int = 200) -> None:
        self.table = table
        self.fetch = fetch
        self.first_page, self.page = first_page, page
        self.generation = 0
        self.next_cursor: str | None = None
        self.loaded = False  # the current generation's first page is in the table
        self.shown = 0  # first pages applied so far: what tests and benchmarks wait on
        self._filling = False  # loading every page (load_all): the next-page requests wait for it
        self._first_in = asyncio.Event()  # set once this generation's first page is in the table
        table.source = self

    def reload(self, *, keep_place: bool = False) -> None:
        """Ask for the first page again (a new filter or sort; with `keep_place`, the same list
        read again after a change: the cursor stays on its row and enough rows come back to
        cover what was loaded)."""
        self.generation += 1
        self.loaded = False
        self.next_cursor = None
        self._filling = False
        self._first_in = asyncio.Event()
        table = self.table
        table.workers.cancel_group(table, NEXT_PAGES)
        table.workers.cancel_group(table, ALL_PAGES)
        if not table.rows:
            table.loading_more = True  # "Loading …" rather than the empty list's words
            if table.is_mounted:
                table.refresh()
        limit = min(max(self.first_page, len(table.rows)), MAX_PAGE) if keep_place else self.first_page
        table.run_worker(partial(self._first, self.generation, limit, keep_place), group=FIRST_PAGES, exclusive=True,
                         exit_on_error=False)

    def more(self) -> None:
        """The table asked for the rows after the loaded ones."""
        table = self.table
        if not self.loaded or self.next_cursor is None or self._filling:
            table.loading_more = self._filling
            return
        table.loading_more = True
        table.run_worker(partial(self._next, self.generation, self.next_cursor), group=NEXT_PAGES, exit_on_error=False)

    def load_all(self, then: Callable[[], None]) -> None:
        """Every remaining page of this generation, then `then` (once they are all in the table)."""
        self._filling = True
        self.table.workers.cancel_group(self.table, NEXT_PAGES)
        self.table.run_worker(partial(self._all, self.generation, then), group=ALL_PAGES, exclusive=True,
                              exit_on_error=False)

    # -- the workers --------------------------------------------------------------------

    async def _first(self, generation: int, limit: int, keep_place: bool) -> None:
        page = await self.fetch(None, limit)
        self._deliver(generation, page, first=True, keep_place=keep_place)

    async def _next(self, generation: int, cursor: str) -> None:
        page = await self.fetch(cursor, self.page)
        self._deliver(generation, page, first=False)

    async def _all(self, generation: int, then: Callable[[], None]) -> None:
        try:
            await self._first_in.wait()  # a reload just before ctrl+a: its first page, then the rest
            cursor = self.next_cursor
            while cursor is not None:
                page = await self.fetch(cursor, self.page)
                if not self._deliver(generation, page, first=False):
                    return
                assert page is not None
                cursor = page.next_cursor
            self.table.call_later(then)  # queued behind the pages just posted
        finally:
            if generation == self.generation:
                self._filling = False

    def _deliver(self, generation: int, page: Page[Any] | None, *, first: bool, keep_place: bool = False) -> bool:
        if generation != self.generation:
            return False
        if page is None:  # the screen says why; scrolling asks again
            self.table.loading_more = False
            self.table.refresh()
            return False
        self.table.post_message(PagedTable.PageArrived(self.table, generation, page, first, keep_place))
        return True

    # -- called by the table as it applies a page ----------------------------------------

    def applied(self, message: PagedTable.PageArrived) -> None:
        self.next_cursor = message.page.next_cursor
        if message.first:
            self.loaded = True
            self.shown += 1
            self._first_in.set()
