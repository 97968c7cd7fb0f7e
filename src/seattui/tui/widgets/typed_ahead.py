"""Keys typed ahead of a move between fields reach the field they were aimed at.

Textual sends each key to the widget focused when the key arrives, and runs a widget's key
bindings when the key comes back up from it. A screen that moves the focus in answer to a
message (enter leaves a step) loses the keys typed just after enter: they go to the field
being left, or nowhere ("enter 5 enter" ordered 1). Moving the focus at once instead loses the
bindings of keys typed just before enter that are still on their way up ("j enter").

`TypedAhead.after_typed(then)` does both right: it takes the focus at once and holds every key
that arrives; the keys already sent to the field being left reach it, and the screen runs that
field's bindings for them (`settle`); then `then` runs (it focuses the next field) and the held
keys go to the field focused now, in the order they were typed.

The screen keeps one `TypedAhead` and forwards two things to it: its `on_key` calls `settle`,
and its handler of `TypedAhead.Reached` calls `reached`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import events
from textual.binding import BindingsMap
from textual.dom import DOMNode
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

Held = events.Key | events.Paste | Callable[[], None]


class TypedAhead(Widget, can_focus=True):
    """Never shown; focused only while a move waits for the keys typed before it."""

    DEFAULT_CSS = "TypedAhead { display: none; }"

    @dataclass
    class Reached(Message):
        """Posted to the field being left, behind the keys sent to it: they have all arrived."""

        then: Callable[[], None]

    def __init__(self) -> None:
        super().__init__()
        self.source: Widget | None = None  # the field being left
        self.holding = False
        self.held: list[Held] = []

    def after_typed(self, then: Callable[[], None]) -> None:
        """Run `then` once the keys typed so far have reached the focused field."""
        if self.holding:
            self.held.append(then)  # enter typed ahead: a move of its own, after the keys before it
            return
        screen = self.screen
        self.source = screen.focused
        self.holding = True
        screen.set_focus(self, scroll_visible=False)
        target: DOMNode = self.source if self.source is not None else screen
        if not target.post_message(self.Reached(then)):
            self.reached(then)

    def check_message_enabled(self, message: Message) -> bool:
        # Called as a key is sent here, before it is queued: held in the order typed.
        if self.holding and isinstance(message, (events.Key, events.Paste)):
            self.held.append(message)
            return False
        return super().check_message_enabled(message)

    async def settle(self, event: events.Key) -> bool:
        """A key sent to the field being left, on its way up: run that field's binding for it,
        as Textual would have with the focus still there. True if one ran."""
        if not self.holding or self.source is None:
            return False
        screen = self.screen
        for node in self.source.ancestors_with_self:
            if node is screen:
                break
            for binding in _bindings(node).key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, node):
                    return True
        return False

    def reached(self, then: Callable[[], None]) -> None:
        """Every key sent to the field being left has arrived: move, then hand on the held keys."""
        source, self.source = self.source, None
        screen = self.screen
        if source is not None and source.is_attached:
            self._refocus(source)  # `then` sees the field it was called from
        else:
            screen.set_focus(None, scroll_visible=False)
        self.holding = False
        then()
        while self.held and not self.holding:
            item = self.held.pop(0)
            if isinstance(item, (events.Key, events.Paste)):
                focused = screen.focused
                (focused if focused is not None else screen).post_message(item)
            else:
                self.after_typed(item)


    def _refocus(self, field: Widget) -> None:
        """The field being left, focused again as it was: a text field keeps its cursor rather
        than selecting all its text (which the next key typed would replace)."""
        if isinstance(field, Input) and field.select_on_focus:
            field.select_on_focus = False
            self.screen.set_focus(field, scroll_visible=False)
            field.call_later(setattr, field, "select_on_focus", True)  # after its Focus event
            return
        self.screen.set_focus(field, scroll_visible=False)


def _bindings(node: DOMNode) -> BindingsMap:
    # A node's own bindings with the user's keymap, as Screen._binding_chain builds them
    # (private attributes: textual is pinned exactly, and tests/test_framework_pins.py fails
    # when they go).
    bindings = node._bindings.copy()
    keymap = node.app._keymap
    if keymap:
        bindings.apply_keymap(keymap)
    return bindings
