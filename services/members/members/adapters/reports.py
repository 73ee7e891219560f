"""Report queries of the members service in one place: read-only views for HQ admin, auditors and store leads.

Nothing here writes; each function answers plain dicts ready for the response models in
`entrypoints/schemas.py`. Reads of member files that must be access-logged (M-07) stay in the service, which
writes the log in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.errors import NotFound
from vipcore.pii import mask_name

from .tables import (
    access_log,
    blacklist,
    cards,
    consumptions,
    file_changes,
    handover_files,
    handovers,
    members,
    merges,
    referrer_losses,
    requests,
    revisits,
    staff,
)


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

    async def today(self, store_id: str | None, since: datetime) -> list[dict[str, Any]]:
        """Per store since `since` (the local midnight): files opened, member sales recorded and their amount (fen);
        one store's, or every store's when `store_id` is None."""
        opened = sa.select(members.c.store_id, sa.func.count().label("n")).where(
            members.c.created_at >= since).group_by(members.c.store_id)
        sold = sa.select(consumptions.c.store_id, sa.func.count().label("n"),
                         sa.func.coalesce(sa.func.sum(consumptions.c.amount), 0).label("amount")).where(
            consumptions.c.occurred_at >= since).group_by(consumptions.c.store_id)
        if store_id is not None:
            opened, sold = opened.where(members.c.store_id == store_id), sold.where(consumptions.c.store_id == store_id)
        async with self.engine.connect() as conn:
            new = {r.store_id: int(r.n) for r in await conn.execute(opened)}
            sales = {r.store_id: (int(r.n), int(r.amount)) for r in await conn.execute(sold)}
        return [{"store_id": sid, "new_members": new.get(sid, 0), "member_sales": sales.get(sid, (0, 0))[0],
                 "member_sales_amount": sales.get(sid, (0, 0))[1]}
                for sid in sorted({*new, *sales, *([store_id] if store_id else [])})]

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


async def review_queue_rows(conn: AsyncConnection, store_id: str | None, overdue_before: datetime, page: int = 1,
                            limit: int = 100) -> tuple[list[Any], int, int]:
    """M-04: one page of the files pending review, oldest submission first (all stores when `store_id` is None),
    with the queue's size and how many were submitted before `overdue_before` (past the target)."""
    cond = members.c.status == "pending_review"
    if store_id is not None:
        cond = sa.and_(cond, members.c.store_id == store_id)
    q = (sa.select(members.c.member_id, members.c.store_id, members.c.referrer_staff_id, members.c.submitted_at,
                   members.c.full_name).where(cond).order_by(members.c.submitted_at, members.c.member_id)
         .offset((page - 1) * limit).limit(limit))
    rows = list((await conn.execute(q)).all())
    total, overdue = (await conn.execute(sa.select(
        sa.func.count(), sa.func.count().filter(members.c.submitted_at < overdue_before)).where(cond))).one()
    return rows, int(total), int(overdue)


