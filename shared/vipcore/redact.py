"""Text that leaves a service (log lines, span attributes, the DLQ's `x-dlq-error` header) without personal data.

`redact(text)` masks mainland mobiles (also typed with separators or full-width digits) and ID-card numbers, and
drops what a database error quotes from the data: PostgreSQL's `DETAIL:` lines (`Key (mobile_index)=(...)`),
SQLAlchemy's `[parameters: ...]` (engines also run with `hide_parameters`, vipcore.db) and asyncpg's
`invalid input for query argument $1: '...'`. `safe_error(e)` describes an exception the same way; a database
error is told by its class, SQLSTATE and constraint, never by the values."""

from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
_SPACED_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?(1[3-9][0-9])[\s-]?[0-9]{4}[\s-]?([0-9]{4})(?![0-9])")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_DETAIL = re.compile(r"DETAIL:.*?(?=\n(?:HINT|CONTEXT|\[SQL|\(Background)|\Z)", re.S)
_PARAMS = re.compile(r"\[parameters: .*?\](?=\s*\n|\s*\(Background|\s*$)", re.S)
_ARGUMENT = re.compile(r"(invalid input for query argument \$[0-9]+):[^\n]*")
_QUOTED = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")


def mask_mobiles(text: str) -> str:
    """138****5678 for any mainland mobile number inside `text`, however it is spelled."""
    if any(ord(c) > 127 for c in text):
        text = _fold_digits(text)
    return _SPACED_MOBILE.sub(r"\1****\2", text)


def _fold_digits(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", c) if "０" <= c <= "９" else c for c in text)


def redact(text: str) -> str:
    """`text` without mobiles, ID-card numbers or values quoted by database errors."""
    if "DETAIL:" in text:
        text = _DETAIL.sub("DETAIL: (hidden)", text)
    if "[parameters:" in text:
        text = _PARAMS.sub("[parameters hidden]", text)
    if "query argument" in text:
        text = _ARGUMENT.sub(r"\1: (value hidden)", text)
    return _ID_CARD.sub(r"\1********\2", mask_mobiles(text))


def safe_error(e: BaseException | None) -> str:
    """An exception for a log line or a header: a database error by class, SQLSTATE and constraint only."""
    if e is None:
        return "None"
    from sqlalchemy import exc as sa_exc

    if isinstance(e, sa_exc.DBAPIError):
        inner: BaseException = e.orig.__cause__ or e.orig if e.orig is not None else e  # the driver's own error
        parts = [f"sqlstate={getattr(inner, 'sqlstate', None) or getattr(e.orig, 'sqlstate', '?')}"]
        for attr in ("constraint_name", "table_name", "column_name"):
            if v := getattr(inner, attr, None):
                parts.append(f"{attr.removesuffix('_name')}={v}")
        first = str(inner).split("\n", 1)[0]
        parts.append(repr(_QUOTED.sub("…", first)[:200]))
        return f"{type(e).__name__}({type(inner).__name__}: {', '.join(parts)})"
    return redact(repr(e))
