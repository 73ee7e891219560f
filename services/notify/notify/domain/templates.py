"""Message templates per brand and language (N-02): sandboxed rendering, variables checked against the event.

Every body starts with 【company name】 added here, never by the template: messages go out in the company's
name only. Marketing texts end with the opt-out hint (N-03).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from vipcore.errors import RuleViolation

TIER_CHANGED = "tier_changed"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
# variables every template may use besides the event's own fields
COMMON_VARS = frozenset({"display_name", "brand", "local_time"})  # local_time: event time in store time
OPT_OUT_HINT = {"zh-CN": "退订回TD", "en": "Reply STOP to opt out"}

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)

DEFAULTS: dict[tuple[str, str], str] = {
    ("welcome", "zh-CN"): "尊敬的{{ display_name }}，欢迎加入{{ brand }}会员，您的会员资格已审核通过。",
    ("welcome", "en"): "Dear {{ display_name }}, welcome to {{ brand }} membership: your file is approved.",
    ("card_issued", "zh-CN"): "尊敬的{{ display_name }}，您的会员卡{{ card_no }}已开通，请到门店领取。",
    ("card_issued", "en"): "Dear {{ display_name }}, your member card {{ card_no }} is ready for pick-up in store.",
    ("card_mailed", "zh-CN"): "尊敬的{{ display_name }}，您的VIP会员卡{{ card_no }}已寄出，请注意查收。",
    ("card_mailed", "en"): "Dear {{ display_name }}, your VIP card {{ card_no }} has been sent to you.",
    ("booking_confirmed", "zh-CN"): "尊敬的{{ display_name }}，您在{{ store_name }}的预约已确认："
                                    "{{ local_time }}，{{ party_size }}位。",
    ("booking_confirmed", "en"): "Dear {{ display_name }}, your booking at {{ store_name }} is confirmed: "
                                 "{{ local_time }}, party of {{ party_size }}.",
    ("tier_changed", "zh-CN"): "尊敬的{{ display_name }}，恭喜您成为{{ to_tier_name }}，即日起可享会员专属礼遇。",
    ("tier_changed", "en"): "Dear {{ display_name }}, you are now {{ to_tier_name }}: enjoy your member benefits.",
    ("large_earn", "zh-CN"): ("尊敬的{{ display_name }}，感谢惠顾，本次获得{{ points }}积分，"
                             "当前积分{{ balance_after }}。"),
    ("large_earn", "en"): ("Dear {{ display_name }}, thank you: {{ points }} points earned, "
                          "balance {{ balance_after }}."),
    ("points_expiring", "zh-CN"): ("尊敬的{{ display_name }}，您有{{ points }}积分将于"
                                  "{{ expires_on.strftime('%Y-%m-%d') }}到期，请及时使用。"),
    ("points_expiring", "en"): "Dear {{ display_name }}, {{ points }} points expire on "
                               "{{ expires_on.strftime('%Y-%m-%d') }}. Use them before then.",
    ("reward_ready", "zh-CN"): "尊敬的{{ display_name }}，您已可兑换{{ reward_name }}，请携带身份证到门店领取。",
    ("reward_ready", "en"): ("Dear {{ display_name }}, your reward {{ reward_name }} is ready: "
                            "bring your ID to the store."),
    ("birthday", "zh-CN"): "尊敬的{{ display_name }}，祝您生日快乐！{% if discount_pct %}今日到店享{{ discount_pct }}%"
                           "优惠。{% endif %}",
    ("birthday", "en"): "Happy birthday, {{ display_name }}!{% if discount_pct %} {{ discount_pct }}% off in store "
                        "today.{% endif %}",
    ("handover_intro", "zh-CN"): "尊敬的{{ display_name }}，今后由{{ to_staff_name }}为您服务"
                                 "{% if to_staff_phone %}，联系电话{{ to_staff_phone }}{% endif %}。",
    ("handover_intro", "en"): "Dear {{ display_name }}, from now on {{ to_staff_name }} looks after you"
                              "{% if to_staff_phone %} (phone {{ to_staff_phone }}){% endif %}.",
    ("overdue_customer", "zh-CN"): "尊敬的{{ customer_name }}，您的应付款{{ '%.2f' % (amount_due / 100) }}元已于"
                                   "{{ due_date }}到期，已逾期{{ days_overdue }}天，请尽快付款。",
    ("overdue_customer", "en"): "Dear {{ customer_name }}, {{ '%.2f' % (amount_due / 100) }} yuan was due on "
                                "{{ due_date }} ({{ days_overdue }} days overdue). Please pay soon.",
    ("overdue_staff", "zh-CN"): "提醒：客户{{ customer_name }}的应收款{{ '%.2f' % (amount_due / 100) }}元已逾期"
                                "{{ days_overdue }}天（到期日{{ due_date }}），请跟进收款。",
    ("overdue_staff", "en"): "Reminder: {{ customer_name }} owes {{ '%.2f' % (amount_due / 100) }} yuan, "
                             "{{ days_overdue }} days overdue (due {{ due_date }}). Please follow up.",
}


class TemplateRefused(RuleViolation):
    """N-02: a template that cannot be saved; `field` names the variable or 'body'."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__("N-02", field, message)


def variables_of(body: str) -> set[str]:
    """The variables a template reads (syntax errors refused)."""
    try:
        return set(meta.find_undeclared_variables(_env.parse(body)))
    except TemplateSyntaxError as e:
        raise TemplateRefused("body", f"template syntax error line {e.lineno}: {e.message}") from e


def check_template(body: str, allowed: set[str] | frozenset[str], event_type: str) -> None:
    """N-02: refuse a template using a variable the event does not carry, naming the first such field."""
    unknown = sorted(variables_of(body) - set(allowed) - COMMON_VARS)
    if unknown:
        raise TemplateRefused(unknown[0], f"template uses '{unknown[0]}' which {event_type} does not carry")


def compiled(body: str, sender: str, *, marketing: bool = False,
             language: str = DEFAULT_LANGUAGE) -> Callable[[dict[str, Any]], str]:
    """A template compiled once in the sandbox; the function renders 【sender】 + text (+ opt-out hint)."""
    tpl = _env.from_string(body)
    hint = ((" " if language == "en" else "") + OPT_OUT_HINT.get(language, OPT_OUT_HINT[DEFAULT_LANGUAGE])
            if marketing else "")
    return lambda variables: f"【{sender}】{tpl.render({**variables, 'brand': sender})}{hint}"


def render(body: str, sender: str, variables: dict[str, Any], *, marketing: bool = False,
           language: str = DEFAULT_LANGUAGE) -> str:
    """【sender】 + the template rendered in the sandbox (+ opt-out hint for marketing)."""
    return compiled(body, sender, marketing=marketing, language=language)(variables)


def tier_changed(brand: str, display_name: str, tier_name: str) -> str:
    return render(DEFAULTS[(TIER_CHANGED, "zh-CN")], brand, {"display_name": display_name,
                                                             "to_tier_name": tier_name})


def backoff_seconds(attempt: int, jitter: float) -> float:
    """Exponential back-off with jitter for transient provider errors (N-05): 1, 2, 4 ... 300 s."""
    return min(2 ** max(attempt - 1, 0), 300) * (0.5 + jitter)
