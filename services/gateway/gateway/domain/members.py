"""Who stands at the till: identification by card or two facts (M-18), the blacklist first (M-16), and the
member's birthday on the store's calendar (L-06). Pure rules: no I/O."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vipcore.errors import RuleViolation

DEFAULT_TZ = "Asia/Shanghai"


def member_ref(card_no: str | None, mobile: str | None, name: str | None) -> dict[str, Any]:
    """M-18: a member is named by card, or by mobile and name together (two facts)."""
    if not card_no and not (mobile and name):
        raise RuleViolation("M-18", "card_no", "give card_no, or mobile and name together (M-18: two facts)")
    return {"card_no": card_no or None, "mobile": mobile, "name": name}


def blacklist_alone_answers(listed: dict[str, Any] | None, card_no: str | None, name: str | None) -> bool:
    """M-16: a blacklisted phone asked about alone is answered with the flag, whether or not it is a member."""
    return listed is not None and not card_no and not name


def store_today(now: datetime, tz: str | None) -> date:
    """The business date at the store (its time zone; Asia/Shanghai when unknown)."""
    try:
        zone = ZoneInfo(tz or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TZ)
    return now.astimezone(zone).date()


def is_birthday(birthday: date | None, today: date) -> bool:
    """L-06: the birthday benefit applies on the member's month and day (a birth year is optional)."""
    return birthday is not None and (birthday.month, birthday.day) == (today.month, today.day)
