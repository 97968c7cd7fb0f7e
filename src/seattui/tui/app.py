"""SeattuiApp: the shell. Profiles and the session, the screens (one mode each, so a screen
keeps its state while you visit others), the command registry's keys, and the one path every
portal call takes: in a worker, with a login modal when the session runs out."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import gc
import logging
from dataclasses import replace
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.app import App, UnknownModeError
from textual.reactive import reactive
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import WorkerState

from seattui.config import Config, Profile, load_config, load_token, save_profile, save_token
from seattui.domain import errors
from seattui.domain.roles import Permission
from seattui.tui import commands, last_seen
from seattui.tui.changes import Area
from seattui.tui.palette import SeattuiCommands
from seattui.tui.screens.connect import ConnectScreen
from seattui.tui.styles import style

if TYPE_CHECKING:
    from seattui.client import PortalClient
    from seattui.client.connector import PortalConnector
    from seattui.domain.accounts import Session
    from seattui.tui.last_seen import LastSeen
    from seattui.tui.views import DashboardView, Who
    from seattui.domain.catalog import Catalog

T = TypeVar("T")
log = logging.getLogger("seattui.tui")

ConnectorFactory = Callable[[Profile], "PortalConnector"]
START = "start"


def _lazy(module: str, screen: str) -> Callable[[], Screen[Any]]:
    """A screen built from its module, imported when the screen first opens."""

    def build() -> Screen[Any]:
        return getattr(importlib.import_module(f"seattui.tui.screens.{module}"), screen)()  # type: ignore[no-any-return]

    return build


# Each screen of the registry is a mode of its own, imported when first opened: the first
# frame pays only for the connect screen.
SCREEN_FACTORIES: dict[str, Callable[[], Screen[Any]]] = {
    entry.id: _lazy(entry.module, entry.screen) for entry in commands.SCREENS
}
WRITE_GROUP = "write"


class SeattuiApp(App[None]):
    TITLE = "seattui"
    # The first screen's and the dashboard's styles come with the app's: every start shows
    # one and lands on the other, and a screen that brings a stylesheet of its own makes
    # Textual parse all of them again (10-20 ms each time).
    CSS_PATH = [style("app.tcss"), style("connect.tcss"), style("dashboard.tcss")]
    MODES: ClassVar[dict[str, Any]] = {START: ConnectScreen, **SCREEN_FACTORIES}
    DEFAULT_MODE = START
    BINDINGS = commands.bindings(commands.APP)
    COMMANDS = {SeattuiCommands}

    # Bumped whenever who is logged in changes; the status bar watches it.
    session_info: reactive[int] = reactive(0)
    balance: reactive[Decimal | None] = reactive(None)

    def __init__(
        self,
        connector_factory: ConnectorFactory,
        *,
        profile_name: str | None = None,
        config: Config | None = None,
    ) -> None:
        super().__init__()
        self.connector_factory = connector_factory
        self.config = config if config is not None else load_config()
        self.profile_name = profile_name or self.config.default_profile
        self.profile: Profile = self.config.profile(self.profile_name)
        self.connector: PortalConnector = connector_factory(self.profile)
        self.client: PortalClient | None = None
        self.who: Who | None = None  # who is logged in; None until someone is
        # The last session's dashboard while this session's is on its way (see last_seen.py).
        self.last_seen: LastSeen | None = None
        self._relogin: asyncio.Future[bool] | None = None
        self._catalog: Catalog | None = None
        # Every change a screen makes is published here; screens showing what it touched
        # subscribe (screens/base.py) and read that part again.
        self.data_changed: Signal[frozenset[Area]] = Signal(self, "data_changed")
        self.theme = "textual-dark"

    # -- the profile and the connection ---------------------------------------------------

    @property
    def portal_description(self) -> str:
        return self.connector.description

    @property
    def permissions(self) -> frozenset[Permission]:
        return self.who.permissions if self.who else frozenset()

    def on_mount(self) -> None:
        if self.config.keymap:
            self.set_keymap(self.config.keymap)

    def on_ready(self) -> None:
        # Connect once the first frame is on the terminal: opening an embedded portal imports
        # a lot, and would otherwise hold that frame back.
        start = self.get_screen_stack_base()
        if isinstance(start, ConnectScreen) and self.current_mode == START:
            start.reconnect()

    async def on_unmount(self) -> None:
        await self._close_client()

    async def open_client(self) -> PortalClient:
        """The client for the current profile, opening the portal (embedded) on first use."""
        if self.client is None:
            self.client = await self.connector.open(load_token(self.profile_name))
        return self.client

    async def _close_client(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await client.aclose()
        await self.connector.close()

    async def use_profile(self, name: str, profile: Profile) -> None:
        """Switch to another profile: forget this session and connect again."""
        await self._close_client()
        self.profile_name, self.profile = name, profile
        self.connector = self.connector_factory(profile)
        self.config = load_config()
        self._end_session()

    # -- the session ----------------------------------------------------------------------

    def begin_session(self, who: Who, session: Session | None = None, *, seen: LastSeen | None = None) -> None:
        """Someone is logged in: remember the token, show the dashboard.

        With `seen`, the session is the saved one, not yet checked: the dashboard shows the last
        session's figures at once and checks the session with its first request.
        """
        self.last_seen = seen
        if session is not None:
            save_token(self.profile_name, session.token)
            self.profile = replace(self.profile, login=who.login)
            save_profile(self.profile_name, self.profile)
        self.who = who
        self.session_info += 1
        _settle_garbage_collection()
        self.switch_mode(self.home_screen)

    @property
    def home_screen(self) -> str:
        """Where a session starts: the dashboard, or a customer's own licenses for their login."""
        return "yours" if Permission.OWN_LICENSES in self.permissions else "dashboard"

    def confirm_session(self, who: Who) -> None:
        """The saved session still works: who we are now, from the portal."""
        self.last_seen = None
        self.who = who
        self.session_info += 1
        _settle_garbage_collection()  # again: the portal's modules were imported meanwhile

    def remember_dashboard(self, view: DashboardView) -> None:
        if self.who is not None:
            last_seen.save(self.profile_name, self.portal_description, self.who, view)

    def _end_session(self) -> None:
        self.last_seen = None
        self.who = None
        self.balance = None
        self._catalog = None
        self.session_info += 1
        self.switch_mode(START)
        # Back to the first screen alone: a login or setup left from before would sit under
        # the one the next connection opens, and take what is typed for it.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        # Fresh screens for the next session: nothing one session read is shown to the next.
        for name, factory in SCREEN_FACTORIES.items():
            with contextlib.suppress(UnknownModeError):
                self.remove_mode(name)
            self.add_mode(name, factory)
        start = self.get_screen_stack_base()
        if isinstance(start, ConnectScreen):
            start.reconnect()

    def get_screen_stack_base(self) -> Any:
        return self.screen_stack[0] if self.screen_stack else None

    async def portal_call(self, call: Callable[[PortalClient], Awaitable[T]]) -> T:
        """Run a portal call; if the session ran out, ask for the password and try again.

        Must run in a worker (the login modal is awaited). The screen that asked keeps its
        state while the modal is up.
        """
        while True:
            client = await self.open_client()
            try:
                return await call(client)
            except errors.InvalidCredentials:
                raise
            except errors.Unauthenticated as error:
                # A disabled login is told why, above the password (which then answers the same).
                reason = error.message if isinstance(error, errors.LoginDisabled) else None
                if not await self._ask_to_log_in_again(reason):
                    raise

    async def _ask_to_log_in_again(self, reason: str | None = None) -> bool:
        from seattui.tui.screens.relogin import ReloginScreen

        if self._relogin is None:
            self._relogin = asyncio.get_running_loop().create_future()
            try:
                result = await self.push_screen_wait(ReloginScreen(reason))
            finally:
                future, self._relogin = self._relogin, None
            future.set_result(bool(result))
            if not result:
                # The portal refused the saved session and the user gave up: forget it, or the
                # next start would try it (and show its figures) again.
                save_token(self.profile_name, None)
                last_seen.forget(self.profile_name)
                self.call_later(self._end_session)
            return bool(result)
        return await asyncio.shield(self._relogin)

    def after_relogin(self, session: Session) -> None:
        save_token(self.profile_name, session.token)
        if self.client is not None:
            self.client.token = session.token
        from seattui.tui.views import Who

        self.who = Who.of(session.me)
        self.session_info += 1

    async def catalog(self) -> Catalog:
        """The portal's product catalog, read once per session (it changes only when the
        portal restarts with another catalog file). Call it from a worker."""
        if self._catalog is None:
            self._catalog = await self.portal_call(lambda client: client.catalog())
        return self._catalog

    def announce_change(self, areas: frozenset[Area] | set[Area], *, balance: Decimal | None = None) -> None:
        """A change went through: every open screen that shows any of `areas` reads it again.

        `balance` is the balance the portal answered with, when it did; else a change that
        touched credits reads the header's balance again.
        """
        touched = frozenset(areas)
        if balance is not None:
            self.balance = balance
        elif Area.CREDITS in touched and self.who is not None:
            self.run_worker(self.refresh_balance(), group="balance", exclusive=True, exit_on_error=False)
        self.data_changed.publish(touched)

    async def refresh_balance(self) -> None:
        try:
            self.balance = (await self.portal_call(lambda client: client.balance())).balance
        except errors.SeattuiError:
            pass  # the header keeps the last known balance; the screen that failed says why

    # -- actions (keys come from the command registry) ------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_screen":
            entry = commands.screen_entry(str(parameters[0])) if parameters else None
            return self.who is not None and entry is not None and (
                entry.needs is None or entry.needs in self.permissions)
        if action in ("logout", "jump", "go"):
            return self.who is not None
        return True

    def action_open_screen(self, screen_id: str) -> None:
        entry = commands.screen_entry(screen_id)
        if screen_id in SCREEN_FACTORIES and self.who is not None and entry is not None and (
                entry.needs is None or entry.needs in self.permissions):
            self.switch_mode(screen_id)

    def open_screen_with(self, screen_id: str, preset: str | None, **details: str) -> None:
        """Open a screen showing one list (a dashboard figure's), if the screen offers it; the
        wizard on a key (`details`: its product)."""
        self.action_open_screen(screen_id)
        show_preset = getattr(self.screen, "show_preset", None)
        if preset and show_preset is not None:
            show_preset(preset, **details)

    def action_help(self) -> None:
        from seattui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))

    def action_go(self) -> None:
        from seattui.tui.screens.go import GoScreen

        if isinstance(self.screen, GoScreen):
            return

        def go(screen_id: str | None) -> None:
            if screen_id:
                self.action_open_screen(screen_id)

        self.push_screen(GoScreen(self.permissions), go)

    def action_jump(self) -> None:
        from seattui.tui.screens.jump import JumpScreen

        def jump(screen_id: str | None) -> None:
            if screen_id:
                self.action_open_screen(screen_id)

        self.push_screen(JumpScreen(self.permissions), jump)

    def work_in_flight(self) -> bool:
        return any(
            worker.group == WRITE_GROUP and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for worker in self.workers
        )

    def action_quit_app(self) -> None:
        if not self.work_in_flight():
            self.exit()
            return
        from seattui.tui.screens.confirm import ConfirmScreen

        def decide(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self.exit()

        self.push_screen(
            ConfirmScreen("A change is still being applied.", "Quit anyway? The portal finishes or rolls "
                          "back the change on its own; check the result when you come back.", confirm="Quit"),
            decide,
        )

    def action_logout(self) -> None:
        self.run_worker(self._logout(), group="session", exclusive=True)

    async def _logout(self) -> None:
        try:
            if self.client is not None and self.client.token:
                await self.client.logout()
        except errors.SeattuiError as error:
            self.notify(f"The portal did not confirm the logout ({error.message}); the token is forgotten here.",
                        severity="warning")
        save_token(self.profile_name, None)
        last_seen.forget(self.profile_name)
        self._end_session()
        self.notify("Logged out.")

    def action_switch_profile(self) -> None:
        from seattui.tui.screens.profiles import ProfilesScreen

        async def switch(choice: tuple[str, Profile] | None) -> None:
            if choice is not None:
                await self.use_profile(*choice)

        self.push_screen(ProfilesScreen(self.profile_name), switch)


def _settle_garbage_collection() -> None:
    # Everything imported by now lives as long as the app: keep it out of the garbage
    # collector's full passes, and make those rarer (a drawn frame leaves thousands of
    # short-lived objects); each stopped the app for 100-200 ms now and then.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
