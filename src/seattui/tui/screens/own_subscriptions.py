"""A customer's own subscriptions (`g t`), next to their licenses in a customer's own login:
each channel subscription and seat plan assigned to them with product, key, plan, seats or
channels, renewal and status (what the organization pays for it is its own, and not shown),
filtered as you type (escape: back to their licenses); `w` writes the signed file of the one under the cursor (asking where).
The portal answers this login with the customer's own alone (portal/customer_access.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from seattui.domain.seat_plans import SubscriptionKind, SubscriptionStatus, SubscriptionSummary
from seattui.domain.text import printable
from seattui.tui import commands
from seattui.tui.files import target_path
from seattui.tui.formatting import plural
from seattui.tui.screens.form import FormScreen
from seattui.tui.screens.license_file_form import write_signed_file
from seattui.tui.screens.subscriptions import COLUMNS, SubscriptionsScreen
from seattui.tui.widgets.paged_table import Cell


# Its keys alone: the organization's changes (u, e, del, n) are not a customer's.
class OwnSubscriptionsScreen(SubscriptionsScreen, inherit_bindings=False):
    SCOPE = "your_subscriptions"
    BINDINGS = commands.screen_bindings(SCOPE)
    SHOWN_COLUMNS = tuple(column for column in COLUMNS if column.key != "monthly")
    EMPTY_TEXT = "You have no subscriptions or seat plans."
    HOME = "yours"

    async def portal_today(self) -> date | None:
        # The dashboard is the organization's; a day early or late only moves "renews soon" a day.
        return datetime.now(UTC).date()

    def _cells(self, item: SubscriptionSummary) -> list[Cell]:
        return super()._cells(item)[:len(self.SHOWN_COLUMNS)]

    def _say_summary(self) -> None:
        found = getattr(self, "everything", [])
        live = sum(1 for item in found if item.status != SubscriptionStatus.ENDED)
        where = f" from {printable(self.seattui.who.organization)}" if self.seattui.who else ""
        parts = [f"Your subscriptions{where}", plural(live, "live subscription")]
        suspended = sum(1 for item in found if item.status == SubscriptionStatus.SUSPENDED)
        if suspended:
            parts.append(f"{suspended} suspended: ask {printable(self.seattui.who.organization) if self.seattui.who else 'them'}")
        self.query_one("#subscriptions-summary", Static).update(" · ".join(parts))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "write_file" and self.is_mounted and self.table.current is None:
            return False
        return super().check_action(action, parameters)

    def action_write_file(self) -> None:
        item = self.table.current
        if item is None:
            return

        def written(path: str | None) -> None:
            if path is not None:
                self.notify(f"Wrote the signed file of {item.product_name} on {item.key} to {path}.")

        self.app.push_screen(SubscriptionFileScreen(item), written)


def default_path(item: SubscriptionSummary) -> str:
    """In the folder seattui runs in, named after the key and the product, as a license's."""
    return f"{item.key}-{item.product_id}.license"


class SubscriptionFileScreen(FormScreen):
    """The signed file of a channel subscription (valid to the end of its paid period) or of a
    seat plan (its license's file). Dismissed with the path written, or None."""

    TITLE_TEXT = "Write the signed file"
    HINT = "ctrl+s: write · escape: cancel"

    def __init__(self, item: SubscriptionSummary) -> None:
        super().__init__()
        self.item = item

    def fields(self) -> ComposeResult:
        yield Static(f"{self.item.key} · {printable(self.item.product_name)} · {self.item.plan}", classes="form-about")
        yield Label("Write to")
        yield Input(default_path(self.item), id="file-path")

    def action_submit(self) -> None:
        path, problem = target_path(self.query_one("#file-path", Input).value, default_path(self.item))
        if path is None:
            self.say(f"Write to: {problem}")
            return
        self._write(path)

    @work(exclusive=True, group="write")
    async def _write(self, path: Path) -> None:
        item = self.item
        if item.kind is SubscriptionKind.CHANNELS:
            text = await self.call_portal(lambda client: client.subscription_file(item.id))
        else:
            text = await self.call_portal(lambda client: client.license_file(item.id))
        if text is not None and await write_signed_file(self, path, text):
            self.dismiss(str(path))