def _at(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


async def file_history(conn: AsyncConnection, m: Any, limit: int) -> dict[str, Any]:
    """The member page's history of one file `m` (a members row the caller may see): every state change with who,
    when and why, newest first (opened, submitted and reviewed M-04, merged M-06, blacklisted M-16, handed over
    M-12, deletion and access requests M-15/M-07, changes M-13), every card issued (M-17), revisits (M-20) and
    purchases."""
    mid = m.member_id
    ev: list[dict[str, Any]] = [{"at": _at(m.created_at), "event": "opened", "by": m.referrer_staff_id,
                                 "note": f"store {m.store_id}"}]
    if m.submitted_at is not None:
        ev.append({"at": _at(m.submitted_at), "event": "submitted", "by": m.referrer_staff_id, "note": None})
    steps = (await conn.execute(sa.select(file_changes).where(file_changes.c.member_id == mid)
                                .order_by(file_changes.c.id.desc()).limit(limit))).mappings().all()
    if m.reviewed_at is not None and all(c["kind"] == "changed" for c in steps):  # reviewed before M-13's record
        ev.append({"at": _at(m.reviewed_at), "event": "reviewed", "by": m.reviewed_by, "note": m.review_note})
    for c in steps:  # M-13: each change (fields, state left and entered) and each review decision, by whom
        if c["kind"] == "changed":
            ev.append({"at": _at(c["at"]), "event": "changed", "by": c["by"],
                       "note": f"{', '.join(f['field'] for f in c['fields']) or '—'} "
                               f"({c['from_status']} → {c['to_status']})"})
        else:
            ev.append({"at": _at(c["at"]), "event": "reviewed", "by": c["by"],
                       "note": c["kind"] + (f": {c['note']}" if c["note"] else "")})
    for g in (await conn.execute(sa.select(merges).where(
            sa.or_(merges.c.kept_member_id == mid, merges.c.merged_member_id == mid)))).mappings():
        kept = g["kept_member_id"] == mid
        ev.append({"at": _at(g["at"]), "event": "merged_in" if kept else "merged_into", "by": g["merged_by"],
                   "note": f"{g['merged_member_id'] if kept else g['kept_member_id']}: {g['reason']}"})
    for b in (await conn.execute(sa.select(blacklist).where(blacklist.c.mobile_index == m.mobile_index))).mappings():
        ev.append({"at": _at(b["since"]), "event": "blacklisted", "by": b["listed_by"], "note": b["reason"]})
        if b["lifted_at"] is not None:  # M-16: a lifted listing stays in the history with who lifted it and why
            ev.append({"at": _at(b["lifted_at"]), "event": "blacklist_lifted", "by": b["lifted_by"],
                       "note": b["lift_reason"]})
    for q in (await conn.execute(sa.select(requests).where(requests.c.member_id == mid))).mappings():
        ev.append({"at": _at(q["raised_at"]), "event": f"{q['kind']}_requested", "by": q["raised_by"],
                   "note": q["reason"]})
        if q["decided_at"] is not None:
            ev.append({"at": _at(q["decided_at"]), "event": f"{q['kind']}_{q['status']}", "by": q["decided_by"],
                       "note": q["decision_note"]})
    for h in (await conn.execute(
            sa.select(handovers.c.from_staff_id, handovers.c.to_staff_id, handovers.c.reason, handovers.c.raised_at,
                      handover_files.c.approved_by, handover_files.c.approved_at)
            .select_from(handover_files.join(handovers, handovers.c.handover_id == handover_files.c.handover_id))
            .where(handover_files.c.member_id == mid))).mappings():
        done = h["approved_at"] is not None
        ev.append({"at": _at(h["approved_at"] if done else h["raised_at"]),
                   "event": "handed_over" if done else "handover_requested",
                   "by": h["approved_by"] if done else h["from_staff_id"],
                   "note": f"{h['from_staff_id']} → {h['to_staff_id']}: {h['reason']}"})
    ev.sort(key=lambda e: e["at"] or "", reverse=True)
    card_rows = (await conn.execute(sa.select(cards).where(cards.c.member_id == mid)
                                    .order_by(cards.c.issued_at.desc()).limit(limit))).mappings().all()
    visits = (await conn.execute(sa.select(revisits).where(revisits.c.member_id == mid)
                                 .order_by(revisits.c.at.desc()).limit(limit))).mappings().all()
    bought = (await conn.execute(sa.select(consumptions).where(consumptions.c.member_id == mid)
                                 .order_by(consumptions.c.occurred_at.desc()).limit(limit))).mappings().all()
    return {"member_id": mid, "status": m.status, "events": ev[:limit],
            "cards": [{"card_no": c["card_no"], "store_id": c["store_id"], "status": c["status"],
                       "issued_at": _at(c["issued_at"]), "valid_until": _at(c["valid_until"]),
                       "replaced_by": c["replaced_by"]} for c in card_rows],
            "revisits": [{"at": _at(v["at"]), "staff_id": v["staff_id"], "summary": v["summary"],
                          "next_date": _at(v["next_date"])} for v in visits],
            "consumptions": [{"sale_id": c["sale_id"], "store_id": c["store_id"], "amount": c["amount"],
                              "cashier_staff_id": c["cashier_staff_id"], "occurred_at": _at(c["occurred_at"])}
                             for c in bought]}
