"""Activation keys: every key of the organization with its license and subscription counts.
`/` filters as you type, `n` creates a key, `c` copies one (OSC 52, so it works over SSH),
enter opens a key's licenses and subscriptions, `a` starts the wizard with the key filled in."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from seattui.domain.licensing import ActivationKey, KeyHolds
from seattui.tui.changes import Area
from seattui.tui import commands
from seattui.tui.formatting import copy_key, plural
from seattui.tui.screens.base import PortalScreen
from seattui.tui.styles import style
from seattui.tui.widgets.key_footer import KeyFooter
from seattui.tui.widgets.key_list import KeyList
from seattui.tui.widgets.paged_table import PagedTable
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from seattui.client import PortalClient

PRESETS = {"subscriptions": KeyHolds.SUBSCRIPTIONS, "licenses": KeyHolds.LICENSES, "unused": KeyHolds.NOTHING}


class KeysScreen(PortalScreen):
    SHOWS = frozenset({Area.KEYS, Area.LICENSES, Area.SUBSCRIPTIONS})
    SCOPE = "keys"
    CSS_PATH = style("keys.tcss")
    BINDINGS = commands.screen_bindings(SCOPE)

    def __init__(self) -> None:
        super().__init__()
        self._preset: str | None = None  # asked for before the screen was mounted
        self._ready = False

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="keys-preset")
        yield Problem(id="keys-problem")
        yield KeyList(id="keys")
        yield KeyFooter()

    @property
    def key_list(self) -> KeyList:
        return self.query_one(KeyList)

    def on_mount(self) -> None:
        self._ready = True
        preset, self._preset = self._preset, None
        self._say_preset(preset)
        self.key_list.holds = PRESETS.get(preset or "")
        self.key_list.table.focus()
        self.key_list.reload()

    def _say_preset(self, preset: str | None) -> None:
        label = self.query_one("#keys-preset", Static)
        shown = preset in PRESETS
        label.update(f"Keys with {preset} · escape shows every key" if shown else "")
        label.display = shown

    def show_preset(self, preset: str) -> None:
        """From the dashboard: "subscriptions" (keys that hold one), or "all"."""
        if not self._ready:
            self._preset = preset
            return
        key_list = self.key_list
        self._say_preset(preset)
        key_list.holds = PRESETS.get(preset)
        with key_list.prevent(Input.Changed):
            key_list.filter_input.value = ""
        key_list.reload()
        key_list.table.focus()

    @property
    def current(self) -> ActivationKey | None:
        return self.key_list.table.current

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy_key", "assign", "rename", "delete") and self.current is None:
            return False
        return super().check_action(action, parameters)

    def on_paged_table_highlighted(self, _message: PagedTable.Highlighted) -> None:
        self.refresh_bindings()

    def on_paged_table_selected(self, message: PagedTable.Selected) -> None:
        from seattui.tui.screens.key_detail import KeyDetailScreen

        self.app.push_screen(KeyDetailScreen(message.row))

    @on(Input.Submitted, ".key-filter")
    def _filter_done(self) -> None:
        self.key_list.table.focus()

    def action_filter(self) -> None:
        self.focus_input(self.key_list.filter_input)

    def action_back(self) -> None:
        key_list = self.key_list
        if isinstance(self.focused, Input):
            key_list.table.focus()
        elif key_list.filter_text or key_list.holds is not None:
            self.show_preset("all")
        else:
            self.seattui.action_open_screen("dashboard")

    def action_refresh(self) -> None:
        self.key_list.reload()

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        self.key_list.reload(keep_place=True)

    def action_new_key(self) -> None:
        from seattui.tui.screens.key_form import KeyFormScreen

        def created(key: ActivationKey | None) -> None:
            if key is not None:
                self.key_list.show_new(key)
                self.key_list.table.focus()
                self.notify(f"Created {key.key}. c copies it, a assigns a license to it.", timeout=5)

        self.app.push_screen(KeyFormScreen(), created)

    def action_copy_key(self) -> None:
        if self.current is not None:
            copy_key(self, self.current.key)

    def action_assign(self) -> None:
        if self.current is not None:
            self.seattui.open_screen_with("assign", self.current.key)

    def action_rename(self) -> None:
        from seattui.tui.screens.key_form import KeyFormScreen

        def renamed(key: ActivationKey | None) -> None:
            if key is not None:
                self.key_list.table.replace_row(key)

        if self.current is not None:
            self.app.push_screen(KeyFormScreen(self.current), renamed)

    def action_delete(self) -> None:
        from seattui.tui.screens.confirm import ConfirmScreen

        targets = self.key_list.table.targets()
        held = [key for key in targets if key.in_use]
        free = [key for key in targets if not key.in_use]
        if not free:
            self.query_one(Problem).say(
                f"{plural(len(held), 'key')} {'holds' if len(held) == 1 else 'hold'} licenses or subscriptions "
                "and cannot be deleted: delete or move what is on a key first, then delete the key.")
            return
        shown = ", ".join(key.key for key in free[:6]) + (" …" if len(free) > 6 else "")
        skipped = (f" {plural(len(held), 'key')} that {'holds' if len(held) == 1 else 'hold'} licenses or "
                   f"subscriptions {'stays' if len(held) == 1 else 'stay'}." if held else "")

        def decide(yes: bool | None) -> None:
            if yes:
                self.start_write("delete", partial(self._delete, free))

        self.app.push_screen(
            ConfirmScreen(f"Delete {plural(len(free), 'key')}?", f"{shown}.{skipped} This cannot be undone.",
                          confirm="Delete"),
            decide,
        )

    async def _delete(self, keys: list[ActivationKey]) -> None:
        deleted: list[int] = []
        for key in keys:
            async def delete(client: PortalClient, key_id: int = key.id) -> bool:
                await client.delete_key(key_id)
                return True

            if not await self.call_portal(delete, retry_key="delete"):
                break  # the portal's reason is on the screen; the remaining keys stay
            deleted.append(key.id)
        self.key_list.table.unmark_keys(deleted)
        self.key_list.forget(deleted)
        if deleted:
            self.notify(f"Deleted {plural(len(deleted), 'key')}.", timeout=4)
            self.seattui.announce_change({Area.KEYS})
