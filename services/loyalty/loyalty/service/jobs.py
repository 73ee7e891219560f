"""Scheduled work, runnable for a given date and idempotent per period (a row in `runs` per job and period).

expiry (L-08) with notices N days ahead (L-16), yearly downgrade (L-05) with its notice (L-16), birthdays per store
time zone (L-10).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.contracts.loyalty import BirthdayToday, PointsExpired, PointsExpiring, TierDowngradeNotice
from vipcore.errors import NotFound
from vipcore.events import Envelope, EventData
from vipcore.logs import get_logger
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.scheduler import Ticker
from vipcore.topics import LOYALTY_EVENTS

from ..adapters.tables import accounts, members, runs, stores
from ..domain.pricing import is_birthday
from .handlers import AccountStore, entry_row, tier_event, tier_row

log = get_logger(__name__)
CHUNK = 500
NS = uuid.UUID("6c1d2b8e-5f0a-4c3e-9d7b-0a1b2c3d4e5f")


def cause_id(*parts: object) -> str:
    """A deterministic cause: the same job, member and period always give the same ledger key (L-02)."""
    return str(uuid.uuid5(NS, "|".join(map(str, parts))))


class Jobs:
    def __init__(self, engine: AsyncEngine, store: AccountStore, topic_prefix: str, wake: Callable[[], None]) -> None:
        self.engine, self.store, self.prefix, self.wake = engine, store, topic_prefix, wake

    def _out(self, key: str, data: EventData) -> OutgoingEvent:
        return OutgoingEvent(self.prefix + LOYALTY_EVENTS.name, key, Envelope.new(data, source="loyalty",
                                                                                  subject=key))

    async def run(self, job: str, day: date, tz: str) -> dict[str, Any]:
        """Run the named job for `day` (`tz`: the stores' time zone, birthdays only); an unknown job is NotFound."""
        if job == "expiry":
            return await self.expiry(day)
        if job == "downgrade":
            return await self.downgrade(day)
        if job == "downgrade_notice":
            return await self.downgrade_notices(day)
        if job == "birthday":
            return await self.birthdays(day, tz)
        raise NotFound("job", f"no job {job}: expiry | downgrade | downgrade_notice | birthday", rule="exists")

    async def _once(self, job: str, period: str, work: Callable[[], Any]) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            done = await conn.scalar(sa.select(runs.c.result).where(runs.c.job == job, runs.c.period == period))
        if done is not None:
            return {**done, "already_ran": True}
        result: dict[str, Any] = await work()
        async with self.engine.begin() as conn:
            await conn.execute(pg_insert(runs).values(job=job, period=period, result=result).on_conflict_do_nothing())
        self.wake()
        return {**result, "already_ran": False}

    async def _chunks(self, where: Any) -> Any:
        """Member/program keys matching `where`, in keyset pages (each page its own transaction)."""
        last = ("", "")
        while True:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(sa.select(accounts.c.member_id, accounts.c.program).where(
                    where, sa.tuple_(accounts.c.member_id, accounts.c.program) > last)
                    .order_by(accounts.c.member_id, accounts.c.program).limit(CHUNK))).all()
            if not rows:
                return
            yield {(r.member_id, r.program) for r in rows}
            last = (rows[-1].member_id, rows[-1].program)

    async def expiry(self, day: date) -> dict[str, Any]:
        """Expire points due by the end of `day` (UTC) and warn of points expiring N days later (L-08, L-16)."""
        at = datetime.combine(day + timedelta(days=1), time(0), UTC)

        async def work() -> dict[str, Any]:
            expired = notices = 0
            async for keys in self._chunks(accounts.c.points_balance > 0):
                async with self.engine.begin() as conn:
                    accts = await self.store.load(conn, keys)
                    entries, events = [], []
                    for a in accts.values():
                        program = self.store.books[a.program].at(at)
                        notice_at = at + timedelta(days=program.expiry.notice_days)
                        soon = sum(lt.remaining for lt in a.lots if lt.remaining > 0 and lt.expires_at
                                   and notice_at - timedelta(days=1) < lt.expires_at <= notice_at)
                        if soon:
                            notices += 1
                            events.append(self._out(a.member_id, PointsExpiring(
                                member_id=a.member_id, program=a.program, brand=program.brand, points=soon,
                                expires_on=notice_at)))
                        e = a.expire(program, at=at, cause=cause_id("expire", a.member_id, a.program, day))
                        if e is not None:
                            expired += -e.points
                            entries.append(entry_row(a, e, None, None))
                            events.append(self._out(a.member_id, PointsExpired(
                                member_id=a.member_id, program=a.program, points=-e.points, balance_after=a.balance,
                                occurred_at=at)))
                    await self.store.save(conn, list(accts.values()), entries)
                    await add_to_outbox(conn, events)
            return {"points_expired": expired, "notices": notices}

        return await self._once("expiry", day.isoformat(), work)

    async def downgrade(self, day: date) -> dict[str, Any]:
        """Yearly tier re-evaluation (L-05) for programs whose run date is `day`; each change an event."""
        at = datetime.combine(day, time(0), UTC)
        due = [b.at(at) for b in self.store.books.values()]
        due = [p for p in due if p.downgrade and (p.downgrade.run_month, p.downgrade.run_day) == (day.month, day.day)]

        async def work() -> dict[str, Any]:
            changed = 0
            for program in due:
                async for keys in self._chunks(sa.and_(accounts.c.program == program.id,
                                                       accounts.c.tier != program.entry_tier.code)):
                    async with self.engine.begin() as conn:
                        accts = await self.store.load(conn, keys)
                        events, tiers = [], []
                        for a in accts.values():
                            ch = a.downgrade(program, at)
                            if ch is not None:
                                changed += 1
                                cause = cause_id("downgrade", a.member_id, program.id, day)
                                events.append(self._out(a.member_id, tier_event(a, program, ch, cause, at)))
                                tiers.append(tier_row(a, ch, cause, at))
                        await self.store.save(conn, list(accts.values()), [], tiers)
                        await add_to_outbox(conn, events)
            return {"programs": [p.id for p in due], "tier_changes": changed}

        return await self._once("downgrade", day.isoformat(), work)

    async def downgrade_notices(self, day: date) -> dict[str, Any]:
        """Warn members who would drop a tier at the next re-evaluation, notice_days before it (L-16)."""
        due = []
        for b in self.store.books.values():
            p = b.at(datetime.combine(day, time(0), UTC))
            if p.downgrade is None:
                continue
            run = date(day.year, p.downgrade.run_month, p.downgrade.run_day)
            if run < day:
                run = date(day.year + 1, p.downgrade.run_month, p.downgrade.run_day)
            if run - timedelta(days=p.downgrade.notice_days) == day:
                due.append((p, run))

        async def work() -> dict[str, Any]:
            notices = 0
            for program, run in due:
                run_at = datetime.combine(run, time(0), UTC)
                async for keys in self._chunks(sa.and_(accounts.c.program == program.id,
                                                       accounts.c.tier != program.entry_tier.code)):
                    async with self.engine.begin() as conn:
                        accts = await self.store.load(conn, keys)
                        events = []
                        for a in accts.values():
                            ch = a.downgrade(program, run_at)  # a dry run: nothing is saved
                            if ch is not None:
                                notices += 1
                                events.append(self._out(a.member_id, TierDowngradeNotice(
                                    member_id=a.member_id, program=program.id, brand=program.brand,
                                    from_tier=ch.from_tier, to_tier=ch.to_tier.code, to_tier_name=ch.to_tier.name,
                                    on=run_at, reason=ch.reason)))
                        await add_to_outbox(conn, events)
            return {"programs": [p.id for p, _ in due], "notices": notices}

        return await self._once("downgrade_notice", day.isoformat(), work)

    async def birthdays(self, day: date, tz: str) -> dict[str, Any]:
        """Birthday events for members of stores in time zone `tz` whose local date is `day` (L-10)."""
        async def work() -> dict[str, Any]:
            async with self.engine.begin() as conn:
                rows = (await conn.execute(sa.select(members.c.member_id, members.c.store_id, members.c.birthday,
                                                     stores.c.program)
                                           .join(stores, stores.c.store_id == members.c.store_id)
                                           .where(stores.c.timezone == tz, members.c.birthday.is_not(None),
                                                  sa.extract("month", members.c.birthday) == day.month))).all()
                events = []
                for r in rows:
                    if not is_birthday(r.birthday, day) or r.program not in self.store.books:
                        continue
                    p = self.store.books[r.program].at(datetime.combine(day, time(0), UTC))
                    events.append(self._out(r.member_id, BirthdayToday(
                        member_id=r.member_id, program=p.id, brand=p.brand, store_id=r.store_id,
                        on=datetime.combine(day, time(8), ZoneInfo(tz)), discount_pct=p.birthday.discount_pct)))
                await add_to_outbox(conn, events)
            return {"birthdays": len(events)}

        return await self._once("birthday", f"{tz}/{day.isoformat()}", work)

    async def time_zones(self, conn: AsyncConnection) -> list[str]:
        return list((await conn.execute(sa.select(stores.c.timezone).distinct())).scalars())


class Scheduler(Ticker):
    """Runs each job once per period when due: birthdays at 08:00 store time, expiry and downgrade daily."""

    def __init__(self, jobs: Jobs, clock: Callable[[], datetime], every_s: float = 60.0) -> None:
        super().__init__(every_s, "loyalty jobs")
        self.jobs, self.clock = jobs, clock

    async def tick(self) -> None:
        now = self.clock()
        yesterday = (now - timedelta(days=1)).date()
        await self.jobs.expiry(yesterday)
        await self.jobs.downgrade(now.date())
        await self.jobs.downgrade_notices(now.date())
        async with self.jobs.engine.connect() as conn:
            zones = await self.jobs.time_zones(conn)
        for tz in zones:
            local = now.astimezone(ZoneInfo(tz))
            if local.hour >= 8:
                await self.jobs.birthdays(local.date(), tz)
