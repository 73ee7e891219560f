"""The gateway's pure rules (domain/): who stands at the till, the blacklist first, the birthday on the store's
calendar, a key acting for its own store."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from gateway.domain.access import same_store
from gateway.domain.members import blacklist_alone_answers, is_birthday, member_ref, store_today
from vipcore.errors import Forbidden, RuleViolation


def test_m18_a_member_is_named_by_card_or_by_two_facts() -> None:
    assert member_ref("75500243", None, None)["card_no"] == "75500243"
    assert member_ref(None, "13800138000", "王小明") == {"card_no": None, "mobile": "13800138000", "name": "王小明"}
    for card, mobile, name in ((None, "13800138000", None), ("", "13800138000", None), (None, None, "王小明")):
        with pytest.raises(RuleViolation) as e:
            member_ref(card, mobile, name)
        assert (e.value.rule, e.value.field) == ("M-18", "card_no")


def test_m16_a_blacklisted_phone_asked_about_alone_is_answered_with_the_flag() -> None:
    listed = {"store_id": "XA-002", "since": "2026-01-01T00:00:00+00:00"}
    assert blacklist_alone_answers(listed, None, None)
    assert not blacklist_alone_answers(listed, None, "王小明")  # with a name: the member is looked up too
    assert not blacklist_alone_answers(listed, "75500243", None)
    assert not blacklist_alone_answers(None, None, None)


def test_l06_birthday_is_on_the_store_calendar() -> None:
    late_utc = datetime(2026, 3, 7, 17, 30, tzinfo=UTC)  # already 8 March in Xi'an, still 7 March in London
    assert store_today(late_utc, "Asia/Shanghai") == date(2026, 3, 8)
    assert store_today(late_utc, "Europe/London") == date(2026, 3, 7)
    assert store_today(late_utc, None) == date(2026, 3, 8)  # default zone: Asia/Shanghai
    assert store_today(late_utc, "Not/AZone") == date(2026, 3, 8)
    assert is_birthday(date(1990, 3, 8), store_today(late_utc, "Asia/Shanghai"))
    assert not is_birthday(date(1990, 3, 8), store_today(late_utc, "Europe/London"))
    assert not is_birthday(None, date(2026, 3, 8))


def test_o02_a_key_acts_for_its_own_store_only() -> None:
    same_store("XA-001", "XA-001")
    with pytest.raises(Forbidden) as e:
        same_store("XA-001", "XA-002")
    assert (e.value.rule, e.value.field, e.value.status) == ("O-02", "store_id", 403)
