"""The footer of every screen: Textual's, rebuilt only when the keys it shows change.

Textual's footer removes and mounts all its keys each time the screen says its bindings may
have changed (a focus change, a screen on the stack, every cursor move of a list whose keys
depend on the row), once per telling, even when the keys are the same. A list screen opening
at 100,000 rows rebuilt it seven times before its first rows were drawn (30 to 120 ms each),
and a cursor move waited for one more."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._shows: tuple[Any, ...] | None = None  # what the last rebuild showed
        self._told = False  # the screen has said its bindings (Footer shows no keys until then)

    def shows(self) -> tuple[Any, ...]:
        """Everything Footer.compose draws from: the screen's keys with their states."""
        app = self.app
        return (self.show_command_palette, *(
            (key, app.get_key_display(binding), binding.action, binding.description, binding.show, binding.group,
             enabled, tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()))

    def bindings_changed(self, screen: Screen) -> None:
        self._told = True
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        if self._told and self.is_attached:
            shows = self.shows()
            if shows == self._shows:
                return  # the same keys: the rebuild would draw what is there
            self._shows = shows
        await super().recompose()
