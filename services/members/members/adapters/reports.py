"""Report queries of the members service in one place: read-only views for HQ admin, auditors and store leads.

Nothing here writes; each function answers plain dicts ready for the response models in
`entrypoints/schemas.py`. Reads of member files that must be access-logged (M-07) stay in the service, which
writes the log in the same transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.errors import NotFound
from vipcore.pii import mask_name

from .tables import access_log, consumptions, members, referrer_losses, staff


class Reports:
    """Read-only queries over the members database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def member(self, member_id: str) -> dict[str, Any]:
        """A member as HQ admin sees it: the name masked."""
        async with self.engine.connect() as conn:
            m = (await conn.execute(sa.select(members).where(members.c.member_id == member_id))).first()
        if m is None:
            raise NotFound("member_id", f"no member {member_id}")
        return {"member_id": m.member_id, "store_id": m.store_id, "display_name": mask_name(m.full_name),
                "card_no": m.card_no, "card_status": m.card_status, "status": m.status,
                "referrer_staff_id": m.referrer_staff_id}

    async def consumptions(self, member_id: str) -> list[dict[str, Any]]:
        """Every consumption of a member, oldest first: store, staff, amount, time."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(consumptions).where(consumptions.c.member_id == member_id)
                                       .order_by(consumptions.c.occurred_at))).mappings().all()
        return [{**dict(r), "occurred_at": r["occurred_at"].isoformat()} for r in rows]

    async def access_entries(self, staff_id: str | None, member_id: str | None, limit: int) -> list[dict[str, Any]]:
        """M-07: the access log for auditors, newest first."""
        q = sa.select(access_log).order_by(access_log.c.id.desc()).limit(limit)
        if staff_id:
            q = q.where(access_log.c.staff_id == staff_id)
        if member_id:
            q = q.where(access_log.c.member_ids.any(member_id))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return [{**dict(r), "at": r["at"].isoformat()} for r in rows]


async def kpi_inputs(conn: AsyncConnection, store_id: str | None, period: str
                     ) -> tuple[list[Any], dict[str, int], dict[str, int]]:
    """M-21: a store's staff, active members held per referrer, and members each lost in `period`."""
    people = list((await conn.execute(sa.select(staff).where(staff.c.store_id == store_id)
                                      .order_by(staff.c.staff_id))).all())
    held = dict((await conn.execute(
        sa.select(members.c.referrer_staff_id, sa.func.count()).where(
            members.c.store_id == store_id, members.c.status == "active")
        .group_by(members.c.referrer_staff_id))).tuples().all())
    lost = dict((await conn.execute(
        sa.select(referrer_losses.c.staff_id, sa.func.count()).where(referrer_losses.c.period == period)
        .group_by(referrer_losses.c.staff_id))).tuples().all())
    return people, held, lost


async def review_queue_rows(conn: AsyncConnection, store_id: str | None) -> list[Any]:
    """M-04: files pending review, oldest submission first; all stores when `store_id` is None."""
    q = sa.select(members.c.member_id, members.c.store_id, members.c.referrer_staff_id, members.c.submitted_at,
                  members.c.full_name).where(members.c.status == "pending_review").order_by(members.c.submitted_at)
    if store_id is not None:
        q = q.where(members.c.store_id == store_id)
    return list((await conn.execute(q)).all())
