"""The support screen (`s`): permanent licenses by end of support, earliest first: all, expired
(`1`), ending within 30 days (`2`) or between two dates (`3`). `x` extends the support of the
marked licenses (or the cursor's) by whole years: one quote, one confirmation, one transaction;
`u` upgrades the license under the cursor (edition, quantity, add-ons), as on the licenses screen."""

from __future__ import annotations

from typing import ClassVar


from seattui.domain.dashboard import SUPPORT_ENDING_DAYS
from seattui.domain.licensing import BatchResult, LicenseFilter, LicenseSort, SupportWindow, Term
from seattui.domain.money import format_credits
from seattui.tui import commands
from seattui.tui.formatting import plural
from seattui.tui.screens.license_forms import DateRangeScreen, ExtendScreen, Upgrades
from seattui.tui.screens.license_list import MEDIUM, WIDE, LicenseListScreen, license_columns, support_column
from seattui.tui.widgets.paged_table import Column

PERMANENT = LicenseFilter(term=Term.PERMANENT)


class SupportScreen(Upgrades, LicenseListScreen):
    SCOPE = "support"
    BINDINGS = commands.screen_bindings(SCOPE)
    BASE_FILTER = PERMANENT
    DEFAULT_SORT = (LicenseSort.SUPPORT, False)
    PRESETS: ClassVar[dict[str, LicenseFilter]] = {
        "expired": PERMANENT.model_copy(update={"support": SupportWindow.EXPIRED}),
        "ending": PERMANENT.model_copy(update={"support": SupportWindow.ENDING}),
    }

    def columns(self, width: int) -> list[Column]:
        columns = [
            *license_columns(),
            support_column(width),
            Column("days", "Ends", width=13, sortable=False),
        ]
        if width >= MEDIUM:
            columns.insert(4, Column(LicenseSort.CUSTOMER.value, "Customer"))
        if width >= WIDE:
            columns.insert(5, Column("comment", "Comment", sortable=False))
        return columns

    def caption(self) -> str:
        wanted = self.filter
        if wanted.support is SupportWindow.EXPIRED:
            return "Support expired"
        if wanted.support is SupportWindow.ENDING:
            return f"Support ends within {SUPPORT_ENDING_DAYS} days"
        if wanted.support_from or wanted.support_to:
            return f"Support ends {wanted.support_from or '…'} to {wanted.support_to or '…'}"
        return "All permanent licenses by end of support"

    def _window(self, wanted: LicenseFilter) -> None:
        self.set_filter(wanted.model_copy(update={"q": self.filter.q}))

    def action_expired(self) -> None:
        self._window(self.PRESETS["expired"])

    def action_ending(self) -> None:
        self._window(self.PRESETS["ending"])

    def action_all(self) -> None:
        self._window(PERMANENT)

    def action_dates(self) -> None:
        def chosen(wanted: LicenseFilter | None) -> None:
            if wanted is not None:
                self.set_filter(wanted)

        self.app.push_screen(DateRangeScreen(self.filter), chosen)

    def action_extend(self) -> None:
        ids = self.target_ids()
        if ids:
            self.app.push_screen(ExtendScreen(ids), self._extended)

    def _extended(self, result: BatchResult | None) -> None:
        if result is None:
            return
        self.notify(f"Support extended for {plural(result.count, 'license')} for "
                    f"{format_credits(result.amount)} credits.")
        self.seattui.balance = result.balance_after
        self.table.clear_marks()
        self.reload()
