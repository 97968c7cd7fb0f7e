"""Turn pydantic's validation errors into ValidationFailed: one message per field, in words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from seattui.domain.errors import ValidationFailed, field_words

M = TypeVar("M", bound=BaseModel)
_SKIPPED_LOCATIONS = ("body", "query", "path", "header")


def field_name(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location if part not in _SKIPPED_LOCATIONS]
    return ".".join(parts) or "body"


def plain_words(problem: Any) -> str:
    """One of pydantic's problems as a person would say it: what is wrong, then what to type."""
    kind = str(problem.get("type", ""))
    ctx = problem.get("ctx") or {}
    message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "string_too_short":
        least = int(ctx.get("min_length", 1))
        return "Empty: type something here." if least == 1 else f"Too short: type at least {least:,} characters."
    if kind == "string_too_long":
        return f"Too long: at most {int(ctx.get('max_length', 0)):,} characters."
    if kind == "missing":
        return "Missing: it is required."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "Not a whole number: type digits only, like 10."
    if kind in ("decimal_parsing", "decimal_type", "float_parsing", "float_type"):
        return "Not a number: type digits, like 12.50."
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"Too small: {'at least' if 'ge' in ctx else 'more than'} {bound}."
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"Too large: {'at most' if 'le' in ctx else 'less than'} {bound}."
    if kind == "too_short":
        least = int(ctx.get("min_length", 1))
        return f"Needs at least {least:,} item{'' if least == 1 else 's'}."
    if kind == "too_long":
        most = int(ctx.get("max_length", 0))
        return f"Too many: at most {most:,}."
    if kind == "enum" or kind == "literal_error":
        return f"Not one of the choices: {ctx.get('expected', '')}.".replace(": .", ".")
    if kind.startswith("date") or kind.startswith("datetime"):
        return "Not a date: type it as YYYY-MM-DD, like 2026-03-31."
    if kind in ("bool_parsing", "bool_type"):
        return "Not yes or no: type true or false."
    if kind == "string_pattern_mismatch":
        return "Has characters that are not allowed here."
    if kind == "extra_forbidden":
        return "Not a field this accepts; leave it out."
    if kind == "value_error" and message.startswith("value is not a valid email address"):
        reason = str(ctx.get("reason", "")).rstrip(".")
        because = f" ({reason[:1].lower() + reason[1:]})" if reason else ""
        return f"Not a valid email address{because}: type one like name@example.com."
    return message[:1].upper() + message[1:]


def field_messages(problems: Iterable[Any]) -> dict[str, str]:
    """The first problem of each field, in plain words."""
    fields: dict[str, str] = {}
    for problem in problems:
        fields.setdefault(field_name(tuple(problem.get("loc", ()))), plain_words(problem))
    return fields


def validation_failed(problems: Iterable[Any]) -> ValidationFailed:
    fields = field_messages(problems)
    if list(fields) == ["body"]:
        return ValidationFailed("The request is not of the expected shape: " + fields["body"], fields)
    return ValidationFailed(" ".join(f"{field_words(name)}: {why}" for name, why in fields.items()), fields)


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
