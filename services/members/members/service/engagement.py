"""Revisits and prospects (M-20), staff KPIs against the ramp of their position (M-21)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.auth import Principal, Role
from vipcore.errors import Forbidden, RuleViolation
from vipcore.pii import Keyring, encrypt, mask_name, mobile_index

from ..adapters import reports
from ..adapters.tables import members, prospects, revisits
from ..domain import kpi
from ..domain.periodic import month_bounds
from ..domain.validation import mobile_problem, name_problem
from ..entrypoints.schemas import ProspectIn, RevisitIn
from .files import MemberFiles

HOME_TZ = ZoneInfo("Asia/Shanghai")


class Engagement:
    def __init__(self, engine: AsyncEngine, files: MemberFiles, index_key: str, enc_key: Keyring,
                 clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.files = files
        self.index_key = index_key
        self.enc_key = enc_key
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(HOME_TZ).date()

    async def log_revisit(self, p: Principal, member_id: str, r: RevisitIn) -> dict[str, Any]:
        """M-20: a revisit of a member the caller may see (when, who, what, next date)."""
        nxt = r.next_date or self.today() + timedelta(days=kpi.REVISIT_AT_LEAST_DAYS)
        async with self.engine.begin() as conn:
            await self.files._visible_row(conn, p, member_id, "revisit")
            await conn.execute(revisits.insert().values(member_id=member_id, staff_id=p.staff_id, at=self.clock(),
                                                        summary=r.summary, next_date=nxt))
        return {"member_id": member_id, "next_date": nxt.isoformat()}

    async def plan(self, p: Principal, on: date | None) -> dict[str, Any]:
        """M-20: members due a revisit by `on` (planned date reached, or none for a year), and holiday calls."""
        on = on or self.today()
        last = (sa.select(revisits.c.member_id, sa.func.max(revisits.c.next_date).label("next_date"))
                .group_by(revisits.c.member_id).subquery())
        scope = self.files._scope(p)
        year_ago = datetime.combine(on - timedelta(days=kpi.REVISIT_AT_LEAST_DAYS), datetime.min.time(), HOME_TZ)
        q = (sa.select(members.c.member_id, members.c.full_name, members.c.referrer_staff_id, members.c.details,
                       last.c.next_date).outerjoin(last, last.c.member_id == members.c.member_id)
             .where(scope, members.c.status.in_(("active", "pending_review")),
                    sa.or_(last.c.next_date <= on, sa.and_(last.c.next_date.is_(None),
                                                           members.c.created_at <= year_ago)))
             .order_by(last.c.next_date.nulls_first()).limit(500))
        holidays = kpi.holiday_calls_due(on)
        async with self.engine.connect() as conn:
            due = (await conn.execute(q)).all()
            key = (await conn.execute(sa.select(members.c.member_id, members.c.full_name).where(
                scope, members.c.status == "active", members.c.details["account_size"].astext == "key"))).all() \
                if holidays else []
            pros = (await conn.execute(sa.select(prospects).where(
                prospects.c.next_visit <= on, *( [prospects.c.staff_id == p.staff_id] if p.role == Role.STAFF
                                                 else [prospects.c.store_id == p.store_id]))
                .order_by(prospects.c.next_visit))).all()
        return {"on": on.isoformat(),
                "members": [{"member_id": r.member_id, "display_name": mask_name(r.full_name),
                             "referrer_staff_id": r.referrer_staff_id,
                             "planned": r.next_date.isoformat() if r.next_date else None} for r in due],
                "holiday_calls": {"holidays": holidays, "key_accounts": [
                    {"member_id": r.member_id, "display_name": mask_name(r.full_name)} for r in key]},
                "prospects": [{"prospect_id": r.prospect_id, "display_name": mask_name(r.full_name),
                               "intent": r.intent, "next_visit": r.next_visit.isoformat()} for r in pros]}

    async def add_prospect(self, p: Principal, b: ProspectIn) -> dict[str, Any]:
        errs = [(f, m) for f, m in (("full_name", name_problem(b.full_name)), ("mobile", mobile_problem(b.mobile)))
                if m]
        if errs:
            raise RuleViolation.each([(f, m, "M-02") for f, m in errs])
        if not p.store_id:
            raise Forbidden("M-20", "store", "prospects belong to a store")
        pid = "P" + uuid.uuid4().hex[:15]
        nxt = kpi.next_visit(b.intent, self.today())
        async with self.engine.begin() as conn:
            await conn.execute(prospects.insert().values(
                prospect_id=pid, store_id=p.store_id, staff_id=p.staff_id, full_name=b.full_name,
                mobile_enc=encrypt(self.enc_key, b.mobile), mobile_index=mobile_index(self.index_key, b.mobile),
                intent=b.intent, next_visit=nxt, note=b.note))
        return {"prospect_id": pid, "intent": b.intent, "next_visit": nxt.isoformat()}

    async def kpis(self, p: Principal, period: str, store_id: str | None) -> dict[str, Any]:
        """M-21: per staff member, held active members against the ramp of their position, and members lost."""
        store = store_id if p.role in (Role.HQ_ADMIN, Role.HQ_CS) and store_id else p.store_id
        _, end = month_bounds(period)
        async with self.engine.connect() as conn:
            people, held, lost = await reports.kpi_inputs(conn, store, period)
        rows = []
        for s in people:
            month_no = kpi.month_in_position(s.started_on, end) if s.started_on else None
            goal = kpi.target(s.position, month_no) if month_no else None
            n = int(held.get(s.staff_id, 0))
            rows.append({"staff_id": s.staff_id, "position": s.position, "month_in_position": month_no,
                         "target": goal, "held": n, "lost_this_month": int(lost.get(s.staff_id, 0)),
                         "met": None if goal is None else n >= goal,
                         "short_by": None if goal is None else max(goal - n, 0)})
        return {"store_id": store, "period": period, "staff": rows}
