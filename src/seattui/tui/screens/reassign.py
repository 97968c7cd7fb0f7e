"""Reassign the marked employees' seats, step one: which seats move (all products or some),
and to whom: employees you mark in a second list, in order (the first giver's seats go to the
first one you mark), or the first N active employees without a seat of the product in a
department. `p` previews every move before anything changes."""

from __future__ import annotations

from collections import Counter

from textual import work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.widgets import ContentSwitcher, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from seattui.domain.paging import Page
from seattui.domain.people import Employee, EmployeeFilter, EmployeeSort, EmployeeStatus
from seattui.domain.seating import MoveRequest, PlannedMove, pair_by_product, pair_in_order
from seattui.tui import commands
from seattui.tui.formatting import names, plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.styles import style
from seattui.tui.widgets.employee_list import PAGE, EmployeeList
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

MARKED, DEPARTMENT = "receivers", "departments"
MODE_TEXT = {
    MARKED: "Receivers: mark them below (space) in order; the first giver's seats go to the first one "
            "marked. t: the first N without a seat in a department",
    DEPARTMENT: "Receivers: the first active employees (by name) without a seat of the product, in the "
                "department under the cursor. t: mark receivers yourself",
}


class ReassignScreen(PortalScreen):
    SCOPE = "reassign"
    CSS_PATH = style("reassign.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self, givers: list[Employee]) -> None:
        super().__init__()
        self.givers = givers
        self.seats = Counter(product for giver in givers for product in giver.seats)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(f"Reassign the seats of {plural(len(self.givers), 'employee')}: {names(self.givers)}",
                     id="reassign-title")
        yield SelectionList[str](*[(f"{product}  ({plural(count, 'seat')})", product, True)
                                   for product, count in sorted(self.seats.items())], id="products")
        yield Static(MODE_TEXT[MARKED], id="mode-line")
        with ContentSwitcher(initial=MARKED, id="targets"):
            yield EmployeeList(chosen=EmployeeFilter(status=EmployeeStatus.ACTIVE), numbered=True, id=MARKED,
                               empty_text="No active employee matches.")
            yield OptionList(id=DEPARTMENT)
        yield Problem(id="reassign-problem")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#products", SelectionList).border_title = "Seats to move (space toggles)"
        self.receivers.table.focus()

    @property
    def receivers(self) -> EmployeeList:
        return self.query_one(EmployeeList)

    @property
    def mode(self) -> str:
        return self.query_one(ContentSwitcher).current or MARKED

    def action_next_mode(self) -> None:
        mode = DEPARTMENT if self.mode == MARKED else MARKED
        self.query_one(ContentSwitcher).current = mode
        self.query_one("#mode-line", Static).update(MODE_TEXT[mode])
        if mode == DEPARTMENT:
            self.query_one(f"#{DEPARTMENT}", OptionList).focus()
            self._load_departments()
        else:
            self.receivers.table.focus()

    @work(exclusive=True, group="departments", exit_on_error=False)
    async def _load_departments(self) -> None:
        # With one product, the departments that have someone to receive it, and how many.
        only = next(iter(self.seats)) if len(self.seats) == 1 else None
        chosen = EmployeeFilter(status=EmployeeStatus.ACTIVE, without_seat=only)
        departments = await self.call_portal(lambda client: client.departments(chosen), retry_key="t")
        if departments is None:
            return
        who = f"active without a {only} seat" if only else "active"
        listing = self.query_one(f"#{DEPARTMENT}", OptionList)
        listing.clear_options()
        listing.add_options([Option(f"{d.department or '(none)'}  ({d.employees:,} {who})", id=d.department)
                             for d in departments])
        listing.highlighted = 0 if departments else None

    def action_focus_filter(self) -> None:
        if self.mode != MARKED:
            raise SkipAction()
        self.focus_input(self.receivers.filter_input)

    def action_back(self) -> None:
        if self.mode == MARKED and self.receivers.filter_input.has_focus:
            self.receivers.table.focus()
            return
        self.dismiss(False)

    def action_preview(self) -> None:
        self._preview()

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def _preview(self) -> None:
        from seattui.tui.screens.reassign_preview import PreviewScreen

        problem = self.query_one(Problem)
        products = list(self.query_one(SelectionList).selected)
        if not products:
            problem.say("No seats chosen to move.", "Tick at least one product above (tab, then space).")
            return
        with self.keys_held():  # what is typed now is meant for the preview
            if self.mode == MARKED:
                planned = await self._pair_with_marked(products)
            else:
                planned = await self._pair_in_department(products)
            if planned is None:
                return
            moves, unpaired = planned
            problem.clear()
            self.app.push_screen(PreviewScreen(moves, unpaired), self._previewed)

    async def _pair_with_marked(self, products: list[str]) -> tuple[list[MoveRequest], list[PlannedMove]] | None:
        ids = self.receivers.order
        if not ids:
            self.query_one(Problem).say("Mark the employees who receive the seats (space), in order.",
                                        "Or press t to take the first ones without a seat in a department.")
            return None
        loaded = {row.id: row for row in self.receivers.table.rows}
        receivers = ([loaded[i] for i in ids] if all(i in loaded for i in ids)
                     else await self.call_portal(lambda client: client.lookup_employees(ids), retry_key="p"))
        if receivers is None:
            return None
        return pair_in_order(self.givers, receivers, products)

    async def _pair_in_department(self, products: list[str]) -> tuple[list[MoveRequest], list[PlannedMove]] | None:
        listing = self.query_one(f"#{DEPARTMENT}", OptionList)
        if listing.highlighted is None:
            self.query_one(Problem).say("Pick the department the receivers come from.")
            return None
        department = listing.get_option_at_index(listing.highlighted).id or ""
        wanted = {product: sum(1 for giver in self.givers if product in giver.seats) for product in products}
        receivers: dict[str, list[Employee]] = {}
        for product, count in wanted.items():
            found = await self._first_without_seat(department, product, count)
            if found is None:
                return None
            receivers[product] = found
        return pair_by_product(self.givers, receivers, f"in {department or '(no department)'}")

    async def _first_without_seat(self, department: str, product: str, count: int) -> list[Employee] | None:
        chosen = EmployeeFilter(department=department, status=EmployeeStatus.ACTIVE, without_seat=product)
        found: list[Employee] = []
        cursor: str | None = None
        while len(found) < count:
            after = cursor

            def page_of(client: object, after: str | None = after) -> object:
                return client.employees(chosen, sort=EmployeeSort.NAME, cursor=after,  # type: ignore[attr-defined]
                                        limit=min(PAGE, count - len(found)))

            page: Page[Employee] | None = await self.call_portal(page_of, retry_key="p")  # type: ignore[arg-type]
            if page is None:
                return None
            found += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        return found

    def _previewed(self, applied: bool | None) -> None:
        if applied:
            self.dismiss(True)
