"""What screens and views share to put figures and names into words, and to copy a key: plain
functions that import neither Textual nor pydantic, so the first frame and the last-seen views
can use them, and a screen can use another's without importing that screen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seattui.domain.people import Employee

NAMES_SHOWN = 8


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def names(people: Sequence[Employee]) -> str:
    """The first few people by name, and how many more."""
    shown = ", ".join(person.name for person in people[:NAMES_SHOWN])
    return shown + (f" and {len(people) - NAMES_SHOWN} more" if len(people) > NAMES_SHOWN else "")


def copy_key(screen: Any, key: str) -> None:
    """To the clipboard through the terminal (OSC 52), which reaches the local one over SSH."""
    screen.app.copy_to_clipboard(key)
    screen.notify(f"Copied {key} to the clipboard.", timeout=3)
