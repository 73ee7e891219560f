"""HQ reviewers (O-03): requests decided at HQ are assigned to one reviewer when raised; a reviewer on leave names
a delegate, and while the leave lasts everything assigned to them is routed to the delegate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.auth import Principal, Role
from vipcore.errors import RuleViolation

from ..adapters.tables import requests, reviewer_leave, staff
from ..domain.access import routed_to
from ..entrypoints.schemas import LeaveIn


async def on_leave(conn: AsyncConnection, now: datetime) -> dict[str, str]:
    """Reviewer → delegate, for every leave in force at `now`."""
    rows = (await conn.execute(sa.select(reviewer_leave.c.staff_id, reviewer_leave.c.delegate_staff_id)
                               .where(reviewer_leave.c.until > now))).all()
    return {r.staff_id: r.delegate_staff_id for r in rows}


async def assign(conn: AsyncConnection, kind: str, now: datetime) -> str | None:
    """The HQ reviewer a new request goes to: the present one with the fewest pending items (then by id);
    when every reviewer is away, the least loaded one (their delegate takes it). None without reviewers."""
    load = sa.select(sa.func.count()).where(requests.c.reviewer == staff.c.staff_id, requests.c.status == "pending",
                                            requests.c.kind == kind).scalar_subquery()
    rows = (await conn.execute(sa.select(staff.c.staff_id, load.label("load")).where(
        staff.c.role == Role.HQ_CS.value, staff.c.left_at.is_(None), staff.c.password_hash.is_not(None))
        .order_by("load", staff.c.staff_id))).all()
    away = await on_leave(conn, now)
    present = [r.staff_id for r in rows if r.staff_id not in away]
    return (present or [r.staff_id for r in rows] or [None])[0]


async def routes(conn: AsyncConnection, now: datetime) -> Any:
    away = await on_leave(conn, now)
    return lambda reviewer: routed_to(reviewer, away)


async def set_leave(conn: AsyncConnection, p: Principal, body: LeaveIn, now: datetime) -> dict[str, Any]:
    """O-03: the caller goes on leave until `until`, naming an HQ reviewer who is present as delegate."""
    if body.until <= now:
        raise RuleViolation("O-03", "until", "the leave must end in the future")
    if body.delegate_staff_id == p.staff_id:
        raise RuleViolation("O-03", "delegate_staff_id", "name someone else as delegate")
    d = (await conn.execute(sa.select(staff.c.role, staff.c.left_at).where(
        staff.c.staff_id == body.delegate_staff_id))).first()
    if d is None or d.role != Role.HQ_CS.value or d.left_at is not None:
        raise RuleViolation("O-03", "delegate_staff_id", f"{body.delegate_staff_id} is not an HQ reviewer")
    if body.delegate_staff_id in await on_leave(conn, now):
        raise RuleViolation("O-03", "delegate_staff_id", f"{body.delegate_staff_id} is on leave too")
    values = {"delegate_staff_id": body.delegate_staff_id, "until": body.until, "set_at": now}
    await conn.execute(pg_insert(reviewer_leave).values(staff_id=p.staff_id, **values)
                       .on_conflict_do_update(index_elements=["staff_id"], set_=values))
    return {"staff_id": p.staff_id, "delegate_staff_id": body.delegate_staff_id, "until": body.until.isoformat()}


async def end_leave(conn: AsyncConnection, p: Principal) -> dict[str, Any]:
    await conn.execute(reviewer_leave.delete().where(reviewer_leave.c.staff_id == p.staff_id))
    return {"staff_id": p.staff_id, "on_leave": False}
