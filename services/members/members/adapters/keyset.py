"""Keyset paging for the lists the console reads (issue 12): rows older than the last one of the previous page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def before(at: Any, key: Any, last: str) -> Any:
    """WHERE (at, key) < (the `at` of the row keyed `last`, `last`): the next page of a newest-first list."""
    mark = sa.select(at).where(key == last).scalar_subquery()
    return sa.or_(at < mark, sa.and_(at == mark, key < last))
