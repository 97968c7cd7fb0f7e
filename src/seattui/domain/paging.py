"""Pages of results, cut by an opaque cursor so the portal never counts or skips rows."""

from __future__ import annotations

from datetime import date
from typing import Generic, TypeVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from seattui.domain.base import DomainModel, PlainText


T = TypeVar("T")


class Page(DomainModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    total: int | None = None


DATED_FILTER_TEXT = 100


class DatedFilter(DomainModel):
    """Which entries of a dated list (the ledger, orders) a page shows: those on the days from
    `since` to `until` (both included, UTC), holding the text `q`."""

    model_config = ConfigDict(frozen=True)

    since: date | None = None
    until: date | None = None
    q: PlainText = Field(default="", max_length=DATED_FILTER_TEXT)

    @field_validator("q")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    def query_params(self) -> dict[str, str]:
        """The filter as the list endpoint's query parameters (defaults left out)."""
        return {name: str(value) for name, value in self.model_dump(mode="json", exclude_defaults=True).items()}

    @model_validator(mode="after")
    def _range_in_order(self) -> DatedFilter:
        if self.since and self.until and self.since > self.until:
            raise ValueError("the first day of the range (since) must be on or before the last (until)")
        return self
