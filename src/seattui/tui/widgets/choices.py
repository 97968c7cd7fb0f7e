"""Lists of choices (products, editions, terms, add-ons) that move with j/k like the tables."""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.widgets import OptionList, SelectionList

from seattui.tui import commands


class Choices(OptionList):
    """One answer: the highlighted option is the choice."""

    BINDINGS = commands.bindings("choice")

    def highlight_id(self, option_id: str | None) -> None:
        """Highlight the option with this id (a kept answer), or the first one that can be chosen."""
        for index in range(self.option_count):
            option = self.get_option_at_index(index)
            if option.id == option_id and not option.disabled:
                self.highlighted = index
                return
        self.highlighted = next(
            (i for i in range(self.option_count) if not self.get_option_at_index(i).disabled), None
        )


class Picks(SelectionList[Any]):
    """Any number of answers, toggled with space; enter says they are complete."""

    # Its own enter ("done") replaces the choice list's, which would toggle like space.
    BINDINGS = [
        *(binding for binding in commands.bindings("choice") if binding.key != "enter"),
        *commands.bindings("picks"),
    ]

    class Done(Message):
        pass

    def action_done(self) -> None:
        self.post_message(self.Done())
