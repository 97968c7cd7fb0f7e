"""An inline problem: what happened and what to do, in the screen where it happened."""

from __future__ import annotations

from textual.widgets import Static


class Problem(Static):
    """Hidden while there is nothing to say."""

    def on_mount(self) -> None:
        self.display = False

    def say(self, message: str, hint: str = "") -> None:
        self.remove_class("-note")
        self.update(f"{message} {hint}".strip())
        self.display = True

    def note(self, message: str) -> None:
        """Not a problem, but worth saying in the same place (figures that may be out of date)."""
        self.say(message)
        self.add_class("-note")

    def clear(self) -> None:
        self.update("")
        self.display = False
