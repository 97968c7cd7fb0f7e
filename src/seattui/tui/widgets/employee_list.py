"""Employees in a paged table under a filter box: the portal filters, sorts and pages them as
you type (the table's PagedSource drops stale answers), and the marks are remembered in the order
they were made, which is the order a reassignment pairs givers with receivers."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from seattui.domain.people import Employee, EmployeeFilter, EmployeeSort, EmployeeStatus
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable

# More than a tall terminal shows plus the table's prefetch distance, so the first page
# does not ask for the second at once; the rest follows as the cursor goes down.
FIRST_PAGE = 200
PAGE = 500
COLUMNS = (
    Column("name", "Name", min_width=10),
    Column("email", "Email", min_width=10),
    Column("department", "Department", width=12),
    Column("status", "Status", width=8),
    Column("seats", "Seats", width=10, sortable=False),
)
ORDER = Column("order", "#", width=3, justify="right", sortable=False)


class EmployeeList(Vertical):
    """Styled in app.tcss: a DEFAULT_CSS would make Textual parse every stylesheet again the
    first time the list is shown."""

    class Loaded(Message):
        """A new first page arrived (a new filter, sort or reload)."""

        def __init__(self, employees: EmployeeList, total: int | None) -> None:
            super().__init__()
            self.employees, self.total = employees, total

    def __init__(self, *, chosen: EmployeeFilter | None = None, numbered: bool = False, empty_text: str = "",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.chosen = chosen or EmployeeFilter()
        self.numbered = numbered
        self._position: dict[Hashable, int] = {}  # a marked id's place in the marking order
        self._asked: tuple[EmployeeFilter, EmployeeSort, bool] | None = None  # the request out
        self._empty_text = empty_text or "No employee matches."

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter: words of the name, email or department", id=f"{self.id}-filter")
        columns = (ORDER, *COLUMNS) if self.numbered else COLUMNS
        table = PagedTable[Employee](columns, row_key=lambda employee: employee.id, cells=self._cells,
                                     empty_text=self._empty_text, sort=("name", False), id=f"{self.id}-table")
        self.source = PagedSource(table, self._page, first_page=FIRST_PAGE, page=PAGE)
        yield table

    def on_mount(self) -> None:
        self.reload()

    @property
    def table(self) -> PagedTable[Employee]:
        return self.query_one(PagedTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one(Input)

    def _cells(self, employee: Employee) -> list[Cell]:
        status = Text(employee.status.value, style="dim" if employee.status is EmployeeStatus.DEPARTED else "")
        seats = ", ".join(employee.seats) if employee.seats else Text("·", style="dim")
        cells: list[Cell] = [employee.name, employee.email, employee.department, status, seats]
        if self.numbered:
            position = self._position.get(employee.id)
            cells.insert(0, str(position + 1) if position is not None else "")
        return cells

    # -- loading ---------------------------------------------------------------------------

    def refilter(self, **changes: Any) -> None:
        self.chosen = self.chosen.model_copy(update=changes)
        self.reload()

    def reload(self, *, keep_place: bool = False) -> None:
        """Read the first page again; pages of an older filter still on their way are dropped."""
        self._asked = (self.chosen, *self._sort())
        self.source.reload(keep_place=keep_place)

    @property
    def shown(self) -> int:
        """First pages shown so far: what a test or a benchmark waits on."""
        return self.source.shown

    def _sort(self) -> tuple[EmployeeSort, bool]:
        return EmployeeSort(self.table.sort_column), self.table.sort_descending

    async def _page(self, cursor: str | None, limit: int) -> Any:
        chosen, sort, descending = self._asked or (self.chosen, *self._sort())
        return await self.screen.call_portal(  # type: ignore[attr-defined]
            lambda client: client.employees(chosen, sort=sort, descending=descending, cursor=cursor, limit=limit))

    @on(PagedTable.PageArrived)
    def _arrived(self, message: PagedTable.PageArrived) -> None:
        if message.first:
            self.post_message(self.Loaded(self, message.page.total))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.refilter(text=event.value.strip())

    @on(Input.Submitted)
    def _to_table(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    @on(PagedTable.SortChanged)
    def _sorted(self, event: PagedTable.SortChanged) -> None:
        event.stop()
        self.reload()

    # -- marks, in order ---------------------------------------------------------------------

    @on(PagedTable.MarkAllRequested)
    def _mark_all(self, event: PagedTable.MarkAllRequested) -> None:
        event.stop()
        self._fetch_all_ids()

    @work(exclusive=True, group="mark-all", exit_on_error=False)
    async def _fetch_all_ids(self) -> None:
        sort, descending = self._sort()
        chosen = self.chosen
        ids = await self.screen.call_portal(  # type: ignore[attr-defined]
            lambda client: client.employee_ids(chosen, sort=sort, descending=descending))
        if ids is not None:
            self.table.mark_keys(ids)

    @property
    def order(self) -> list[int]:
        """The marked ids, in the order they were marked."""
        return list(self.table.marked)  # type: ignore[arg-type]

    @on(PagedTable.MarksChanged)
    def _marks_changed(self, event: PagedTable.MarksChanged) -> None:
        if self.numbered:  # the # column shows each mark's place
            self._position = {key: index for index, key in enumerate(self.table.marked)}
            self.table.redraw()

    def marked_in_order(self) -> list[int]:
        """The marked ids in marking order, or the cursor row's id when nothing is marked."""
        if self.table.marked:
            return self.order
        current = self.table.current
        return [current.id] if current is not None else []
