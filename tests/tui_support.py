"""Driving the terminal app in tests: a connector onto the test portal, the app built on a
test profile, waiting for what a person would wait for, and reading the screen as text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.message import Message
from textual.pilot import Pilot
from textual.worker import Worker

from seattui.client import PortalClient
from seattui.config import Profile, save_profile, save_token
from seattui.tui.app import SeattuiApp

from harness import PortalHarness


class HarnessConnector:
    """Hands the app clients of the in-process test portal, as the embedded connector would."""

    def __init__(self, harness: PortalHarness, **client_options: Any) -> None:
        self.harness = harness
        self.client_options = client_options
        self.opened = 0

    @property
    def description(self) -> str:
        return "test portal"

    async def open(self, token: str | None) -> PortalClient:
        self.opened += 1
        return self.harness.client(token, **self.client_options)

    async def close(self) -> None:
        return None


def make_app(
    harness: PortalHarness | None = None,
    *,
    connector: Any = None,
    token: str | None = None,
    login: str | None = None,
    profile: str = "test",
) -> SeattuiApp:
    save_profile(profile, Profile(portal="embedded", login=login))
    save_token(profile, token)
    chosen = connector if connector is not None else HarnessConnector(harness)  # type: ignore[arg-type]
    return SeattuiApp(lambda _profile: chosen, profile_name=profile)


def screen_text(app: SeattuiApp) -> str:
    """What the terminal shows now, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], *, timeout: float = 15, what: str = "") -> None:
    """Let the app run until `predicate` holds; fail with the screen's text if it never does."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)


async def until_screen(pilot: Pilot[Any], screen_type: type, *, timeout: float = 15) -> Any:
    """Wait until a screen of this type is on top, composed and taking keys; return it."""
    await until(pilot, lambda: isinstance(pilot.app.screen, screen_type) and pilot.app.screen.is_mounted
                and getattr(pilot.app.screen, "ready", True), timeout=timeout, what=screen_type.__name__)
    return pilot.app.screen


_FRAME = str.maketrans({char: " " for char in "│╭╮╰╯─▊▎▔▁┃━"})


def flat(text: str) -> str:
    """Text with frames and line breaks folded to single spaces, so wrapped sentences match."""
    return " ".join(text.translate(_FRAME).split())


def shows(app: SeattuiApp, text: str) -> bool:
    return flat(text) in flat(screen_text(app))


async def until_text(pilot: Pilot[Any], text: str, *, timeout: float = 15) -> None:
    await until(pilot, lambda: shows(pilot.app, text), timeout=timeout, what=repr(text))


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(char, char) for char in text])


def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Keys as a terminal delivers fast typing (one SSH packet): all queued before the app
    handles the first."""
    for key in keys:
        character = {"enter": "\r", "space": " ", "escape": "\x1b", "tab": "\t"}.get(
            key, key if len(key) == 1 else None)
        pilot.app.post_message(events.Key(key, character))


async def log_in(pilot: Pilot[Any], login: str, password: str) -> None:
    from seattui.tui.screens.login import LoginScreen

    await until_screen(pilot, LoginScreen)
    login_input = pilot.app.screen.query_one("#login")
    login_input.value = ""
    login_input.focus()
    await type_text(pilot, login)
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.screen.query_one("#password").display, what="the password field")
    await type_text(pilot, password)
    await pilot.press("enter")


def slow_answers(client: PortalClient, method: str, seconds: float) -> None:
    """Make one of the app's client methods slow, as a loaded portal is: the portal does the work
    at once, its answer comes back `seconds` later."""
    real = getattr(client, method)

    async def slow(*args: Any, **kwargs: Any) -> Any:
        answer = await real(*args, **kwargs)
        await asyncio.sleep(seconds)
        return answer

    setattr(client, method, slow)


def toasts(messages: list[Any]) -> list[str]:
    """The notifications among the messages recorded with run_test(message_hook=messages.append)."""
    from textual.notifications import Notify

    return [str(message.notification.message) for message in messages if isinstance(message, Notify)]


# -- "nothing happened", told by the messages the app posted (run_test(message_hook=...)) ---------

def keys_pressed(messages: list[Message]) -> list[str]:
    """The keys the app received, once each (a key event is dispatched again on each widget it
    passes): proof that a key whose effect is "nothing" did arrive."""
    seen: dict[int, str] = {}
    for message in messages:
        if isinstance(message, events.Key):
            seen.setdefault(id(message), message.key)
    return list(seen.values())


def changes_started(app: SeattuiApp, messages: list[Message]) -> list[str]:
    """The changes (workers of the "write" group) that are running, or that reported a state:
    a change started by a key is in the app's workers the moment the key's action runs, and
    posts its state from then on."""
    reported = [message.worker.name for message in messages
                if isinstance(message, Worker.StateChanged) and message.worker.group == "write"]
    running = [worker.name for worker in app.workers if worker.group == "write"]
    return reported + running
