"""What the licenses and support screens share: a list of licenses of any length, filtered,
sorted and paged by the portal (PagedTable asks for pages as the cursor nears the end),
`/` filtering as you type, marks, a detail panel for the row under the cursor, and licenses
in words (product and edition names from the catalog, status, support end)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Resize
from textual.widgets import Input, Static

from seattui.domain.text import printable
from seattui.domain.catalog import Catalog
from seattui.domain.licensing import License, LicenseFilter, LicensePage, LicenseSort, LicenseStatus
from seattui.domain.money import format_credits
from seattui.tui.changes import Area
from seattui.tui.idempotency import RequestKeys
from seattui.tui.formatting import plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.confirm import ConfirmScreen
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.styles import style
from seattui.tui.widgets.paged_table import Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from seattui.client import PortalClient

# The first page is a screenful and a half of the tallest terminals, so it shows soon; the
# next ones are larger, so the table asks less often while the cursor runs down the list.
FIRST_PAGE, PAGE = 60, 200
MEDIUM, WIDE = 110, 140  # terminal widths from which the lists show more columns


def license_columns() -> list[Column]:
    """What every list of licenses starts with."""
    return [
        Column(LicenseSort.KEY.value, "Key", width=19),
        Column(LicenseSort.PRODUCT.value, "Product", width=11),
        Column(LicenseSort.EDITION.value, "Edition", width=12),
        Column(LicenseSort.QUANTITY.value, "Qty", width=5, justify="right"),
    ]


def support_column(width: int) -> Column:
    # Narrow terminals get the short label: the dates fit, and so does the sort's arrow.
    if width >= MEDIUM:
        return Column(LicenseSort.SUPPORT.value, "Support end", width=13)
    return Column(LicenseSort.SUPPORT.value, "Support", width=10)


class LicenseText:
    """Licenses in words, with the catalog's names once it has arrived (ids until then)."""

    def __init__(self) -> None:
        self.catalog: Catalog | None = None
        self.today: date | None = None

    def product(self, license: License) -> str:
        product = self.catalog.find(license.product_id) if self.catalog else None
        return product.name if product else license.product_id

    def edition(self, license: License) -> str:
        product = self.catalog.find(license.product_id) if self.catalog else None
        if license.edition_id is None:
            return "—"
        if product is None:
            return license.edition_id
        return next((edition.name for edition in product.editions if edition.id == license.edition_id),
                    license.edition_id)

    def unit(self, license: License) -> str:
        product = self.catalog.find(license.product_id) if self.catalog else None
        return product.unit.label(license.quantity) if product else "units"

    def describe(self, license: License) -> str:
        edition = f" {self.edition(license)}" if license.edition_id else ""
        return f"{self.product(license)}{edition}, {license.quantity:,} {self.unit(license)}, {license.term.value}"

    @staticmethod
    def status(license: License) -> Text:
        if license.status is LicenseStatus.TRIAL_ENDED:
            return Text("trial ended", style="red")
        if license.status is LicenseStatus.TERM_ENDED:
            return Text("term ended", style="red")
        if license.device is not None:
            return Text(f"on {license.device.hostname or license.device.fingerprint}", style="green")
        if license.trial_ends_on is not None:
            return Text(f"trial to {license.trial_ends_on:%m-%d}")
        return Text("assigned", style="dim")

    def support(self, license: License) -> Text:
        ends = license.support_ends_on
        if ends is None:
            return Text("—", style="dim")
        expired = self.today is not None and ends < self.today
        return Text(ends.isoformat(), style="red" if expired else "")

    def days_left(self, license: License) -> Text:
        ends = license.support_ends_on
        if ends is None or self.today is None:
            return Text("")
        days = (ends - self.today).days
        if days < 0:
            return Text(f"{-days:,} days ago", style="red")
        return Text("today" if days == 0 else f"in {days:,} days", style="yellow" if days <= 30 else "")

    def cell(self, license: License, column: str) -> str | Text:
        """What a list shows in a column (the columns' keys are LicenseSort values and a few more)."""
        if column == "key":
            return license.key
        if column == "product":
            return self.product(license)
        if column == "edition":
            return self.edition(license)
        if column == "quantity":
            return f"{license.quantity:,}"
        if column == "term":
            return license.term.value
        if column == "customer":
            return license.customer_email or ""
        if column == "comment":
            return license.comment
        if column == "status":
            return self.status(license)
        if column == "support":
            return self.support(license)
        if column == "days":
            return self.days_left(license)
        raise ValueError(f"no column {column!r}")

    def details(self, license: License | None) -> Group | Text:
        """The detail panel: everything about the license under the cursor, wrapped to the
        terminal's width rather than cut (the list shows fewer columns when it is narrow)."""
        if license is None:
            return Text("No license under the cursor.", style="dim")
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(style="bold", no_wrap=True, width=9)
        grid.add_column(ratio=1, overflow="fold")
        title = Text.assemble((license.key, "bold"), f"  license {license.id}",
                              (f" · {printable(license.key_name)}" if license.key_name else "", "dim"))
        addons = printable(f" · add-ons: {', '.join(license.addons)}") if license.addons else ""
        grid.add_row("License", Text.assemble(title, "  ", self.describe(license), addons))
        customer = printable(license.customer_email or "no customer email")
        grid.add_row("Customer", Text.assemble(customer, ("  · ", "dim"),
                                               printable(license.comment) or Text("no comment", "dim")))
        grid.add_row("Terms", terms_words(license, f"paid {format_credits(license.paid)} credits",
                                          f"created {license.created_at:%Y-%m-%d}"))
        grid.add_row("Device", device_words(license, "not activated on a device"))
        return grid


