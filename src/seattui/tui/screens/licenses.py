"""The licenses screen (`l`): every license of the organization, however many, filtered as you
type and by facets, sorted by any column, with the row under the cursor in full below.
Upgrade (`u`), edit (`e`), delete the marked ones or the cursor's (`delete`, refunded as the
catalog's refund policy says, which the confirmation shows first),
force a license off its device (`D`), write its signed license file (`w`), activate a
machine offline from its request file (`A`), and reassign a license with its key to one of the
organization's child accounts (`r`)."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from rich.console import Group
from rich.text import Text

from seattui.domain.licensing import BatchResult, License, LicenseFilter, LicenseSort, LicenseStatus
from seattui.domain.money import format_credits
from seattui.tui.changes import LICENSE_EDIT, PURCHASE, TO_CHILD
from seattui.tui import commands
from seattui.tui.formatting import plural
from seattui.tui.screens.license_forms import EditScreen, FacetScreen, Upgrades, facets_text
from seattui.tui.screens.license_file_form import OfflineActivating, WritesLicenseFiles
from seattui.tui.screens.license_list import MEDIUM, WIDE, license_columns, support_column
from seattui.tui.widgets.quote_view import refund_renderable
from seattui.tui.widgets.paged_table import Column, PagedTable


class LicensesScreen(Upgrades, WritesLicenseFiles, OfflineActivating):
    SCOPE = "licenses"
    BINDINGS = commands.screen_bindings(SCOPE)
    PRESETS: ClassVar[dict[str, LicenseFilter]] = {
        "trials_ending": LicenseFilter(trial_ending=True),
        "trials_ended": LicenseFilter(status=LicenseStatus.TRIAL_ENDED),
    }

    def columns(self, width: int) -> list[Column]:
        columns = [
            *license_columns(),
            Column(LicenseSort.STATUS.value, "Status", width=17 if width >= MEDIUM else 14),
            support_column(width),
        ]
        if width >= MEDIUM:
            columns[4:4] = [Column(LicenseSort.TERM.value, "Term", width=9), Column(LicenseSort.CUSTOMER.value, "Customer")]
        if width >= WIDE:
            columns.insert(6, Column("comment", "Comment", sortable=False))
        return columns

    def caption(self) -> str:
        return "Licenses"

    def scope_text(self) -> Text:
        return facets_text(self.filter, self.text.catalog)

    # -- actions ----------------------------------------------------------------------------

    def action_facets(self) -> None:
        def chosen(wanted: LicenseFilter | None) -> None:
            if wanted is not None:
                self.set_filter(wanted)

        self.app.push_screen(FacetScreen(self.filter, self.text.catalog), chosen)

    def on_paged_table_selected(self, message: PagedTable.Selected) -> None:
        if self.check_action("edit", ()):  # enter edits, for those who may
            self.action_edit()

    def action_edit(self) -> None:
        license = self.table.current
        if license is None:
            return
        self.app.push_screen(EditScreen(license, self.text), self._changed)

    def _changed(self, license: License | None) -> None:
        if license is not None:
            self.table.replace_row(license)
            self.notify(f"License {license.id} saved.")

    def action_delete(self) -> None:
        ids = self.target_ids()
        if ids:
            self.start_write("delete", partial(self._delete, ids))

    async def _delete(self, ids: list[int]) -> None:
        # The portal's plan first: it refuses a batch holding an activated license, naming the device.
        quote = await self.call_portal(lambda client: client.quote_deletion(ids))
        if quote is None:
            return
        title = f"Delete {plural(len(ids), 'license')}?"
        shown = [row for row in self.table.rows if row.id in set(ids)][:4]
        details = Text("".join(f"{row.key} · {self.text.describe(row)}\n" for row in shown))
        if len(ids) > len(shown):
            details.append(f"and {len(ids) - len(shown):,} more\n")
        # What comes back (or why nothing does) is the portal's refund rule, the one the deletion applies.
        if not await self.confirm(title, Group(details, refund_renderable(quote)), confirm="Delete"):
            return
        result: BatchResult | None = await self.change(("delete", ids),
                                                        lambda client, key: client.delete_licenses(ids, idempotency_key=key))
        if result is None:
            return
        self.table.remove_keys(ids)
        refund = f"; {format_credits(-result.amount)} credits refunded" if result.amount else ""
        self.notify(f"Deleted {plural(result.count, 'license')}{refund}.")
        self._show_summary()
        self.seattui.announce_change(PURCHASE, balance=result.balance_after)

    def action_release_device(self) -> None:
        license = self.table.current
        if license is None:
            return
        if license.device is None:
            self.notify(f"License {license.id} is not activated on any device.", severity="warning")
            return
        self.start_write("release_device", partial(self._release, license))

    async def _release(self, license: License) -> None:
        assert license.device is not None
        device = license.device.hostname or license.device.fingerprint
        details = (f"The licensed software on {device} stops being licensed at its next check, and another "
                   f"device may then activate {license.key}. The audit records that you did this.")
        if not await self.confirm(f"Deactivate license {license.id} from {device}?", details, confirm="Deactivate"):
            return
        released = await self.change(("release", license.id), lambda client, _key: client.release_device(license.id))
        if released is not None:
            self.table.replace_row(released)
            self.notify(f"License {license.id} is no longer activated on {device}.")
            self.seattui.announce_change(LICENSE_EDIT)

    def action_move_to_child(self) -> None:
        license = self.table.current
        if license is None:
            return
        if license.device is not None:
            device = license.device.hostname or license.device.fingerprint
            self.notify(f"License {license.id} is activated on {device}: deactivate it (D) first; a license on a "
                        "device is not moved.", severity="warning")
            return
        self.start_write("move_to_child", partial(self._move_to_child, license))

    async def _move_to_child(self, license: License) -> None:
        from textual.widgets.option_list import Option

        from seattui.domain.text import printable
        from seattui.tui.screens.seat_pick import SeatPickScreen

        with self.keys_held():
            children = await self.call_portal(lambda client: client.children())
        if children is None:
            return
        if not children:
            self.notify("You have no child accounts yet: create one on the child accounts screen (g r, then n).",
                        severity="warning")
            return
        options = [Option(Text.assemble((printable(child.name), "bold"), f"  {child.usage.licenses:,} licenses"),
                          id=str(child.id)) for child in children]
        picked = await self.app.push_screen_wait(SeatPickScreen(
            f"Reassign license {license.id} ({license.key}) to which child account?", options))
        if picked is None:
            return
        child = next(child for child in children if str(child.id) == picked)
        details = Text(f"{license.key} · {self.text.describe(license)}\n\nThe license and its activation key become "
                       f"{printable(child.name)}'s: its members see them, you no longer do. What the child buys is "
                       "paid by you. The audit of both organizations records the move.")
        if not await self.confirm(f"Reassign license {license.id} to {printable(child.name)}?", details,
                                  confirm="Reassign"):
            return
        moved = await self.change(("to_child", license.id, child.id), lambda client, key: client.move_license_to_child(
            child.id, license.id, idempotency_key=key))
        if moved is None:
            return
        self.table.remove_keys([license.id])
        self.notify(f"License {license.id} and its key {moved.key} are now {printable(moved.child)}'s.")
        self._show_summary()
        self.seattui.announce_change(TO_CHILD)

