"""What every screen of the app shares: its commands from the registry, the typed app, and
portal calls that turn errors into words on the screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.screen import ModalScreen, Screen

from seattui.domain import errors
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.problems import describe
from seattui.tui.widgets.problem import Problem

if TYPE_CHECKING:
    from seattui.client import PortalClient
    from seattui.tui.app import SeattuiApp

T = TypeVar("T")
R = TypeVar("R")


class PortalCalls:
    """What full screens and modals that talk to the portal share."""

    SCOPE: ClassVar[str] = ""
    app: Any
    query: Any
    notify: Any

    @property
    def seattui(self) -> SeattuiApp:
        return self.app  # type: ignore[no-any-return]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        command = commands.find(self.SCOPE, action)
        if command is not None and not commands.allowed(command, self.seattui.permissions):
            return False
        return True

    def problem(self) -> Problem | None:
        found = self.query(Problem)
        return found.first() if found else None

    async def call_portal(
        self,
        call: Callable[[PortalClient], Awaitable[T]],
        *,
        retry_key: str = "ctrl+r",
        raising: tuple[type[errors.SeattuiError], ...] = (),
    ) -> T | None:
        """Call the portal from a worker; on failure say why on this screen and return None.

        Errors of the `raising` types go back to the caller instead, which answers them itself
        (a taken key beside its field, a balance that changed since the quote).
        """
        problem = self.problem()
        try:
            result = await self.seattui.portal_call(call)
        except errors.Unauthenticated:
            return None  # the session ended; the app is back at the login
        except raising:
            if problem is not None:
                problem.clear()
            raise
        except Exception as error:  # every failure becomes words on the screen
            message, hint = describe(error, retry_key=retry_key)
            if problem is not None:
                problem.say(message, hint)
            else:
                self.notify(f"{message} {hint}", severity="error", timeout=8)
            return None
        if problem is not None:
            problem.clear()
        return result


class PortalScreen(PortalCalls, Screen[None]):
    # The areas this screen shows (changes.py): a change to any of them makes it read them again.
    SHOWS: ClassVar[frozenset[Area]] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self.stale: frozenset[Area] = frozenset()
        # A new screen takes its styles when it mounts (its own stylesheet is read then, and
        # the app's re-parsed if it is new). Textual 8.2 also counts a mode's new screen as
        # "styles out of date" and re-parses every stylesheet again as it opens: 40-100 ms of
        # a list screen's first frame. This says it is up to date, which it is. (A private
        # attribute: textual is pinned below 9 in pyproject.toml.)
        self._css_update_count = self.app._css_update_count

    def on_mount(self) -> None:
        if self.SHOWS:
            self.seattui.data_changed.subscribe(self, self.note_change)

    def note_change(self, areas: frozenset[Area]) -> None:
        touched = areas & self.SHOWS
        if not touched:
            return
        self.stale |= touched
        if self.app.screen is self:
            self.apply_changes()

    def on_screen_resume(self) -> None:
        if self.stale:
            self.apply_changes()

    def apply_changes(self) -> None:
        areas, self.stale = self.stale, frozenset()
        self.refresh_areas(areas)

    def refresh_areas(self, areas: frozenset[Area]) -> None:
        """Read again what a change touched; a screen that shows several parts reads only those."""
        refresh = getattr(self, "action_refresh", None)
        if refresh is not None:
            refresh()


class PortalModal(PortalCalls, ModalScreen[R]):
    """A dialog over a screen (a form, a quote) that calls the portal itself."""


def ids(*names: Any) -> str:
    return " ".join(f"#{name}" for name in names)


def focus_next(screen: Any, names: list[str], current: str | None) -> bool:
    """Enter in a form: focus the field after `current`; False when it was the last one."""
    index = names.index(current or names[0])
    if index + 1 < len(names):
        screen.query_one(f"#{names[index + 1]}").focus()
        return True
    return False
