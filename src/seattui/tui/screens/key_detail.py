"""One activation key: its licenses and subscriptions. `c` copies the key, `a` assigns it
another license, `s` changes the channels of the subscription under the cursor."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Static

from seattui.domain.text import printable
from seattui.domain.catalog import Catalog
from seattui.domain.licensing import ActivationKey, KeyDetail, License, LicenseStatus, Subscription, Term
from seattui.domain.money import format_credits
from seattui.tui.changes import Area
from seattui.tui import commands
from seattui.tui.formatting import copy_key, plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.paged_table import Cell, Column, PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

ENDED = (LicenseStatus.TRIAL_ENDED, LicenseStatus.TERM_ENDED)
UNSORTED = ("", False)  # no column is the sort column
LICENSE_COLUMNS = (
    Column("id", "Id", width=5, justify="right", sortable=False),
    Column("product", "Product", min_width=10, sortable=False),
    Column("term", "Term", width=9, sortable=False),
    Column("quantity", "Qty", width=5, justify="right", sortable=False),
    Column("status", "Status", width=9, sortable=False),
    Column("ends", "Ends", width=10, sortable=False),
    Column("customer", "Customer", min_width=8, sortable=False),
)
SUBSCRIPTION_COLUMNS = (
    Column("id", "Id", width=5, justify="right", sortable=False),
    Column("product", "Product", min_width=10, sortable=False),
    Column("channels", "Channels", width=8, justify="right", sortable=False),
    Column("period", "Paid to", width=10, sortable=False),
    Column("paid", "Paid", width=10, justify="right", sortable=False),
    Column("customer", "Customer", min_width=8, sortable=False),
)


def product_name(catalog: Catalog | None, product_id: str, edition_id: str | None = None) -> str:
    product = catalog.find(product_id) if catalog else None
    if product is None:
        return product_id
    edition = next((e.name for e in product.editions if e.id == edition_id), "")
    return f"{product.name} {edition}".strip()


def license_ends(license: License) -> str:
    day = {Term.TRIAL: license.trial_ends_on, Term.PERMANENT: license.support_ends_on}.get(
        license.term, license.term_ends_on)
    return day.isoformat() if day else ""


class KeyDetailScreen(PortalScreen):
    SHOWS = frozenset({Area.KEYS, Area.LICENSES, Area.SUBSCRIPTIONS})
    SCOPE = "key"
    CSS_PATH = style("key_detail.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self, key: ActivationKey) -> None:
        super().__init__()
        self.key = key
        self.detail: KeyDetail | None = None
        self.catalog: Catalog | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="key-heading")
        yield Problem(id="key-problem")
        yield Static("", id="licenses-title", classes="section")
        # Newest first, as the portal sends them; these short lists are not sorted again.
        yield PagedTable[License](LICENSE_COLUMNS, row_key=lambda row: row.id, cells=self._license_cells, sort=UNSORTED,
                                  empty_text="No licenses on this key; a assigns one.", id="key-licenses")
        yield Static("", id="subscriptions-title", classes="section")
        yield PagedTable[Subscription](SUBSCRIPTION_COLUMNS, row_key=lambda row: row.id,
                                       cells=self._subscription_cells, sort=UNSORTED,
                                       empty_text="No subscriptions on this key.",
                                       id="key-subscriptions")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show_heading()
        self.query_one("#key-licenses").focus()
        self.action_refresh()

    def _show_heading(self) -> None:
        key = self.detail.key if self.detail else self.key
        heading = Text.assemble((key.key, "bold"), "  ", printable(key.name) or ("(no name)", "dim"),
                                (f"  · created {key.created_at:%Y-%m-%d}", "dim"))
        self.query_one("#key-heading", Static).update(heading)
        self.query_one("#licenses-title", Static).update(f"Licenses ({key.license_count:,})")
        self.query_one("#subscriptions-title", Static).update(f"Subscriptions ({key.subscription_count:,})")

    def _license_cells(self, license: License) -> Sequence[Cell]:
        status = license.status.value.replace("_", " ")
        return (
            str(license.id),
            product_name(self.catalog, license.product_id, license.edition_id),
            license.term.value,
            f"{license.quantity:,}",
            Text(status, style="dim" if license.status in ENDED else ""),
            license_ends(license),
            license.customer_email or "",
        )

    def _subscription_cells(self, subscription: Subscription) -> Sequence[Cell]:
        return (
            str(subscription.id),
            product_name(self.catalog, subscription.product_id),
            f"{subscription.channels:,}",
            subscription.period_ends_on.isoformat(),
            format_credits(subscription.paid),
            subscription.customer_email or "",
        )

    def action_refresh(self) -> None:
        self._load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def _load(self) -> None:
        if self.catalog is None:
            self.catalog = await self.call_portal(lambda client: client.catalog())
        detail = await self.call_portal(lambda client: client.key(self.key.id))
        if detail is None:
            return
        self.detail = detail
        self._show_heading()
        # Read again after a change: the cursor stays on its row.
        self.query_one("#key-licenses", PagedTable).reset(detail.licenses, keep_place=True)
        self.query_one("#key-subscriptions", PagedTable).reset(detail.subscriptions, keep_place=True)
        shown = len(detail.licenses)
        if shown < detail.key.license_count:
            self.query_one("#licenses-title", Static).update(
                f"Licenses (the newest {plural(shown, 'license')} of {detail.key.license_count:,})")
        self.refresh_bindings()

    @property
    def subscription(self) -> Subscription | None:
        table = self.query_one("#key-subscriptions", PagedTable)
        return table.current if table.has_focus else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "change_channels" and self.subscription is None:
            return False
        return super().check_action(action, parameters)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def action_copy_key(self) -> None:
        copy_key(self, self.key.key)

    def action_assign(self) -> None:
        self.seattui.open_screen_with("assign", self.key.key)

    def action_rename(self) -> None:
        from seattui.tui.screens.key_form import KeyFormScreen

        def renamed(key: ActivationKey | None) -> None:
            if key is not None:  # the form announced the change, which reads the key again
                self.key = key

        self.app.push_screen(KeyFormScreen(self.detail.key if self.detail else self.key), renamed)

    def action_change_channels(self) -> None:
        from seattui.tui.screens.channels import ChannelsScreen

        subscription = self.subscription
        if subscription is None:
            return

        def changed(result: Subscription | None) -> None:
            if result is not None:
                self.query_one("#key-subscriptions", PagedTable).replace_row(result)
                self.notify(f"The subscription has {plural(result.channels, 'channel')} now.", timeout=4)

        name = product_name(self.catalog, subscription.product_id)
        self.app.push_screen(ChannelsScreen(subscription, name), changed)
