"""Errors into words a person can act on: what happened, and what to do about it."""

from __future__ import annotations

import logging

from seattui.domain import errors

log = logging.getLogger("seattui.tui")


def describe(error: BaseException, *, retry_key: str = "ctrl+r") -> tuple[str, str]:
    """(what happened, what to do) for an error raised by a portal call."""
    if isinstance(error, errors.PortalUnavailable):
        return error.message, f"Press {retry_key} to retry."
    if isinstance(error, errors.PermissionDenied):
        return error.message, ""
    if isinstance(error, errors.ValidationFailed):
        # A rule's summary ("never downgraded") and, after it, each field it names that the
        # summary does not already explain, by the field's name in words.
        unsaid = [f"{errors.field_words(field)}: {why.rstrip('.')}." for field, why in error.fields.items()
                  if field != "body" and why not in error.message]
        return error.message, " ".join(unsaid)
    if isinstance(error, errors.SeattuiError):
        return error.message, ""
    log.exception("unexpected error in the terminal app", exc_info=error)
    return (
        f"seattui hit an unexpected problem ({type(error).__name__}: {error}).",
        "It is written to the log; try again, and report it if it repeats.",
    )
