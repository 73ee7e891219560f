"""Every list in the console is paginated: one page of rows and the links around it (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int  # 1-based
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(rows: Sequence[T], number: int, size: int) -> Page[T]:
    """The `number`-th page of `size` rows; a number past the end shows the last page, below 1 the first."""
    total = len(rows)
    pages = max(1, -(-total // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(list(rows[start:start + size]), number, pages, total)


def remote(rows: Sequence[T], number: int, size: int, total: int) -> Page[T]:
    """A page the owning service cut (`page`/`limit` there), with the total it counted over every page."""
    return Page(list(rows), max(1, number), max(1, -(-total // size)), total)
