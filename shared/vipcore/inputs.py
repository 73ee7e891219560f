"""Input types every service's request models, path and query parameters are built from.

One place decides what an identifier, a piece of text, an amount or a business time may be, so an
edge never accepts what a table, a consumer or another service will later refuse:

- identifiers are printable ASCII, non-empty and bounded (they become keys, topics' keys, URLs);
- text has no control characters and no lone surrogates (PostgreSQL refuses NUL; UTF-8 refuses
  surrogates) and is bounded;
- money (fen), quantities and points are strict integers (no `"12"`, no `12.0`, no `true`) with
  bounds that fit BIGINT and the business;
- business times carry an offset and lie within a sane window of now (an offline till may upload a
  few weeks late, never years; a clock may be a little ahead, never a day);
- mobiles are normalised before they are validated: full-width digits, spaces, dashes and the
  +86 / 0086 country code are removed, so one phone number has one spelling (M-02, M-06, M-16).

`RequestModel` is the base of every request body: unknown fields are refused (the POS API says
so), strings are not silently stripped, numbers are not coerced from strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

# -- identifiers ------------------------------------------------------------------------------------
# Write `Annotated[str, IdentOf(80)]` / `Annotated[str, TextOf(500)]` for other bounds: the metadata
# objects expand into the checks (pydantic's grouped metadata), and mypy reads the annotation as `str`.

IDENT_PATTERN = r"^[!-~]+$"  # printable ASCII, no spaces


@dataclass(frozen=True)
class IdentOf(annotated_types.GroupedMetadata):
    """An identifier: 1..max_length printable ASCII characters, no spaces."""

    max_length: int = 64

    def __iter__(self) -> Iterator[Any]:
        yield StringConstraints(min_length=1, max_length=self.max_length, pattern=IDENT_PATTERN)


Ident = Annotated[str, IdentOf(64)]
"""Ids of stores, members, accounts, receipts, SKUs... 1-64 printable ASCII characters."""
ShortIdent = Annotated[str, IdentOf(32)]
"""Card numbers, coupon numbers, codes: 1-32 printable ASCII characters."""
LongIdent = Annotated[str, IdentOf(200)]
"""Opaque references (idempotency keys, trace ids, file names) up to 200 characters."""


# -- text -------------------------------------------------------------------------------------------

def _clean_text(v: str) -> str:
    for ch in v:
        o = ord(ch)
        if 0xD800 <= o <= 0xDFFF:
            raise ValueError("must not contain lone surrogates (not valid UTF-8)")
        if ch not in "\n\t" and unicodedata.category(ch) == "Cc":
            raise ValueError("must not contain control characters")
    return v


def _one_line(v: str) -> str:
    if "\n" in v or "\t" in v:
        raise ValueError("must be one line")
    return v


@dataclass(frozen=True)
class TextOf(annotated_types.GroupedMetadata):
    """Text: no control characters (tabs/newlines only when multiline), no lone surrogates, bounded."""

    max_length: int = 200
    min_length: int = 0
    multiline: bool = False

    def __iter__(self) -> Iterator[Any]:
        yield StringConstraints(min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(_clean_text)
        if not self.multiline:
            yield AfterValidator(_one_line)


Name = Annotated[str, TextOf(40, min_length=1)]
"""A person's or a store's name, 1-40 characters, one line."""
Text = Annotated[str, TextOf(200)]
"""A short line of text (a reason, a remark, a title), at most 200 characters."""
LongText = Annotated[str, TextOf(2000, multiline=True)]
"""A message body or a note, at most 2,000 characters, may span lines."""


# -- amounts ----------------------------------------------------------------------------------------

MAX_MONEY = 10**12
"""10 billion yuan in fen: far above any receipt or credit limit, far below BIGINT's 9.2e18."""
MAX_QTY = 1_000_000
MAX_POINTS = 10**12

