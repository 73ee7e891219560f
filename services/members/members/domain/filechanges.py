"""M-13: what a change to a member file changed, field by field, as the file's history keeps it (pure).

The mobile and the ID card are kept masked in the record (the file itself holds them encrypted); every other field
is kept as written, like the file."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from vipcore.pii import mask_mobile

from .validation import FileFields

ORDER = tuple(f.name for f in dataclass_fields(FileFields))


def masked(field: str, value: str | None) -> str | None:
    """A value as the change record keeps it: mobile and ID card masked, the rest as written."""
    if value is None:
        return None
    if field == "mobile":
        return mask_mobile(value.strip())
    if field == "id_card":
        return "*" * 14 + value.strip().upper()[-4:]
    return value


def _same(field: str, a: str | None, b: str | None) -> bool:
    norm = (lambda s: s.strip().upper()) if field == "id_card" else (lambda s: s.strip())
    return (a is None and b is None) or (a is not None and b is not None and norm(a) == norm(b))


def diff(before: FileFields, given: dict[str, Any]) -> list[dict[str, str | None]]:
    """[{field, before, after}] for each given field whose value differs from the file's, in form order."""
    return [{"field": k, "before": masked(k, getattr(before, k)), "after": masked(k, given[k])}
            for k in ORDER if k in given and not _same(k, getattr(before, k), given[k])]
