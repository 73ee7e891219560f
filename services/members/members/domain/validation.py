"""Member file validation (M-01, M-02, M-03): pure checks returning (field, message, rule) per problem."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from vipcore.inputs import normalize_mobile

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Honorific placeholders instead of a real name (M-02): surname (or X) + title.
HONORIFICS = ("先生", "女士", "小姐", "太太", "老师", "总", "经理", "老板", "师傅", "阿姨", "同学", "哥", "姐")
STRONG_HONORIFICS = ("先生", "女士", "小姐", "太太")  # never the end of a real name, even after 欧阳
PLACEHOLDER_SURNAMES = re.compile(r"^[A-Za-zＸｘ某xX]")
ADMIN_SUFFIX = ("省", "市", "区", "县", "镇", "乡", "路", "街", "大道", "大街", "巷", "道")
SPECIFIC_MARK = re.compile(r"\d|号|室|栋|楼|单元|层|座|幢|弄|村|组|门")
ISO_DATE = re.compile(r"^(?P<y>\d{4}|-)-(?P<m>\d{2})-(?P<d>\d{2})$")
CUSTOMER_CLASSES = ("government", "state_owned", "enterprise_institution", "group_company", "small_business",
                    "individual")  # M-14
ACCOUNT_SIZES = ("key", "general", "occasional")  # M-14
STAGE1 = ("full_name", "gender", "mobile", "birth_date")  # M-03 basic
STAGE2 = ("address", "work_unit", "position", "customer_class", "account_size")  # M-03 complete

Fault = tuple[str, str, str]  # (field, message, rule)


def name_problem(name: str) -> str | None:
    """M-02: a real full name, not an honorific placeholder like 王先生 / 李女士 / 张总 / X先生."""
    n = name.strip()
    if len(n) < 2:
        return "a full real name is required"
    for h in HONORIFICS:
        if n.endswith(h) and (len(n) - len(h) <= 1 or h in STRONG_HONORIFICS):
            return f"'{n}' is an honorific placeholder, not a full name"
    if PLACEHOLDER_SURNAMES.match(n) and any(n.endswith(h) for h in HONORIFICS):
        return f"'{n}' is a placeholder, not a full name"
    return None


def mobile_problem(mobile: str) -> str | None:
    """M-02: a mainland mobile (11 digits, 1[3-9]...); landlines, switchboards, 10/12 digits refused."""
    m = normalized_mobile(mobile)
    if not m.isascii() or not m.isdigit():
        return "digits only"
    if len(m) != 11:
        return f"a mobile has 11 digits, this has {len(m)}"
    if not MOBILE.match(m):
        return "not a mainland mobile number (landline or switchboard numbers are refused)"
    return None


def normalized_mobile(mobile: str) -> str:
    """One spelling per phone (M-02, M-06): full-width digits, separators and +86/0086 removed."""
    return normalize_mobile(mobile)


def address_problem(address: str) -> str | None:
    """M-02: a specific address; a bare city, district or road (西安市, 高新路) is refused."""
    a = address.strip()
    if len(a) < 6 or not SPECIFIC_MARK.search(a):
        return f"'{a}' is not specific: give the street number, building or room"
    if a.endswith(ADMIN_SUFFIX):
        return f"'{a}' ends at a city, district or road: give the number, building or room"
    return None


def parse_birth(value: str) -> tuple[int | None, int, int]:
    """M-01: ISO date (YYYY-MM-DD) or month-day only (--MM-DD) — never a made-up year."""
    m = ISO_DATE.match(value.strip())
    if not m:
        raise ValueError("use an ISO date from the picker: YYYY-MM-DD, or --MM-DD when the year is unknown")
    year = None if m["y"] == "-" else int(m["y"])
    date(year or 2000, int(m["m"]), int(m["d"]))  # 2000 is a leap year: --02-29 is a real birthday
    if year is not None and not 1900 <= year <= date.today().year:
        raise ValueError("birth year out of range")
    return year, int(m["m"]), int(m["d"])


@dataclass
class FileFields:
    """The fields of a member file as sent by staff (M-01); None means not given yet."""

    full_name: str | None = None
    gender: str | None = None
    mobile: str | None = None
    birth_date: str | None = None
    address: str | None = None
    work_unit: str | None = None
    position: str | None = None
    customer_class: str | None = None
    account_size: str | None = None
    id_card: str | None = None


def check(f: FileFields) -> list[Fault]:
    """Every M-01/M-02 problem of the given fields (fields not given are not checked here)."""
    out: list[Fault] = []
    if f.full_name is not None and (p := name_problem(f.full_name)):
        out.append(("full_name", p, "M-02"))
    if f.mobile is not None and (p := mobile_problem(f.mobile)):
        out.append(("mobile", p, "M-02"))
    if f.address is not None and (p := address_problem(f.address)):
        out.append(("address", p, "M-02"))
    if f.birth_date is not None:
        try:
            parse_birth(f.birth_date)
        except ValueError as e:
            out.append(("birth_date", str(e), "M-02"))
    if f.gender is not None and f.gender not in ("female", "male"):
        out.append(("gender", "female or male", "M-01"))
    if f.customer_class is not None and f.customer_class not in CUSTOMER_CLASSES:
        out.append(("customer_class", f"one of {', '.join(CUSTOMER_CLASSES)}", "M-14"))
    if f.account_size is not None and f.account_size not in ACCOUNT_SIZES:
        out.append(("account_size", f"one of {', '.join(ACCOUNT_SIZES)}", "M-14"))
    if f.id_card is not None and not re.fullmatch(r"[0-9]{17}[0-9Xx]", f.id_card):
        out.append(("id_card", "an 18-character resident ID number", "M-01"))
    return out


def missing(f: FileFields, stage: tuple[str, ...]) -> list[str]:
    """Fields of a stage (M-03) not filled in yet."""
    return [k for k in stage if not getattr(f, k)]


def stage_of(f: FileFields) -> int:
    """M-03: 0 = basic incomplete, 1 = basic complete, 2 = complete (reviewable)."""
    if missing(f, STAGE1):
        return 0
    return 1 if missing(f, STAGE2) else 2
