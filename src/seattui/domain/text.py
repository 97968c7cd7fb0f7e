"""Text that reaches a terminal. Control characters (C0, DEL, C1) and the bidirectional
controls are refused in whatever the portal stores: printed raw, ESC and BEL sequences clear
an administrator's screen or set the window's title, and bidi overrides show text in another
order than it is. What was stored before is still shown harmlessly: `printable` replaces each
such character with a visible stand-in. Plain functions, no pydantic: the CLI and the app's
first frame import this."""

from __future__ import annotations

import re

# C0 and DEL become their Unicode control pictures (one column, as the character would have
# taken): ESC shows as ␛, BEL as ␇. C1 and bidi controls have no picture: \u escapes.
_C0_AND_DEL = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_BUT_LINE_FEED = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_BUT_LAYOUT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def control_characters(text: str, *, layout_allowed: bool = False) -> list[str]:
    """The distinct control characters in `text`, in order of first appearance. With
    `layout_allowed`, tab, line feed and carriage return are not counted (a whole file's text)."""
    found = (_CONTROL_BUT_LAYOUT if layout_allowed else _CONTROL).findall(text)
    return list(dict.fromkeys(found))


def describe(char: str) -> str:
    """U+001B, as a person looks it up."""
    return f"U+{ord(char):04X}"


def refuse_control_characters(text: str) -> str:
    """`text` unchanged, or ValueError naming the control characters to remove."""
    if _CONTROL.search(text) is None:
        return text
    found = control_characters(text)
    shown = ", ".join(describe(char) for char in found[:5])
    raise ValueError(
        f"control character{'s' if len(found) > 1 else ''} {shown} cannot be stored (they could change "
        "what a terminal shows); remove them"
    )


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with every control character replaced by a visible stand-in, for a terminal;
    `multiline` keeps line feeds (a message of several lines)."""
    pattern = _CONTROL_BUT_LINE_FEED if multiline else _CONTROL
    if pattern.search(text) is None:
        return text
    return pattern.sub(_stand_in, text)


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    return _C0_AND_DEL.get(code) or f"\\u{code:04x}"