Money = Annotated[int, Strict(), Field(ge=0, le=MAX_MONEY, description="amount in fen (1/100 yuan)")]
"""A non-negative amount in fen."""
PositiveMoney = Annotated[int, Strict(), Field(gt=0, le=MAX_MONEY, description="amount in fen (1/100 yuan)")]
SignedMoney = Annotated[int, Strict(), Field(ge=-MAX_MONEY, le=MAX_MONEY, description="amount in fen")]
Quantity = Annotated[int, Strict(), Field(gt=0, le=MAX_QTY)]
Points = Annotated[int, Strict(), Field(ge=0, le=MAX_POINTS)]
PositivePoints = Annotated[int, Strict(), Field(gt=0, le=MAX_POINTS)]
SignedPoints = Annotated[int, Strict(), Field(ge=-MAX_POINTS, le=MAX_POINTS)]
Count = Annotated[int, Strict(), Field(ge=0, le=2**31 - 1)]
"""A count or a small number (days, months, limits) that fits INTEGER."""


# -- times ------------------------------------------------------------------------------------------

PAST_WINDOW = timedelta(days=400)
"""An offline till uploads late, and a refund may name a sale of last year's season: 400 days back."""
FUTURE_SKEW = timedelta(hours=12)
"""A till's clock may run ahead or sit in another zone; twelve hours is the most a real one does."""


def _business_time(v: datetime) -> datetime:
    if v.tzinfo is None or v.utcoffset() is None:
        raise ValueError("must be RFC 3339 with an offset, e.g. 2026-11-22T12:30:00+08:00")
    try:
        utc = v.astimezone(UTC)
    except OverflowError as e:
        raise ValueError("is out of range") from e
    now = datetime.now(UTC)
    if utc < now - PAST_WINDOW or utc > now + FUTURE_SKEW:
        raise ValueError(f"must lie within {PAST_WINDOW.days} days before now and "
                         f"{int(FUTURE_SKEW.total_seconds() // 3600)} hours after")
    return v


def _aware_time(v: datetime) -> datetime:
    if v.tzinfo is None or v.utcoffset() is None:
        raise ValueError("must be RFC 3339 with an offset, e.g. 2026-11-22T12:30:00+08:00")
    try:
        utc = v.astimezone(UTC)
    except OverflowError as e:
        raise ValueError("is out of range") from e
    if not 1970 <= utc.year <= 2200:
        raise ValueError("must lie between 1970 and 2200")
    return v


BusinessTime = Annotated[datetime, AfterValidator(_business_time)]
"""When something happened at a store: with an offset, within the window of now above."""
AwareTime = Annotated[datetime, AfterValidator(_aware_time)]
"""A time with an offset (report bounds, schedules), between 1970 and 2200."""


# -- mobiles ----------------------------------------------------------------------------------------

MOBILE_PATTERN = re.compile(r"^1[3-9][0-9]{9}$")  # ASCII digits: NFKC keeps other scripts' digits
_SEPARATORS = re.compile(r"[\s\-().]")


def normalize_mobile(raw: str) -> str:
    """One spelling per phone number: NFKC (full-width digits), separators and the +86/0086 prefix
    removed. Does not validate; `valid_mobile` does."""
    s = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    elif s.startswith("86") and len(s) == 13:
        s = s[2:]
    return s


def valid_mobile(raw: str) -> str:
    """The normalised mobile, or ValueError naming rule M-02."""
    s = normalize_mobile(raw)
    if not MOBILE_PATTERN.match(s):
        raise ValueError("must be a mainland mobile number: 11 digits starting 13-19 (M-02)")
    return s


def _mobile_before(v: Any) -> Any:
    """Normalise, then M-02; the refusal names rule M-02 (the problem details' `errors[].rule`)."""
    if not isinstance(v, str):
        return v
    try:
        if len(v) > 32:
            raise ValueError("must be a mainland mobile number: 11 digits starting 13-19 (M-02)")
        return valid_mobile(v)
    except ValueError as e:
        raise PydanticCustomError("mobile", str(e), {"rule": "M-02"}) from None


Mobile = Annotated[str, BeforeValidator(_mobile_before),
                   Field(examples=["13800138000"],
                         description="mainland mobile; `+86 138-0013-8000` and full-width digits are accepted "
                                     "and normalised to `13800138000` (M-02)")]


# -- base request -----------------------------------------------------------------------------------

class RequestModel(BaseModel):
    """Base of every request body: unknown fields refused, no silent coercion of strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ResponseModel(BaseModel):
    """Base of every answer body: fields the service adds later do not break older readers."""

    model_config = ConfigDict(extra="ignore")
