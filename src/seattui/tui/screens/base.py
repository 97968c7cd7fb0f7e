"""What every screen of the app shares: its commands from the registry, the typed app, and
portal calls that turn errors into words on the screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events
from textual.actions import SkipAction
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from seattui.domain import errors
from seattui.tui import commands
from seattui.tui.changes import Area
from seattui.tui.problems import describe
from seattui.tui.widgets.problem import Problem
from seattui.tui.widgets.typed_ahead import TypedAhead

if TYPE_CHECKING:
    from seattui.client import PortalClient
    from seattui.tui.app import SeattuiApp

T = TypeVar("T")
R = TypeVar("R")
WRITE_GROUP = "write"  # the app's quit asks first while a worker of this group runs


class PortalCalls:
    """What full screens and modals that talk to the portal share.

    tab and shift+tab move between fields as they are pressed (priority bindings, from the
    registry's "fields" scope), through the screen's one `TypedAhead`: the text typed right
    after them goes in the field they move to, and a key typed just before them still reaches
    the field being left. A screen moving the focus in answer to a key of its own (the wizard's
    enter) calls `self.after_typed(move)` likewise."""

    SCOPE: ClassVar[str] = ""
    app: Any
    query: Any
    notify: Any
    mount: Any
    focus_next: Any
    focus_previous: Any

    @property
    def typed_ahead(self) -> TypedAhead | None:
        """The screen's one TypedAhead, once a move between fields has needed it."""
        return self.__dict__.get("_typed_ahead")

    async def after_typed(self, then: Callable[[], None]) -> None:
        """`then` once the keys typed so far have reached the focused field."""
        ahead = self.typed_ahead
        if ahead is None:
            # Mounted at the first move, not with the screen: a widget mounted as the screen
            # mounts held its first frame back (the app's first frame came 140 ms later).
            # The app waits for this action, so the keys typed after it are not read meanwhile.
            self.__dict__["_typed_ahead"] = ahead = TypedAhead()
            await self.mount(ahead)
        ahead.after_typed(then)

    async def action_next_field(self) -> None:
        await self.move_between_fields(self.focus_next)

    async def action_previous_field(self) -> None:
        await self.move_between_fields(self.focus_previous)

    async def move_between_fields(self, move: Callable[[], object]) -> None:
        if not self.taking_keys:
            return  # dropped, as every key typed before the screen is ready

        def then() -> None:
            move()

        await self.after_typed(then)

    @property
    def taking_keys(self) -> bool:
        return True

    def on_typed_ahead_reached(self, message: TypedAhead.Reached) -> None:
        message.stop()
        if (ahead := self.typed_ahead) is not None:
            ahead.reached(message.then)

    async def on_key(self, event: events.Key) -> None:
        if (ahead := self.typed_ahead) is not None and await ahead.settle(event):
            event.stop()
            event.prevent_default()

    @property
    def seattui(self) -> SeattuiApp:
        return self.app  # type: ignore[no-any-return]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        command = commands.find(self.SCOPE, action)
        if command is not None and not commands.allowed(command, self.seattui.permissions):
            return False
        if action in self.writes_running:
            return None  # greyed out in the footer until the change it started is done
        return True

    # -- changes ------------------------------------------------------------------------------

    @property
    def writes_running(self) -> set[str]:
        """The actions whose change is on its way."""
        running: set[str] | None = self.__dict__.get("_writes_running")
        if running is None:
            running = self.__dict__["_writes_running"] = set()
        return running

    def start_write(self, action: str, change: Callable[[], Awaitable[Any]]) -> bool:
        """Run a change the user asked for with `action`'s key: in the app's write group (so `q`
        asks before quitting), never exclusive, so no other action cancels it; that key is
        greyed out until the change is done. False if that change is already on its way."""
        running = self.writes_running
        if action in running:
            return False
        running.add(action)
        self.refresh_bindings()

        async def write() -> None:
            try:
                await change()
            finally:
                running.discard(action)
                self.refresh_bindings()

        self.run_worker(write, group=WRITE_GROUP, name=action, exit_on_error=False)
        return True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker of the screen runs with exit_on_error=False: one that failed
        unexpectedly is said here, in words, and the app goes on."""
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        message, hint = describe(event.worker.error)
        problem = self.problem() if self.is_mounted else None  # type: ignore[attr-defined]
        if problem is not None:
            problem.say(message, hint)
        else:
            self.notify(f"{message} {hint}", severity="error", timeout=8)

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
    """A full screen of the app. Keys typed before it is ready (composed, mounted, focused) are
    dropped rather than run against whatever has the focus then; `focus_input` moves the focus
    into a text box at once, so the text typed right after the key that asked for it goes in."""

    BINDINGS = commands.bindings(commands.FIELDS)
    # The areas this screen shows (changes.py): a change to any of them makes it read them again.
    SHOWS: ClassVar[frozenset[Area]] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self.stale: frozenset[Area] = frozenset()
        # A new screen takes its styles when it mounts (its own stylesheet is read then, and
        # the app's re-parsed if it is new). Textual 8.2 also counts a mode's new screen as
        # "styles out of date" and re-parses every stylesheet again as it opens: 40-100 ms of
        # a list screen's first frame. This says it is up to date, which it is. (A private
        # attribute: textual is pinned exactly, and tests/test_framework_pins.py fails when it goes.)
        self._css_update_count = self.app._css_update_count
        self._ready_at: float | None = None  # when the screen began to take keys
        self._holding = False  # keys are held for a screen being opened from this one
        self._held_focus: Widget | None = None

    def on_mount(self) -> None:
        if self.SHOWS:
            self.seattui.data_changed.subscribe(self, self.note_change)
        # After the focus its on_mount gave (Widget.focus waits for the app's next turn).
        self.app.call_later(self._now_ready)

    def _now_ready(self) -> None:
        # On the clock events are stamped with: a message made now carries its time.
        self._ready_at = Message().time

    @property
    def ready(self) -> bool:
        """Whether the screen takes keys (the ones typed before are dropped)."""
        return self._ready_at is not None

    @property
    def taking_keys(self) -> bool:
        return self.ready

    def on_key(self, event: events.Key) -> None:
        if self._ready_at is None or event.time < self._ready_at:
            event.stop()  # typed before the screen was there to read it: it would hit the wrong target
            event.prevent_default()

    def focus_input(self, box: Widget) -> None:
        """Focus a text box at once (a `priority` binding calls this): the keys typed after the
        one that asked go into it. In a text box already, the key is text: it goes in."""
        if isinstance(self.focused, Input) or not self.is_mounted or self._holding:
            raise SkipAction()
        self.set_focus(box)

    def note_change(self, areas: frozenset[Area]) -> None:
        touched = areas & self.SHOWS
        if not touched:
            return
        self.stale |= touched
        if self.app.screen is self:
            self.apply_changes()

    @contextmanager
    def keys_held(self) -> Iterator[None]:
        """Around the wait before this screen opens another: the keys typed meanwhile are aimed
        at that screen, which is not up yet, so they are dropped here (the focus leaves its
        field, as a text box would take the text first). They stay held until this screen
        comes back, or at once when the block ends without opening anything."""
        self._ready_at = None
        self._holding = True
        held, self._held_focus = self.focused, None
        self.set_focus(None)
        try:
            yield
        finally:
            self._held_focus = held
            if self.app.screen is self:
                self.release_keys()

    def release_keys(self) -> None:
        held, self._held_focus, self._holding = self._held_focus, None, False
        if held is not None and held.is_attached:
            self.set_focus(held, scroll_visible=False)
        self.app.call_later(self._now_ready)

    def on_screen_resume(self) -> None:
        if self._holding:
            self.release_keys()
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

    BINDINGS = commands.bindings(commands.FIELDS)


def ids(*names: Any) -> str:
    return " ".join(f"#{name}" for name in names)


def focus_next(screen: Any, names: list[str], current: str | None) -> bool:
    """Enter in a form: focus the field after `current`; False when it was the last one."""
    index = names.index(current or names[0])
    if index + 1 < len(names):
        screen.query_one(f"#{names[index + 1]}").focus()
        return True
    return False
