"""Import of existing customers (M-19): reading CSV/XLSX, mapping columns, validating each row by M-02."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from vipcore.contracts.members import OPENING_POINTS_MAX, OPENING_STORED_VALUE_MAX

from . import validation as v

# Column headers the chains' spreadsheets use → file fields; a request may add its own mapping.
DEFAULT_MAPPING = {
    "姓名": "full_name", "name": "full_name", "full_name": "full_name",
    "手机": "mobile", "手机号": "mobile", "手机号码": "mobile", "mobile": "mobile", "phone": "mobile",
    "性别": "gender", "gender": "gender",
    "生日": "birth_date", "出生日期": "birth_date", "birth_date": "birth_date", "birthday": "birth_date",
    "地址": "address", "address": "address",
    "工作单位": "work_unit", "work_unit": "work_unit", "职务": "position", "position": "position",
    "客户类别": "customer_class", "customer_class": "customer_class",
    "推荐人": "referrer_staff_id", "referrer": "referrer_staff_id", "referrer_staff_id": "referrer_staff_id",
    # optional opening balance from the chain's old system (M-19 → L-02): points, and the tier held there (L-04)
    "期初积分": "opening_points", "积分": "opening_points", "opening_points": "opening_points",
    "points": "opening_points",
    "期初等级": "opening_tier", "会员等级": "opening_tier", "opening_tier": "opening_tier", "tier": "opening_tier",
    # and the prepaid money the customer holds there (L-11), in yuan
    "期初储值": "opening_stored_value", "储值余额": "opening_stored_value", "储值": "opening_stored_value",
    "opening_stored_value": "opening_stored_value", "stored_value": "opening_stored_value",
}
GENDERS = {"男": "male", "女": "female", "male": "male", "female": "female", "m": "male", "f": "female"}


FIELDS = frozenset(DEFAULT_MAPPING.values())


class BadMapping(ValueError):
    """The column mapping sent with an upload is not a JSON object of header → known field."""


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    """The request's extra mapping: a JSON object {"column header": "field"} naming known fields only."""
    if raw is None:
        return None
    try:
        extra = json.loads(raw)
    except ValueError:
        raise BadMapping("mapping must be a JSON object") from None
    if not isinstance(extra, dict) or not all(isinstance(k, str) and v in FIELDS for k, v in extra.items()):
        raise BadMapping(f"mapping must be a JSON object of column header → one of {', '.join(sorted(FIELDS))}")
    return extra


def read_rows(content: bytes, fmt: str) -> Iterator[list[Any]]:
    """Rows of a CSV (UTF-8, with or without BOM) or XLSX sheet, header first."""
    if fmt == "csv":
        yield from csv.reader(io.StringIO(content.decode("utf-8-sig")))
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            for row in wb.active.iter_rows(values_only=True):
                yield ["" if c is None else c for c in row]
        finally:
            wb.close()
    else:
        raise ValueError("format must be csv or xlsx")


def header_map(header: list[Any], extra: dict[str, str] | None = None) -> dict[int, str]:
    """Column index → field; unknown columns are ignored."""
    mapping = {**DEFAULT_MAPPING, **(extra or {})}
    return {i: mapping[str(h).strip()] for i, h in enumerate(header) if str(h).strip() in mapping}


def row_fields(cols: dict[int, str], row: list[Any]) -> dict[str, str]:
    out = {}
    for i, field in cols.items():
        val = row[i] if i < len(row) else ""
        if hasattr(val, "isoformat"):  # an Excel date cell
            val = val.date().isoformat() if hasattr(val, "date") else val.isoformat()
        elif isinstance(val, float) and val.is_integer():  # an Excel number cell: 1200.0 is 1200
            val = int(val)
        s = str(val).strip()
        if s:
            out[field] = s
    if "mobile" in out:
        out["mobile"] = v.normalized_mobile(out["mobile"])  # one spelling per phone (M-02, M-06)
    if "gender" in out:
        out["gender"] = GENDERS.get(out["gender"].lower(), out["gender"])
    return out


def validate(fields: dict[str, str]) -> list[str]:
    """Reasons a row is refused (M-01, M-02); empty when the row can be imported."""
    reasons = [f"{k} missing (M-01)" for k in ("full_name", "mobile") if not fields.get(k)]
    known = {k: fields.get(k) for k in ("full_name", "gender", "mobile", "birth_date", "address", "work_unit",
                                        "position", "customer_class")}
    reasons += [f"{f}: {m} ({r})" for f, m, r in v.check(v.FileFields(**known))]
    if "opening_points" in fields and opening_points(fields["opening_points"]) is None:
        reasons.append(f"opening_points: must be a whole number of points from 0 to {OPENING_POINTS_MAX} (M-19)")
    if "opening_stored_value" in fields and opening_stored_value(fields["opening_stored_value"]) is None:
        reasons.append(OPENING_STORED_VALUE_RULE)
    return reasons


OPENING_STORED_VALUE_RULE = (f"opening_stored_value: must be an amount in yuan from 0 to "
                             f"{OPENING_STORED_VALUE_MAX // 100}.00 with at most 2 decimals (M-19, L-11)")


def opening_stored_value(text: str) -> int | None:
    """An opening stored-value balance as written in a cell, in yuan: digits (thousands separators allowed), at most
    two decimals, 0..OPENING_STORED_VALUE_MAX fen; the amount in fen, or None when it is anything else (negative,
    three decimals, words, an exponent, too big). Exact: the cell's text is read, never a float."""
    s = text.replace(",", "").replace("，", "").strip()
    whole, dot, frac = s.partition(".")
    if (not s.isascii() or not whole.isdigit() or (dot and not (frac.isdigit() and len(frac) <= 2))
            or len(whole) > len(str(OPENING_STORED_VALUE_MAX // 100))):
        return None
    fen = int(whole) * 100 + int(frac.ljust(2, "0") if frac else 0)
    return fen if fen <= OPENING_STORED_VALUE_MAX else None


def opening_points(text: str) -> int | None:
    """An opening balance as written in a cell: digits only (thousands separators allowed), 0..OPENING_POINTS_MAX;
    None when it is anything else (negative, fractional, words, too big)."""
    digits = text.replace(",", "").replace("，", "").strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > len(str(OPENING_POINTS_MAX)):
        return None
    n = int(digits)
    return n if n <= OPENING_POINTS_MAX else None


def opening_tier_reason(tier: str | None, program: str | None, tiers: list[str] | None) -> str | None:
    """Why an opening tier cannot be taken (L-04: tiers are the program's), or None when it can (or none is given)."""
    if not tier:
        return None
    if not tiers:
        return f"opening_tier: program {program or '?'} has no tier list here (programs/*.yaml) to check it (L-04)"
    if tier not in tiers:
        return f"opening_tier: {tier!r} is not a tier of program {program} ({', '.join(tiers)}) (L-04)"
    return None
