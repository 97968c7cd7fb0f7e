"""The subscriptions screen (`g u`): every seat plan and channel subscription of the
organization on one list (seat plans first, as the portal orders them): product, key, plan,
seats assigned / cap or contract, or channels, the next renewal, the status and the monthly
cost. `/` filters by product, key, plan or status as you type. From the row under the cursor,
each through the portal's quote and a confirmation: `u` changes it (a flexible cap, seats added
to an annual contract, a trial converted, a subscription's channels), `e` sets an annual
contract's renewal, `delete` cancels a subscription; `n` opens the wizard for a new one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

from seattui.domain.dashboard import RENEWING_DAYS
from seattui.domain.money import format_credits
from seattui.domain.paging import Page
from seattui.domain.seat_plans import (
    SubscriptionKind,
    SubscriptionStatus,
    SubscriptionSummary,
)
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.formatting import plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.screens.subscription_change import Change, SubscriptionChangeScreen
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_source import PagedSource
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

SOON = timedelta(days=RENEWING_DAYS)  # "renews soon", as the dashboard counts it
COLUMNS = (
    Column("product", "Product", min_width=10, sortable=False),
    Column("key", "Key", width=20, sortable=False),
    Column("plan", "Plan", width=8, sortable=False),
    Column("size", "Seats/ch.", width=9, justify="right", sortable=False),
    Column("renews", "Renews", width=10, sortable=False),
    Column("status", "Status", width=9, sortable=False),
    Column("monthly", "Monthly", width=9, justify="right", sortable=False),
)
PORTAL_ORDER = "portal"  # no column: seat plans first, as the portal lists them
# Words the filter box understands beyond the text of a row (the dashboard opens the screen so).
RENEWS_SOON = "renews soon"


def size_words(item: SubscriptionSummary) -> str:
    """Seats assigned / cap or contract (seat plans), or the channels."""
    if item.assigned is None:
        return f"{item.size:,}"
    return f"{item.assigned:,}/{item.size:,}"


def renews_soon(item: SubscriptionSummary, today: date) -> bool:
    """As the dashboard counts: a channel subscription's month or an annual contract's term
    renewing within a week (a flexible plan is billed each month, not renewed)."""
    return (item.plan != "flexible" and item.next_renewal is not None and item.status == SubscriptionStatus.ACTIVE
            and today <= item.next_renewal <= today + SOON)


def matches(item: SubscriptionSummary, text: str, today: date) -> bool:
    wanted = text.strip().lower()
    if not wanted:
        return True
    if wanted == RENEWS_SOON:
        return renews_soon(item, today)
    return any(wanted in part.lower() for part in (item.product_name, item.key, item.plan, item.status))


class SubscriptionsScreen(PortalScreen):
    SHOWS = frozenset({Area.SUBSCRIPTIONS, Area.EMPLOYEES})  # seats assigned show as assigned / cap
    SCOPE = "subscriptions"
    CSS_PATH = style("subscriptions.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)
    SHOWN_COLUMNS = COLUMNS
    EMPTY_TEXT = "No subscriptions or seat plans yet: n starts one in the wizard."
    HOME = "dashboard"  # where escape goes once the filter is clear

    def __init__(self, filter_text: str = "") -> None:
        super().__init__()
        self.initial_filter = filter_text

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(classes="subscriptions-bar"):
            yield Input(self.initial_filter, placeholder=f"/ filter: product, key, plan, status, or '{RENEWS_SOON}'",
                        id="subscriptions-filter")
        yield Static("", id="subscriptions-summary")
        yield Problem(id="subscriptions-problem")
        table = PagedTable[SubscriptionSummary](
            self.SHOWN_COLUMNS, row_key=lambda item: (item.kind.value, item.id), cells=self._cells,
            sort=(PORTAL_ORDER, False), marks=False, empty_text=self.EMPTY_TEXT, id="subscriptions")
        self.source = PagedSource(table, self._page)
        yield table
        yield KeyFooter()

    @property
    def table(self) -> PagedTable[SubscriptionSummary]:
        return self.query_one(PagedTable)

    @property
    def filter_text(self) -> str:
        return self.query_one("#subscriptions-filter", Input).value.strip()

    def on_mount(self) -> None:
        self.table.focus()
        self.source.reload()

    async def _page(self, cursor: str | None, limit: int) -> Page[SubscriptionSummary] | None:
        # The portal answers the whole list at once (an organization has few subscriptions); the
        # filter is applied here.
        found = await self.call_portal(lambda client: client.subscriptions())
        if found is None:
            return None
        self.everything = found
        text = self.filter_text
        today = datetime.now(UTC).date()
        if text.lower() == RENEWS_SOON:  # "soon" is counted from the portal's day, as the dashboard does
            portal_today = await self.portal_today()
            if portal_today is None:
                return None
            today = portal_today
        chosen = [item for item in found if matches(item, text, today)]
        return Page[SubscriptionSummary](items=chosen, next_cursor=None, total=len(chosen))

    async def portal_today(self) -> date | None:
        figures = await self.call_portal(lambda client: client.dashboard())
        return None if figures is None else figures.today

    def _cells(self, item: SubscriptionSummary) -> list[Cell]:
        warning = self.app.current_theme.warning or "yellow"
        status: Cell = item.status
        if item.status == SubscriptionStatus.SUSPENDED:
            status = Text(item.status, style=Style(color=warning, bold=True))
        elif item.status in (SubscriptionStatus.ENDED, SubscriptionStatus.ENDING):
            status = Text(item.status, style="dim")
        renews: Cell = f"{item.next_renewal}" if item.next_renewal else "—"
        return [item.product_name, item.key, item.plan, size_words(item), renews, status,
                format_credits(item.monthly_cost)]

    @on(PagedTable.PageArrived)
    def _arrived(self, message: PagedTable.PageArrived) -> None:
        if message.first:
            self.table.empty_text = "No subscription matches the filter." if self.filter_text else self.EMPTY_TEXT
            self._say_summary()
            self.refresh_bindings()

    def _say_summary(self) -> None:
        found = getattr(self, "everything", [])
        live = [item for item in found if item.status != SubscriptionStatus.ENDED]
        monthly = sum((item.monthly_cost for item in live), Decimal("0.00"))
        parts = [plural(len(live), "live subscription"), f"{format_credits(monthly)} a month"]
        suspended = sum(1 for item in found if item.status == SubscriptionStatus.SUSPENDED)
        if suspended:
            parts.append(f"{suspended} suspended")
        self.query_one("#subscriptions-summary", Static).update(" · ".join(parts))

    # -- keys ------------------------------------------------------------------------------

    def _change_for(self, item: SubscriptionSummary | None) -> Change | str | None:
        """What `u` does with this row: a change, the channels dialog, or None."""
        if item is None or item.status == SubscriptionStatus.ENDED:
            return None
        if item.kind is SubscriptionKind.CHANNELS:
            return "channels" if item.status == SubscriptionStatus.ACTIVE else None
        return {"flexible": Change.CAP, "annual": Change.SEATS, "trial": Change.CONVERT}.get(item.plan)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:  # the role may not (hidden), or the app's own reasons
            return allowed
        current = self.table.current if self.is_mounted else None
        if action == "change" and self._change_for(current) is None:
            return None if current is not None else False
        if action == "renewal" and (current is None or current.plan != "annual"
                                    or current.status == SubscriptionStatus.ENDED):
            return None if current is not None else False
        if action == "cancel" and (current is None or current.kind is not SubscriptionKind.CHANNELS
                                   or current.status == SubscriptionStatus.ENDED):
            return None if current is not None else False
        return allowed

    def on_paged_table_highlighted(self, _message: PagedTable.Highlighted) -> None:
        self.refresh_bindings()

    @on(Input.Changed, "#subscriptions-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.source.reload()

    @on(Input.Submitted, "#subscriptions-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_filter(self) -> None:
        self.focus_input(self.query_one("#subscriptions-filter", Input))

    def action_back(self) -> None:
        box = self.query_one("#subscriptions-filter", Input)
        if isinstance(self.focused, Input):
            self.table.focus()
        elif box.value:
            with box.prevent(Input.Changed):
                box.value = ""
            self.source.reload()
        else:
            self.seattui.action_open_screen(self.HOME)

    def action_refresh(self) -> None:
        self.source.reload(keep_place=True)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        self.source.reload(keep_place=True)

    def _open(self, item: SubscriptionSummary, change: Change) -> None:
        self.app.push_screen(SubscriptionChangeScreen(item, change), self._changed)

    def _changed(self, done: bool | None) -> None:
        if done:
            self.notify("Changed: the list shows it.", timeout=4)

    def action_change(self) -> None:
        item = self.table.current
        change = self._change_for(item)
        if item is None or change is None:
            return
        if change == "channels":
            self.run_worker(self._channels(item), group="channels", exclusive=True, exit_on_error=False)
        else:
            assert isinstance(change, Change)
            self._open(item, change)

    async def _channels(self, item: SubscriptionSummary) -> None:
        from seattui.tui.screens.channels import ChannelsScreen

        with self.keys_held():
            subscription = await self.call_portal(lambda client: client.subscription(item.id))
        if subscription is None:
            return

        def changed(result: object) -> None:
            if result is not None:
                self.notify(f"The subscription has {plural(result.channels, 'channel')} now.",  # type: ignore[attr-defined]
                            timeout=4)

        self.app.push_screen(ChannelsScreen(subscription, item.product_name), changed)

    def action_renewal(self) -> None:
        item = self.table.current
        if item is not None and item.plan == "annual":
            self._open(item, Change.RENEWAL)

    def action_cancel(self) -> None:
        item = self.table.current
        if item is not None and item.kind is SubscriptionKind.CHANNELS:
            self._open(item, Change.CANCEL)

    def show_preset(self, preset: str) -> None:
        """A dashboard figure's list: "renews_soon" or "suspended"."""
        words = {"renews_soon": RENEWS_SOON, "suspended": SubscriptionStatus.SUSPENDED.value}.get(preset)
        if words is None:
            return
        boxes = self.query("#subscriptions-filter")
        if boxes:
            boxes.first(Input).value = words  # its Changed reads the list again
        else:  # opened just now: the box is composed with it
            self.initial_filter = words

    def action_new(self) -> None:
        """The wizard, on the key and product under the cursor (a second plan or subscription on it),
        else from the start."""
        item = self.table.current
        if item is None:
            self.seattui.open_screen_with("assign", None)
        else:
            self.seattui.open_screen_with("assign", item.key, product_id=item.product_id)
