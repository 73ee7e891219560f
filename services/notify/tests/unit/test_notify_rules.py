"""N-01 triggers as data, N-02 templates and SMS sizes, N-03 consent / quiet hours / cap / opt-out words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from jinja2.exceptions import SecurityError
from notify.domain import rules
from notify.domain.sms import sms_size
from notify.domain.templates import DEFAULTS, LANGUAGES, TemplateRefused, check_template, render
from notify.entrypoints.consumers import contracts_by_type

NAMED_IN_N01 = {"members.member.approved": {"welcome"}, "members.booking.confirmed": {"booking_confirmed"},
                "members.card.issued": {"card_issued", "card_mailed"},
                "loyalty.tier.changed": {"tier_changed"}, "loyalty.points.earned": {"large_earn"},
                "loyalty.points.expiring": {"points_expiring"}, "loyalty.reward.ready": {"reward_ready"},
                "loyalty.birthday": {"birthday"}, "members.handover.completed": {"handover_intro"},
                "credit.invoice.overdue": {"overdue_customer", "overdue_staff"}}


def test_n01_every_trigger_is_configuration_with_a_template_in_both_languages() -> None:
    for event_type, keys in NAMED_IN_N01.items():
        assert {t.template for t in rules.triggers_for(event_type)} == keys, event_type
    contracts = contracts_by_type()
    for t in rules.TRIGGERS:
        # sealed personal fields (`to_staff_name_enc`) reach templates opened, under the plain name
        fields = {f.removesuffix("_enc") for f in contracts[t.event_type].model_fields}
        for lang in LANGUAGES:
            check_template(DEFAULTS[(t.template, lang)], fields, t.event_type)  # built-ins pass the save check
    audiences = {t.template: t.audience for t in rules.TRIGGERS}
    assert audiences["overdue_customer"] == "customer" and audiences["overdue_staff"] == "staff"
    assert audiences["handover_intro"] == "handover_members"
    assert {t.category for t in rules.TRIGGERS if t.template == "birthday"} == {"marketing"}


def test_n01_large_earn_only_above_the_threshold_and_mailed_card_text() -> None:
    (earn,) = rules.triggers_for("loyalty.points.earned")
    th = {"large_earn_points": 2000}
    assert earn.matches({"points": 2000}, th) and not earn.matches({"points": 1999}, th)
    card = {t.template: t for t in rules.triggers_for("members.card.issued")}
    assert card["card_mailed"].matches({"mailed": True}, th) and not card["card_issued"].matches({"mailed": True}, th)


def test_n02_template_using_a_field_the_event_lacks_is_refused_naming_it() -> None:
    fields = set(contracts_by_type()["loyalty.tier.changed"].model_fields)
    with pytest.raises(TemplateRefused) as e:
        check_template("{{ display_name }} 您的积分 {{ points_balance }}", fields, "loyalty.tier.changed")
    assert e.value.field == "points_balance" and "loyalty.tier.changed" in str(e.value)
    with pytest.raises(TemplateRefused) as e:
        check_template("{{ display_name", fields, "loyalty.tier.changed")
    assert e.value.field == "body"


def test_n02_rendering_is_sandboxed() -> None:
    with pytest.raises(SecurityError):
        render("{{ x.__class__.__mro__[1].__subclasses__() }}", "金缘珠宝", {"x": ""})


def test_n02_sender_is_always_the_company_name_and_marketing_has_opt_out_hint() -> None:
    body = render("【别的公司】{{ display_name }}生日快乐", "金缘珠宝", {"display_name": "王*明"}, marketing=True)
    assert body.startswith("【金缘珠宝】") and body.endswith("退订回TD")
    en = render("Hi {{ display_name }}", "Golden", {"display_name": "Li"}, marketing=True, language="en")
    assert en == "【Golden】Hi Li Reply STOP to opt out"


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("a" * 160, "GSM-7", 160, 1), ("a" * 161, "GSM-7", 161, 2), ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3), ("€" * 80, "GSM-7", 160, 1), ("{" * 81, "GSM-7", 162, 2),
    ("中" * 70, "UCS-2", 70, 1), ("中" * 71, "UCS-2", 71, 2), ("中" * 134, "UCS-2", 134, 2),
    ("中" * 135, "UCS-2", 135, 3), ("a" * 69 + "中", "UCS-2", 70, 1), ("😀" * 35, "UCS-2", 70, 1),
])
def test_n02_sms_length_and_segments_as_carriers_count(text: str, encoding: str, units: int, segments: int) -> None:
    s = sms_size(text)
    assert (s.encoding, s.units, s.segments) == (encoding, units, segments)


SH = "Asia/Shanghai"



def test_n03_quiet_hours_hold_marketing_to_the_morning_and_service_goes() -> None:
    night = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 22:30 Shanghai
    d = rules.decide("marketing", now=night, tz=SH, consent=True, opted_out=False, sent_today=0, daily_cap=2)
    assert d.status == "queued" and d.reason == "quiet_hours"
    assert d.not_before == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 Shanghai next day
    early = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 07:00 Shanghai on the 24th
    assert rules.quiet_release(early, SH) == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert rules.quiet_release(datetime(2026, 11, 24, 0, 0, tzinfo=UTC), SH) is None  # 08:00 sharp
    assert rules.quiet_release(datetime(2026, 11, 23, 12, 59, tzinfo=UTC), SH) is None  # 20:59
    assert rules.decide("service", now=night, tz=SH, consent=False, opted_out=True, sent_today=9,
                        daily_cap=2).status == "queued"


def test_n03_marketing_needs_consent_no_opt_out_and_room_under_the_daily_cap() -> None:
    noon = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)

    def d(**kw: object) -> rules.Decision:
        args = {"now": noon, "tz": SH, "consent": True, "opted_out": False, "sent_today": 0, "daily_cap": 2, **kw}
        return rules.decide("marketing", **args)  # type: ignore[arg-type]

    assert d() == rules.Decision("queued")
    assert d(consent=False) == rules.Decision("suppressed", "consent")
    assert d(opted_out=True) == rules.Decision("suppressed", "opted_out")
    assert d(sent_today=2) == rules.Decision("suppressed", "cap")


@pytest.mark.parametrize("text", ["TD", "td", " 退订 ", "STOP", "Stop.", "退订。"])
def test_n03_opt_out_words(text: str) -> None:
    assert rules.is_opt_out(text)


def test_n03_other_replies_are_not_opt_outs() -> None:
    assert not rules.is_opt_out("谢谢") and not rules.is_opt_out("stop sending me promotions please")
