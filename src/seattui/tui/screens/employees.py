"""Employees: filter as you type, a department facet, the seats each one holds. Mark rows
(space, v, shift+arrows, ctrl+a, U) and act on them: reassign their seats (r), give or take
back seats (s, S), mark them departed (d); add (n), edit (enter), import a CSV file (i)."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from seattui.domain.people import DepartmentCount, Employee, EmployeeFilter, EmployeeStatus
from seattui.domain.seating import SeatPool
from seattui.tui.changes import Area
from seattui.tui import commands
from seattui.tui.formatting import names, plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.styles import style
from seattui.tui.widgets.employee_list import EmployeeList
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_table import PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

ALL = "all"
STATUSES: tuple[EmployeeStatus | None, ...] = (None, EmployeeStatus.ACTIVE, EmployeeStatus.DEPARTED)
NARROW = 100  # below this many columns the department facet shows only while it is used
FACET_DELAY = 0.25


class EmployeesScreen(PortalScreen):
    SHOWS = frozenset({Area.EMPLOYEES, Area.SUBSCRIPTIONS})  # seat plans' caps and contracts too
    SCOPE = "employees"
    CSS_PATH = style("employees.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self.total: int | None = None
        self.departments: list[DepartmentCount] = []
        self.pools: list[SeatPool] = []
        self._facet_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Problem(id="employees-problem")
        with Horizontal(id="employees-body"):
            yield OptionList(id="facet")
            with Vertical(id="employees-main"):
                yield Static("", id="employees-summary")
                yield EmployeeList(id="employees")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#facet", OptionList).border_title = "Departments"
        self.employees.table.focus()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    @property
    def employees(self) -> EmployeeList:
        return self.query_one(EmployeeList)

    # -- the list, its summary and the facet -----------------------------------------------

    def _summary(self) -> None:
        chosen = self.employees.chosen
        parts = [plural(self.total or 0, "employee")]
        parts.append(chosen.department or "all departments")
        parts.append(chosen.status.value if chosen.status else "active and departed")
        # Per seat product (by id, as the Seats column names it): the seats assigned over the
        # caps and contracts of its live plans.
        seated: dict[str, list[int]] = {}
        for pool in self.pools:
            if pool.live:
                counts = seated.setdefault(pool.product_id, [0, 0])
                counts[0] += pool.assigned
                counts[1] += pool.bought
        parts += [f"{name} {assigned:,}/{limit:,}" for name, (assigned, limit) in sorted(seated.items())]
        marked = len(self.employees.table.marked)
        line = Text(" · ".join(parts))
        if marked:
            line.append(f" · {marked:,} marked", style="bold")
        self.query_one("#employees-summary", Static).update(line)

    @on(EmployeeList.Loaded)
    def _loaded(self, event: EmployeeList.Loaded) -> None:
        self.total = event.total
        self._summary()
        # The facet counts every match: it waits until the typing pauses, and never holds up
        # the rows.
        if self._facet_timer is not None:
            self._facet_timer.stop()
        self._facet_timer = self.set_timer(FACET_DELAY, self._load_facet)
        self._load_pools()

    @work(exclusive=True, group="pools", exit_on_error=False)
    async def _load_pools(self) -> None:
        pools = await self.call_portal(lambda client: client.seat_pools(), retry_key="ctrl+r")
        if pools is not None:
            self.pools = pools
            self._summary()

    @on(PagedTable.MarksChanged)
    def _marks(self) -> None:
        self._summary()

    @work(exclusive=True, group="facet", exit_on_error=False)
    async def _load_facet(self) -> None:
        chosen = self.employees.chosen
        departments = await self.call_portal(lambda client: client.departments(chosen), retry_key="ctrl+r")
        if departments is None:
            return
        self.departments = departments
        facet = self.query_one("#facet", OptionList)
        facet.clear_options()
        total = sum(department.employees for department in departments)
        facet.add_option(Option(self._facet_label("All departments", total), id=ALL))
        for department in departments:
            facet.add_option(Option(self._facet_label(department.department or "(none)", department.employees),
                                    id=f"d:{department.department}"))
        chosen_id = f"d:{chosen.department}" if chosen.department is not None else ALL
        try:
            facet.highlighted = facet.get_option_index(chosen_id)
        except OptionDoesNotExist:  # the filter left no one in the chosen department
            facet.highlighted = 0

    @staticmethod
    def _facet_label(name: str, count: int) -> Text:
        return Text.assemble((f"{count:>6,} ", "bold"), name)

    @on(OptionList.OptionSelected, "#facet")
    def _department_chosen(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ALL
        self.employees.refilter(department=None if option_id == ALL else option_id.removeprefix("d:"))
        self.remove_class("-facet-open")
        self.employees.table.focus()

    def action_departments(self) -> None:
        self.add_class("-facet-open")
        self.query_one("#facet", OptionList).focus()

    def action_next_status(self) -> None:
        current = STATUSES.index(self.employees.chosen.status)
        self.employees.refilter(status=STATUSES[(current + 1) % len(STATUSES)])

    def action_focus_filter(self) -> None:
        self.focus_input(self.employees.filter_input)

    def action_back(self) -> None:
        """escape: out of the filter or the departments; then show everyone; then to the dashboard."""
        if self.has_class("-facet-open") or self.focused is not self.employees.table:
            self.remove_class("-facet-open")
            self.employees.table.focus()
        elif self.employees.chosen != EmployeeFilter():
            self.employees.filter_input.value = ""
            self.employees.refilter(**EmployeeFilter().model_dump())
        else:
            self.seattui.action_open_screen("dashboard")

    def action_refresh(self) -> None:
        self.employees.reload()

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        """After a change: the same list read again (the cursor on its row), then the facet."""
        self.employees.reload(keep_place=True)

    def show_preset(self, preset: str) -> None:
        """A dashboard figure's list: "active" or "departed" employees."""
        if preset in (EmployeeStatus.ACTIVE.value, EmployeeStatus.DEPARTED.value):
            self.employees.refilter(status=EmployeeStatus(preset))

    # -- acting on the marked rows ---------------------------------------------------------

    async def _targets(self) -> list[Employee] | None:
        """The marked employees in marking order (read from the portal when some are not
        loaded, after ctrl+a), or the one under the cursor."""
        ids = self.employees.marked_in_order()
        if not ids:
            self.query_one(Problem).say("There is nobody in the list.", "Clear the filter (/) or add someone (n).")
            return None
        loaded = {row.id: row for row in self.employees.table.rows}
        if all(employee_id in loaded for employee_id in ids):
            return [loaded[employee_id] for employee_id in ids]
        return await self.call_portal(lambda client: client.lookup_employees(ids), retry_key="ctrl+r")

    def action_reassign(self) -> None:
        self._reassign()

    @work(exclusive=True, group="reassign", exit_on_error=False)
    async def _reassign(self) -> None:
        from seattui.tui.screens.reassign import ReassignScreen

        with self.keys_held():  # what is typed now is meant for the reassign screen
            people = await self._targets()
            if people is None:
                return
            holders = [person for person in people if person.seats]
            if not holders:
                self.query_one(Problem).say(
                    f"{'None of the marked employees holds' if len(people) > 1 else people[0].name + ' holds no'} "
                    "seat: there is nothing to reassign.", "Mark employees who hold seats (the Seats column).")
                return
            self.query_one(Problem).clear()
            self.app.push_screen(ReassignScreen(holders), self._after_batch)

    def _after_batch(self, applied: bool | None) -> None:
        if applied:  # the batch was announced: the list is read again as this screen comes back
            self.employees.table.clear_marks()

    def action_add(self) -> None:
        from seattui.tui.screens.employee_form import EmployeeForm

        def added(employee: Employee | None) -> None:
            if employee is not None:
                self.notify(f"Added {employee.name}.")

        self.app.push_screen(EmployeeForm(None), added)

    def action_edit(self) -> None:
        from seattui.tui.screens.employee_form import EmployeeForm

        current = self.employees.table.current
        if current is None:
            return

        def edited(employee: Employee | None) -> None:
            if employee is not None:
                self.employees.table.replace_row(employee)
                self.notify(f"Saved {employee.name}.")

        self.app.push_screen(EmployeeForm(current), edited)

    @on(PagedTable.Selected)
    def _selected(self, event: PagedTable.Selected) -> None:
        if self.check_action("edit", ()):
            self.action_edit()

    def action_import_file(self) -> None:
        from seattui.tui.screens.employee_import import ImportScreen

        def imported(added: int | None) -> None:
            if added is not None:
                self.notify(f"Imported {plural(added, 'employee')}.")

        self.app.push_screen(ImportScreen(), imported)

    def action_depart(self) -> None:
        self._depart()

    @work(exclusive=True, group="depart", exit_on_error=False)
    async def _depart(self) -> None:
        people = await self._targets()
        if people is None:
            return
        leaving = [person for person in people if person.status is EmployeeStatus.ACTIVE]
        if not leaving:
            self.query_one(Problem).say("Everyone marked has departed already.")
            return
        seated = sum(1 for person in leaving if person.seats)
        details = (f"{names(leaving)}.\n\n" + (f"{plural(seated, 'of them holds', 'of them hold')} seats; they keep "
                   "them until you reassign them (r)." if seated else "None of them holds a seat."))
        if await self.app.push_screen_wait(ConfirmScreen(f"Mark {plural(len(leaving), 'employee')} departed?",
                                                         details, confirm="Departed")):
            self.start_write("depart", partial(self._send_departures, [person.id for person in leaving]))

    async def _send_departures(self, ids: list[int]) -> None:
        departed = await self.call_portal(lambda client: client.depart_employees(ids), retry_key="d")
        if departed is not None:
            self.notify(f"Marked {plural(len(departed), 'employee')} departed.")
            self.employees.table.clear_marks()
            self.seattui.announce_change({Area.EMPLOYEES})

    def action_assign(self) -> None:
        self._change_seats(take_back=False)

    def action_unassign(self) -> None:
        self._change_seats(take_back=True)

    @work(exclusive=True, group="seats", exit_on_error=False)
    async def _change_seats(self, *, take_back: bool) -> None:
        from seattui.tui.screens.seat_pick import SeatPickScreen, choices

        people = await self._targets()
        pools = await self.call_portal(lambda client: client.seat_pools(), retry_key="s")
        if people is None or pools is None:
            return
        who = people[0].name if len(people) == 1 else plural(len(people), "employee")
        options = choices(pools, [person.seats for person in people], take_back=take_back)
        if not options:
            self.query_one(Problem).say(
                f"{who} hold(s) no seat to take back." if take_back else "Your organization has no seat licenses.",
                "" if take_back else "Buy a seat plan (a license of a seat product) first.")
            return
        title = f"Take back which seat from {who}?" if take_back else f"Give {who} a seat of which product?"
        product_id = await self.app.push_screen_wait(SeatPickScreen(title, options))
        if product_id is None:
            return
        ids = [person.id for person in people if (product_id in person.seats) == take_back]
        if take_back and not await self.app.push_screen_wait(ConfirmScreen(
                f"Take back the {product_id} seats of {plural(len(ids), 'employee')}?",
                names([p for p in people if p.id in ids]) + ". The seats become free.", confirm="Take back")):
            return
        self.start_write("unassign" if take_back else "assign", partial(self._send_seats, ids, product_id, take_back))

    async def _send_seats(self, ids: list[int], product_id: str, take_back: bool) -> None:
        def change(client: Any) -> Any:
            return client.unassign_seats(ids, product_id) if take_back else client.assign_seats(ids, product_id)

        done = await self.call_portal(change, retry_key="s")
        if done is not None:
            verb = "Took back" if take_back else "Gave"
            self.notify(f"{verb} {plural(done.employees, product_id + ' seat')}.")
            self.seattui.announce_change({Area.EMPLOYEES, Area.SUBSCRIPTIONS})

    def action_batches(self) -> None:
        from seattui.tui.screens.seat_batches import SeatBatchesScreen

        self.app.push_screen(SeatBatchesScreen(), self._after_batch)
