"""Turn pydantic's validation errors into ValidationFailed: one message per field, in words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from seattui.domain.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)
_SKIPPED_LOCATIONS = ("body", "query", "path", "header")


def field_name(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location if part not in _SKIPPED_LOCATIONS]
    return ".".join(parts) or "body"


def field_messages(problems: Iterable[Any]) -> dict[str, str]:
    """The first problem of each field, without pydantic's "Value error, " prefix."""
    fields: dict[str, str] = {}
    for problem in problems:
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        fields.setdefault(field_name(tuple(problem.get("loc", ()))), message)
    return fields


def validation_failed(problems: Iterable[Any]) -> ValidationFailed:
    fields = field_messages(problems)
    if list(fields) == ["body"]:
        return ValidationFailed("The request is not of the expected shape: " + fields["body"], fields)
    return ValidationFailed("Fix these fields: " + "; ".join(f"{k}: {v}" for k, v in fields.items()), fields)


def build(model: type[M], /, **data: Any) -> M:
    """Build a model from what a person typed, or raise ValidationFailed naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_failed(error.errors()) from None


def whole_number(text: str, low: int, high: int, what: str, *, field: str | None = None) -> int:
    """A count a person typed ("1,000" is fine), or ValidationFailed saying which counts fit."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned.isdigit() or not low <= int(cleaned) <= high:
        raise ValidationFailed(
            f"Type a whole number of {what} from {low:,} to {high:,}.", {field or what: f"{low:,} to {high:,}"}
        )
    return int(cleaned)