class LicenseListScreen(PortalScreen):
    SHOWS = frozenset({Area.LICENSES})
    """A PagedTable of licenses fed by the portal page by page; subclasses say which columns,
    which base filter and which actions."""

    CSS_PATH = style("license_list.tcss")  # one layout for both lists
    # The table has the focus from the start: focusing it later would build the footer twice.
    AUTO_FOCUS = "#list-table"
    BASE_FILTER: ClassVar[LicenseFilter] = LicenseFilter()
    PRESETS: ClassVar[dict[str, LicenseFilter]] = {}  # the dashboard's lists this screen shows
    DEFAULT_SORT: ClassVar[tuple[LicenseSort, bool]] = (LicenseSort.KEY, False)
    FILTER_HINT: ClassVar[str] = "/ filter: key, customer email or comment"
    MARKS: ClassVar[bool] = True  # whether rows can be marked (for the bulk actions)

    def __init__(self) -> None:
        super().__init__()
        self.filter = self.BASE_FILTER
        self.text = LicenseText()
        self.request_keys = RequestKeys()
        self.sort: tuple[LicenseSort, bool] = self.DEFAULT_SORT
        self._asked: tuple[LicenseFilter, tuple[LicenseSort, bool]] = (self.filter, self.sort)  # the request out
        self._composed = False
        self.detail_id: int | None = None  # the license the detail panel shows
        self.total_at_least = False  # the list's total is a lower bound (LicensePage.total_at_least)

    # -- what subclasses give ---------------------------------------------------------------

    def columns(self, width: int) -> list[Column]:
        """The columns that fit a terminal this wide."""
        raise NotImplementedError

    def cells(self, license: License) -> list[str | Text]:
        return [self.text.cell(license, column.key) for column in self._table.columns]

    def caption(self) -> str:
        """What the list shows, in words, before the counts."""
        return "Licenses"

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        sort, descending = self.sort
        table = PagedTable[License](
            self.columns(self.app.size.width), row_key=lambda license: license.id, cells=self.cells,
            empty_text="No license matches.", sort=(sort.value, descending), id="list-table", marks=self.MARKS,
        )
        self._table = table
        self.source = PagedSource(table, self._page, first_page=FIRST_PAGE, page=PAGE)
        # Ask for the first page now: the portal reads it while the screen is being built (the
        # table applies it once mounted).
        self._composed = True
        self.reload()
        self._load_catalog()
        yield StatusBar()
        with Horizontal(classes="list-bar"):
            yield Input(placeholder=self.FILTER_HINT, id="list-filter")
            yield Static("", id="list-scope")
        yield Static("", id="list-summary")
        yield Problem(id="list-problem")
        yield table
        yield Static("", id="list-detail")
        yield KeyFooter()

    @property
    def table(self) -> PagedTable[License]:
        return self._table

    @property
    def loaded(self) -> bool:
        """The first page of the current filter and sort is in the list."""
        return self.source.loaded

    def on_mount(self) -> None:
        self._show_scope()

    def on_resize(self, event: Resize) -> None:
        self.table.set_columns(self.columns(event.size.width))

    # -- loading ----------------------------------------------------------------------------

    def reload(self, *, keep_place: bool = False) -> None:
        """Ask the portal for the first page of the current filter and sort (with `keep_place`,
        the same list again after a change, the cursor staying on its row)."""
        self._asked = (self.filter, self.sort)
        if self.is_mounted:
            self._show_scope()
        self.source.reload(keep_place=keep_place)

    async def _page(self, cursor: str | None, limit: int) -> LicensePage | None:
        wanted, (sort, descending) = self._asked
        return await self.call_portal(lambda client: client.licenses(
            wanted, sort=sort, descending=descending, cursor=cursor, limit=limit))

    def on_paged_table_page_arrived(self, message: PagedTable.PageArrived) -> None:
        page: LicensePage = message.page  # type: ignore[assignment]
        if self.text.today != page.today:
            self.text.today = page.today
            self.table.redraw()
        if message.first:
            self.total_at_least = page.total_at_least
            self._show_summary()

    @work(exclusive=True, group="catalog", exit_on_error=False)
    async def _load_catalog(self) -> None:
        catalog = await self.call_portal(lambda _client: self.seattui.catalog())
        if catalog is not None:
            self.text.catalog = catalog
            self.table.redraw()
            self._show_detail(self.table.current)

    def on_paged_table_sort_changed(self, message: PagedTable.SortChanged) -> None:
        self.sort = (LicenseSort(message.column), message.descending)
        self.reload()

    def on_paged_table_highlighted(self, message: PagedTable.Highlighted) -> None:
        self._show_detail(message.row)

    def on_paged_table_marks_changed(self, message: PagedTable.MarksChanged) -> None:
        self._show_summary()

    def on_paged_table_mark_all_requested(self, message: PagedTable.MarkAllRequested) -> None:
        self._mark_all(self.filter)

    # Its own group: marking all must not cancel the list's own requests (a page being read).
    @work(exclusive=True, group="mark-all", exit_on_error=False)
    async def _mark_all(self, wanted: LicenseFilter) -> None:
        found = await self.call_portal(lambda client: client.license_ids(wanted))
        if found is None:
            return
        if found.total and not found.ids:
            self.notify(f"{found.total:,} licenses match; a bulk action takes at most 10,000. Narrow the filter "
                        "first.", severity="warning", timeout=6)
            return
        self.table.mark_keys(found.ids)

    # -- the filter -------------------------------------------------------------------------

    @on(Input.Changed, "#list-filter")
    def _typed(self, event: Input.Changed) -> None:
        if event.value.strip() != self.filter.q:
            self.filter = self.filter.model_copy(update={"q": event.value.strip()})
            self.reload()

    @on(Input.Submitted, "#list-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.focus_input(self.query_one("#list-filter", Input))

    def action_back(self) -> None:
        """escape: out of the filter box; then clear the filter; then back to the dashboard."""
        box = self.query_one("#list-filter", Input)
        if box.has_focus:
            self.table.focus()
        elif self.filter != self.BASE_FILTER:
            box.value = ""
            self.filter = self.BASE_FILTER
            self.reload()
        else:
            self.seattui.action_open_screen("dashboard")

    def action_refresh(self) -> None:
        self.reload()

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        """After a change: the same list read again, the cursor staying on its row."""
        self.reload(keep_place=True)

    def show_preset(self, preset: str) -> None:
        """A dashboard figure's list."""
        wanted = self.PRESETS.get(preset)
        if wanted is None:
            return
        self.filter = wanted
        if self.is_mounted:
            self.query_one("#list-filter", Input).value = ""
            self.reload()
        elif self._composed:  # the first page of the old filter is on its way: ask again
            self.reload()

    def set_filter(self, wanted: LicenseFilter) -> None:
        if wanted != self.filter:
            self.filter = wanted
            self.reload()

    # -- what the screen says ---------------------------------------------------------------

    def _show_scope(self) -> None:
        self.query_one("#list-scope", Static).update(self.scope_text())

    def scope_text(self) -> Text:
        return Text("")

    def _show_summary(self) -> None:
        table = self.table
        parts = [self.caption()]
        if table.total is not None:
            # The portal counts a text filter's matches only up to a cap: "1,000+ licenses".
            parts.append(f"{table.total:,}+ licenses" if self.total_at_least else plural(table.total, "license"))
        if table.marked:
            parts.append(f"{len(table.marked):,} marked")
        self.query_one("#list-summary", Static).update(" · ".join(parts))

    def _show_detail(self, license: License | None) -> None:
        self.detail_id = license.id if license else None
        self.show_detail(self.text.details(license))

    def show_detail(self, details: RenderableType) -> None:
        """The detail panel's new lines, its height laid out again once this frame is drawn: an
        update arriving while the screen's first layout was pending kept the panel at the
        height of its placeholder line, cutting the license's lines off."""
        panel = self.query_one("#list-detail", Static)
        panel.update(details)
        self.call_after_refresh(panel.refresh, layout=True)

    # -- acting on the marks or the cursor row ----------------------------------------------

    def target_ids(self) -> list[int]:
        """The marked licenses (loaded or not), else the one under the cursor."""
        if self.table.marked:
            return sorted(int(key) for key in self.table.marked)  # type: ignore[call-overload]
        current = self.table.current
        return [current.id] if current is not None else []

    async def confirm(self, title: str, details: RenderableType, *, confirm: str) -> bool:
        return bool(await self.app.push_screen_wait(ConfirmScreen(title, details, confirm=confirm)))  # type: ignore[arg-type]

    async def change(self, body: tuple[object, ...], call: Callable[[PortalClient, str], Awaitable[Any]]) -> Any:
        """A change under the idempotency key of its request body (tui/idempotency.py): every
        try of the same body has the same key, so a retry never applies it twice."""
        key = self.request_keys.key_for(*body)
        result = await self.call_portal(lambda client: call(client, key))
        if result is not None:
            self.request_keys.succeeded(*body)
        return result


# -- the detail panel's lines, the organization's and a customer's alike -----------------------


def terms_words(license: License, *more: str) -> str:
    """Its trial, support and term ends, then `more`, in one line."""
    terms = []
    if license.trial_ends_on:
        terms.append(f"trial ends {license.trial_ends_on}")
    if license.support_ends_on:
        terms.append(f"support until {license.support_ends_on}")
    if license.term_ends_on:
        terms.append(f"term ends {license.term_ends_on}")
    return " · ".join([*terms, *more])


def device_words(license: License, not_activated: str) -> Text:
    """The device it is activated on (names from the store made harmless), or `not_activated`."""
    device = license.device
    if device is None:
        return Text(not_activated, style="dim")
    return Text.assemble((printable(device.hostname) or "unnamed", "green"),
                         f"  fingerprint {printable(device.fingerprint)}",
                         f"  activated {device.activated_at:%Y-%m-%d %H:%M}")
