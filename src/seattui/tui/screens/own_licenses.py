"""A customer's own licenses (`g y`), the one screen of a customer's own login: each license's
key, product, term, support end and device, filtered as you type; deactivate one from its
device (`D`, asked first) to move it to another, write its signed license file (`w`, asking
where, as on the licenses screen), and activate a machine that cannot reach the portal from its
request file (`A`). The portal answers this login with the customer's licenses
alone (portal/customer_access.py)."""

from __future__ import annotations

from functools import partial

from rich.table import Table
from rich.text import Text
from textual.widgets import Input

from seattui.domain.licensing import License, LicenseSort
from seattui.domain.text import printable
from seattui.tui import commands
from seattui.tui.changes import LICENSE_EDIT
from seattui.tui.screens.license_file_form import OfflineActivating, WritesLicenseFiles
from seattui.tui.screens.license_list import (
    MEDIUM, device_words, support_column, terms_words,
)
from seattui.tui.widgets.paged_table import Column


class OwnLicensesScreen(WritesLicenseFiles, OfflineActivating):
    SCOPE = "yours"
    BINDINGS = commands.screen_bindings(SCOPE)
    FILTER_HINT = "/ filter: key"
    MARKS = False  # one license at a time: nothing here acts on many

    def columns(self, width: int) -> list[Column]:
        columns = [
            Column(LicenseSort.KEY.value, "Key", width=19),
            Column(LicenseSort.PRODUCT.value, "Product", width=16 if width >= MEDIUM else 14),
            Column(LicenseSort.TERM.value, "Term", width=9),
            Column(LicenseSort.STATUS.value, "Device", width=17 if width >= MEDIUM else 15),
            support_column(width),
        ]
        if width >= MEDIUM:  # the edition and quantity are in the detail panel below otherwise
            columns[2:2] = [Column(LicenseSort.EDITION.value, "Edition", width=12),
                            Column(LicenseSort.QUANTITY.value, "Qty", width=5, justify="right")]
        return columns

    def caption(self) -> str:
        return f"Your licenses from {printable(self.seattui.who.organization)}" if self.seattui.who else "Your licenses"

    def _show_detail(self, license: License | None) -> None:
        # What the customer holds, without the organization's words (what it paid, its comment).
        self.detail_id = license.id if license else None
        self.show_detail(details(license, self))

    def license_words(self, license: License) -> str:
        return f"{self.text.product(license)} on {license.key}"  # a customer knows no license ids

    def action_back(self) -> None:
        """escape: out of the filter box; then clear the filter. This screen is the home."""
        box = self.query_one("#list-filter", Input)
        if box.has_focus:
            self.table.focus()
        elif self.filter != self.BASE_FILTER:
            box.value = ""
            self.filter = self.BASE_FILTER
            self.reload()

    # -- actions ----------------------------------------------------------------------------

    def action_release_device(self) -> None:
        license = self.table.current
        if license is None:
            return
        if license.device is None:
            self.notify(f"{self.text.product(license)} on {license.key} is not activated on any device.",
                        severity="warning")
            return
        self.start_write("release_device", partial(self._release, license))

    async def _release(self, license: License) -> None:
        assert license.device is not None
        device = printable(license.device.hostname or license.device.fingerprint)
        details_text = (f"{self.text.product(license)} on {device} stops being licensed at its next check; then "
                        "you can activate it on another device with the same key.")
        what = self.license_words(license)
        if not await self.confirm(f"Deactivate {what} from {device}?", details_text, confirm="Deactivate"):
            return
        released = await self.change(("release", license.id), lambda client, _key: client.release_device(license.id))
        if released is not None:
            self.table.replace_row(released)
            self._show_detail(released)
            self.notify(f"{what} is no longer activated on {device}.")
            self.seattui.announce_change(LICENSE_EDIT)


def details(license: License | None, screen: OwnLicensesScreen) -> Table | Text:
    if license is None:
        return Text("No license under the cursor.", style="dim")
    text = screen.text
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True, width=9)
    grid.add_column(ratio=1, overflow="fold")
    addons = printable(f" · add-ons: {', '.join(license.addons)}") if license.addons else ""
    grid.add_row("License", Text.assemble((license.key, "bold"), "  ", text.describe(license), addons))
    grid.add_row("Terms", terms_words(license, f"since {license.created_at:%Y-%m-%d}"))
    grid.add_row("Device", device_words(
        license, "not activated on a device: enter the key in the software to activate it"))
    return grid
