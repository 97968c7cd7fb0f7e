"""Pages of results, cut by an opaque cursor so the portal never counts or skips rows."""

from __future__ import annotations

from typing import Generic, TypeVar
from seattui.domain.base import DomainModel


T = TypeVar("T")


class Page(DomainModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    total: int | None = None
