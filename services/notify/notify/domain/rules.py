"""Which events cause which messages (N-01) and whether a message may go now (N-03). Pure: no I/O.

TRIGGERS is configuration, not code: event type -> template, audience, category, and a condition on the
event's fields. Adding a trigger is adding a line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

Audience = Literal["member", "customer", "staff", "handover_members"]
Category = Literal["service", "marketing"]


@dataclass(frozen=True)
class Trigger:
    event_type: str
    template: str
    audience: Audience
    category: Category
    equals: dict[str, Any] = field(default_factory=dict)  # event field == value
    at_least: dict[str, str] = field(default_factory=dict)  # event field >= the named threshold
    mobile_field: str | None = None  # customer/staff audiences: the event field holding the number

    def matches(self, data: dict[str, Any], thresholds: dict[str, int]) -> bool:
        return (all(data.get(k) == v for k, v in self.equals.items())
                and all((data.get(k) or 0) >= thresholds[t] for k, t in self.at_least.items()))


TRIGGERS: tuple[Trigger, ...] = (
    Trigger("members.member.approved", "welcome", "member", "service"),
    Trigger("members.card.issued", "card_issued", "member", "service", equals={"mailed": False}),
    Trigger("members.card.issued", "card_mailed", "member", "service", equals={"mailed": True}),
    Trigger("members.booking.confirmed", "booking_confirmed", "member", "service"),
    Trigger("members.handover.completed", "handover_intro", "handover_members", "service"),
    Trigger("loyalty.tier.changed", "tier_changed", "member", "service"),
    Trigger("loyalty.points.earned", "large_earn", "member", "service", at_least={"points": "large_earn_points"}),
    Trigger("loyalty.points.expiring", "points_expiring", "member", "service"),
    Trigger("loyalty.reward.ready", "reward_ready", "member", "service"),
    Trigger("loyalty.birthday", "birthday", "member", "marketing"),
    Trigger("credit.invoice.overdue", "overdue_customer", "customer", "service", mobile_field="customer_mobile"),
    Trigger("credit.invoice.overdue", "overdue_staff", "staff", "service",
            mobile_field="responsible_staff_mobile"),
)


def triggers_for(event_type: str) -> list[Trigger]:
    return [t for t in TRIGGERS if t.event_type == event_type]


def template_events() -> dict[str, str]:
    """template key -> the event type whose fields it may use."""
    return {t.template: t.event_type for t in TRIGGERS}


QUIET_START, QUIET_END = time(21, 0), time(8, 0)


def quiet_release(now: datetime, tz: str) -> datetime | None:
    """N-03: inside quiet hours (21:00-08:00 store time) the 08:00 when marketing may go; else None."""
    local = now.astimezone(ZoneInfo(tz))
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() + (timedelta(days=1) if local.time() >= QUIET_START else timedelta())
    return datetime.combine(day, QUIET_END, tzinfo=ZoneInfo(tz))


def local_day_start(now: datetime, tz: str) -> datetime:
    """Midnight of today in the store's time zone (the per-day cap counts from here)."""
    local = now.astimezone(ZoneInfo(tz))
    return datetime.combine(local.date(), time(0), tzinfo=ZoneInfo(tz))


@dataclass(frozen=True)
class Decision:
    status: str  # queued | suppressed
    reason: str | None = None  # consent | opted_out | cap | quiet_hours (deferred, still queued)
    not_before: datetime | None = None


def decide(category: Category, *, now: datetime, tz: str, consent: bool, opted_out: bool, sent_today: int,
           daily_cap: int) -> Decision:
    """N-03: service messages always go; marketing needs consent, no opt-out, room under the cap, and waits
    for the morning in quiet hours."""
    if category == "service":
        return Decision("queued")
    if opted_out:
        return Decision("suppressed", "opted_out")
    if not consent:
        return Decision("suppressed", "consent")
    if sent_today >= daily_cap:
        return Decision("suppressed", "cap")
    release = quiet_release(now, tz)
    if release is not None:
        return Decision("queued", "quiet_hours", release)
    return Decision("queued")


OPT_OUT_WORDS = frozenset({"TD", "T", "退订", "STOP", "UNSUBSCRIBE", "N"})


def is_opt_out(text: str) -> bool:
    """N-03: an inbound reply of TD / 退订 / STOP (any case, surrounding blanks) is an opt-out."""
    return text.strip().upper().rstrip("。.!！") in OPT_OUT_WORDS
