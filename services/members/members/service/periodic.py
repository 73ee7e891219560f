"""Runs the time-driven member rules for a date or a month: M-03 purge, M-09 dormancy, M-17 expiry (daily),
M-10 detachment and M-11 claiming (month end). Idempotent per period; the clock is injected."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.contracts.members import CardExpired, MemberStateChanged
from vipcore.events import Envelope, EventData
from vipcore.logs import get_logger
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.scheduler import Ticker
from vipcore.topics import MEMBERS_EVENTS

from ..adapters.tables import cards, claim_carry, consumptions, members, periodic_runs, referrer_losses, stores
from ..domain import periodic as rules

log = get_logger(__name__)
HOME_TZ = ZoneInfo("Asia/Shanghai")


class Periodic:
    def __init__(self, engine: AsyncEngine, topic_prefix: str, wake: Any, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.topic = topic_prefix + MEMBERS_EVENTS.name
        self.wake = wake
        self.clock = clock

    def _ev(self, key: str, data: EventData) -> OutgoingEvent:
        return OutgoingEvent(self.topic, key, Envelope.new(data, source="members", subject=key, time=self.clock()))

    async def _once(self, conn: AsyncConnection, rule: str, period: str) -> bool:
        """Claim (rule, period); False when it already ran — the caller then changes nothing."""
        got = await conn.scalar(pg_insert(periodic_runs).values(rule=rule, period=period, ran_at=self.clock(),
                                                                summary={}).on_conflict_do_nothing()
                                .returning(periodic_runs.c.rule))
        return got is not None

    async def _state(self, conn: AsyncConnection, out: list[OutgoingEvent], m: Any, to: str, reason: str,
                     period: str | None = None, **values: Any) -> None:
        if "referrer_staff_id" in values and values["referrer_staff_id"] is None and m.referrer_staff_id:
            lost_in = period or self.clock().astimezone(HOME_TZ).strftime("%Y-%m")  # M-21: lost this month
            await conn.execute(pg_insert(referrer_losses).values(
                member_id=m.member_id, period=lost_in, staff_id=m.referrer_staff_id, reason=reason)
                .on_conflict_do_nothing())
        await conn.execute(members.update().where(members.c.member_id == m.member_id).values(status=to, **values))
        out.append(self._ev(m.member_id, MemberStateChanged(member_id=m.member_id, store_id=m.store_id,
                                                            from_state=m.status, to_state=to, reason=reason)))

    async def daily(self, day: date) -> dict[str, Any]:
        """M-03 purge, M-09 dormancy and M-17 expiry as of `day` (store business date)."""
        out: list[OutgoingEvent] = []
        summary: dict[str, Any] = {"purged": 0, "dormant": 0, "expired": 0, "already_ran": False}
        async with self.engine.begin() as conn:
            if not await self._once(conn, "daily", day.isoformat()):
                return {**summary, "already_ran": True}
            cutoff = datetime.combine(day - timedelta(days=rules.PURGE_AFTER_DAYS - 1), datetime.min.time(), HOME_TZ)
            purged = await conn.execute(members.delete().where(
                members.c.status == "incomplete", members.c.created_at < cutoff).returning(members.c.member_id))
            summary["purged"] = len(purged.all())  # M-03: the only automatic removal
            last = (sa.select(consumptions.c.member_id, sa.func.max(consumptions.c.occurred_at).label("at"))
                    .group_by(consumptions.c.member_id).subquery())
            rows = (await conn.execute(
                sa.select(members.c.member_id, members.c.store_id, members.c.status, members.c.reviewed_at,
                          members.c.referrer_staff_id,
                          members.c.created_at, last.c.at)
                .outerjoin(last, last.c.member_id == members.c.member_id)
                .where(members.c.status == "active").with_for_update(of=members))).all()
            for m in rows:
                seen = m.at or m.reviewed_at or m.created_at
                if rules.dormant(seen.astimezone(HOME_TZ).date(), day):
                    summary["dormant"] += 1
                    await self._state(conn, out, m, "public", "M-09: no consumption for 3 months",
                                      period=day.strftime("%Y-%m"), referrer_staff_id=None)
            expired = (await conn.execute(
                cards.update().where(cards.c.status == "active", cards.c.valid_until < day)
                .values(status="expired").returning(cards.c.card_no, cards.c.member_id))).all()
            for c in expired:
                await conn.execute(members.update().where(members.c.card_no == c.card_no)
                                   .values(card_status="expired"))
                out.append(self._ev(c.member_id, CardExpired(member_id=c.member_id, card_no=c.card_no)))
            summary["expired"] = len(expired)
            await self._summary(conn, "daily", day.isoformat(), summary)
            await add_to_outbox(conn, out)
        self.wake()
        return summary

    async def month_end(self, period: str) -> dict[str, Any]:
        """M-10 detachment and M-11 claiming for a finished calendar month ('YYYY-MM')."""
        start, end = rules.month_bounds(period)
        out: list[OutgoingEvent] = []
        summary: dict[str, Any] = {"detached": 0, "claimed": 0, "tied": 0, "already_ran": False}
        async with self.engine.begin() as conn:
            if not await self._once(conn, "month_end", period):
                return {**summary, "already_ran": True}
            lo = datetime.combine(start - timedelta(days=1), datetime.min.time(), UTC)
            hi = datetime.combine(end + timedelta(days=2), datetime.min.time(), UTC)
            rows = (await conn.execute(
                sa.select(consumptions.c.member_id, consumptions.c.occurred_at, stores.c.timezone,
                          sa.func.coalesce(consumptions.c.booked_by_staff_id, consumptions.c.cashier_staff_id)
                          .label("server"))
                .join(stores, stores.c.store_id == consumptions.c.store_id)
                .where(consumptions.c.occurred_at >= lo, consumptions.c.occurred_at < hi)
                .order_by(consumptions.c.occurred_at))).all()
            served: dict[str, list[str | None]] = defaultdict(list)
            for r in rows:
                if start <= r.occurred_at.astimezone(ZoneInfo(r.timezone)).date() <= end:
                    served[r.member_id].append(r.server)
            carried: dict[str, dict[str, int]] = defaultdict(dict)
            for c in (await conn.execute(sa.select(claim_carry))).all():
                carried[c.member_id][c.staff_id] = int(c._mapping["count"])
            ids = set(served) | set(carried)
            files = (await conn.execute(sa.select(members).where(members.c.member_id.in_(ids))
                                        .with_for_update())).all() if ids else []
            for m in files:
                if m.status == "active" and rules.detached(served.get(m.member_id, []), m.referrer_staff_id):
                    summary["detached"] += 1
                    await self._state(conn, out, m, "public", f"M-10: {period} mostly served by others",
                                      period=period, referrer_staff_id=None)
                elif m.status in ("public", "dormant"):
                    await self._claim(conn, out, m, served.get(m.member_id, []), carried.get(m.member_id, {}),
                                      period, summary)
            await self._summary(conn, "month_end", period, summary)
            await add_to_outbox(conn, out)
        self.wake()
        return summary

    async def _claim(self, conn: AsyncConnection, out: list[OutgoingEvent], m: Any, served: list[str | None],
                     carried: dict[str, int], period: str, summary: dict[str, Any]) -> None:
        winner, carry = rules.claim([s for s in served if s], carried)
        await conn.execute(claim_carry.delete().where(claim_carry.c.member_id == m.member_id))
        if carry:
            summary["tied"] += 1
            await conn.execute(claim_carry.insert(), [{"member_id": m.member_id, "staff_id": s, "count": n}
                                                      for s, n in carry.items()])
        if winner:
            summary["claimed"] += 1  # M-11: the new referrer confirms the file, which is reviewed again
            await self._state(conn, out, m, "pending_review", f"M-11: claimed by {winner} for {period}",
                              referrer_staff_id=winner, submitted_at=self.clock())

    async def _summary(self, conn: AsyncConnection, rule: str, period: str, summary: dict[str, Any]) -> None:
        await conn.execute(periodic_runs.update().where(periodic_runs.c.rule == rule,
                                                        periodic_runs.c.period == period).values(summary=summary))


class Scheduler(Ticker):
    """Inside the service: every `interval_s`, today's daily rules and last month's month end (both idempotent)."""

    def __init__(self, periodic: Periodic, interval_s: float) -> None:
        super().__init__(interval_s, "members periodic rules")
        self.periodic = periodic

    async def tick(self) -> None:
        today = self.periodic.clock().astimezone(HOME_TZ).date()
        await self.periodic.daily(today)
        await self.periodic.month_end(rules.previous_period(today))
