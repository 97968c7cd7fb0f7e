"""Activation keys: four groups of four characters from A-Z and 0-9, like ABCD-EFGH-JKLM-NPQR."""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from pydantic import AfterValidator, Field

GROUPS = 4
GROUP_LENGTH = 4
KEY_LENGTH = GROUPS * GROUP_LENGTH
# Random keys skip the characters people misread when they type a key from a screen or paper.
RANDOM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
EXAMPLE_KEY = "ABCD-EFGH-JKLM-NPQR"

_VALID_CHARS = re.compile(r"[A-Za-z0-9]")
_SPACES = re.compile(r"[ \t\r\n]+")
_FORMAT = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")


class InvalidActivationKey(ValueError):
    """A text that is not an activation key; the message says what to type instead."""


def parse_key(text: str) -> str:
    """Normalize a typed key: drop spaces, accept it with or without dashes, check it as
    typed, then upper-case it (upper-casing first would turn "\ufb00" into "FF")."""
    if _FORMAT.fullmatch(text):  # as every device sends it: already itself
        return text
    compact = _SPACES.sub("", text)
    if "-" in compact:
        groups = compact.split("-")
        if len(groups) != GROUPS or any(len(group) != GROUP_LENGTH for group in groups):
            raise InvalidActivationKey(
                f"An activation key is {GROUPS} groups of {GROUP_LENGTH} letters or digits "
                f"separated by dashes, like {EXAMPLE_KEY}."
            )
        compact = "".join(groups)
    bad = sorted({char for char in compact if not _VALID_CHARS.fullmatch(char)})
    if bad:
        shown = " ".join(repr(char) for char in bad[:5])
        raise InvalidActivationKey(
            f"An activation key has only letters A-Z and digits 0-9; remove {shown}."
        )
    if len(compact) != KEY_LENGTH:
        raise InvalidActivationKey(
            f"An activation key has {KEY_LENGTH} letters or digits, like {EXAMPLE_KEY}; "
            f"this one has {len(compact)}."
        )
    return format_key(compact.upper())


def format_key(compact: str) -> str:
    return "-".join(compact[i : i + GROUP_LENGTH] for i in range(0, KEY_LENGTH, GROUP_LENGTH))


def is_key(text: str) -> bool:
    """True for a key already in its canonical form."""
    return bool(_FORMAT.fullmatch(text))


def generate_key() -> str:
    return format_key("".join(secrets.choice(RANDOM_ALPHABET) for _ in range(KEY_LENGTH)))


# A key as typed into a request: normalized, or refused with the message above.
KeyText = Annotated[str, Field(max_length=64), AfterValidator(parse_key)]
