"""The command palette (ctrl+p), fed by the command registry: the app's commands and the
current screen's, only those the role allows and the screen can do now."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from rich.text import Text
from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from seattui.tui import commands
from seattui.tui.commands import Command


def key_of(app: App[object], command: Command) -> str:
    """The key as bound now (a keymap may have changed it), as the footer shows it."""
    for active in app.screen.active_bindings.values():
        if active.binding.id == command.id:
            return app.get_key_display(active.binding)
    return command.key_display or (command.key or "").split(",")[0]


def available(screen: Screen[object]) -> Iterator[tuple[Command, bool]]:
    """(command, runs on the app?) for what can be done from this screen now."""
    app = screen.app
    permissions = getattr(app, "permissions", frozenset())
    scope = getattr(screen, "SCOPE", None)
    for command in commands.commands_for(commands.APP):
        if command.id in ("app.jump", "app.go"):
            continue  # boxes of their own; the palette lists the screens themselves
        if commands.allowed(command, permissions) and app.check_action(command.name, command.args) is not False:
            yield command, True
    if scope:
        for command in commands.commands_for(scope):
            if commands.allowed(command, permissions) and screen.check_action(command.action, command.args) is not False:
                yield command, False


class SeattuiCommands(Provider):
    def _choices(self) -> list[tuple[Text, str, Command, bool]]:
        choices = []
        for command, on_app in available(self.screen):
            display = Text(command.description)
            if command.key:
                display.append(f"  {key_of(self.app, command)}", style="dim")
            choices.append((display, command.help, command, on_app))
        return choices

    def _run(self, command: Command, on_app: bool) -> None:
        target = self.app if on_app else self.screen
        self.app.call_later(target.run_action, command.invocation)

    async def discover(self) -> Hits:
        for display, help_text, command, on_app in self._choices():
            yield DiscoveryHit(display, partial(self._run, command, on_app), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for display, help_text, command, on_app in self._choices():
            score = max(matcher.match(display.plain), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(display.plain), partial(self._run, command, on_app),
                          help=help_text)
