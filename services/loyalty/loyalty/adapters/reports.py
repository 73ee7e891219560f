"""Every report and statement query of loyalty in one place (R-03): points and stored-value liability, movements,
member statements. Read-only; each function runs its statements on one connection and shapes plain data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.exports import csv_text

from ..domain import sv_report
from ..domain.program import ProgramBook
from .tables import (
    accounts,
    adjustments,
    ledger,
    members,
    stored_value,
    stored_value_ledger,
    stores,
    tier_changes,
)

DIMENSIONS = ("program", "store", "region")


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), UTC)


def _home_store(owner: Any, entries: Any) -> Any:
    """A member's home store: the store of the member file, else the store of their latest entry."""
    return sa.func.coalesce(
        sa.select(members.c.store_id).where(members.c.member_id == owner.c.member_id).scalar_subquery(),
        sa.select(entries.c.store_id).where(entries.c.member_id == owner.c.member_id, entries.c.store_id.is_not(None))
        .order_by(entries.c.id.desc()).limit(1).scalar_subquery()).label("store_id")


async def stats(engine: AsyncEngine) -> dict[str, Any]:
    """Ledger entries, outstanding points and members per tier, per program (R-03 basis)."""
    async with engine.connect() as conn:
        entries = await conn.scalar(sa.select(sa.func.count()).select_from(ledger))
        rows = (await conn.execute(sa.select(accounts.c.program, accounts.c.tier, sa.func.count(),
                                             sa.func.sum(accounts.c.points_balance))
                                   .group_by(accounts.c.program, accounts.c.tier))).all()
    programs: dict[str, dict[str, Any]] = {}
    for program, tier, n, pts in rows:
        p = programs.setdefault(program, {"members": 0, "points_outstanding": 0, "tiers": {}})
        p["members"] += n
        p["points_outstanding"] += int(pts or 0)
        p["tiers"][tier] = n
    return {"ledger_entries": entries or 0, "programs": programs}


async def points_liability(engine: AsyncEngine,
                           books: dict[str, ProgramBook]) -> dict[str, dict[str, dict[str, int]]]:
    """Outstanding points and their money value (fen, at each program's current cash rate) per program, store
    and region (R-03); a member's points count for their home store."""
    sub = sa.select(accounts.c.program, accounts.c.points_balance, _home_store(accounts, ledger)).where(
        accounts.c.points_balance != 0).subquery()
    q = (sa.select(sub.c.program, sub.c.store_id, stores.c.region_code, sa.func.sum(sub.c.points_balance))
         .select_from(sub.outerjoin(stores, stores.c.store_id == sub.c.store_id))
         .group_by(sub.c.program, sub.c.store_id, stores.c.region_code))
    async with engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    out: dict[str, dict[str, dict[str, int]]] = {dim: {} for dim in DIMENSIONS}
    for pid, store_id, region, pts in rows:
        pts = int(pts or 0)
        for dim, key in zip(DIMENSIONS, (pid, store_id or "unknown", region or "unknown"), strict=True):
            cell = out[dim].setdefault(key, {"points": 0, "value": 0})
            cell["points"] += pts
            cell["value"] += books[pid].current.cash_value(pts) if pid in books else 0
    return out


def liability_csv(rep: dict[str, dict[str, dict[str, int]]]) -> str:
    """The points liability as CSV: scope, key, points, value."""
    return csv_text(["scope", "key", "points", "value"],  # formula-safe cells (vipcore.exports)
                    ([dim, key, c["points"], c["value"]] for dim in rep for key, c in sorted(rep[dim].items())))


async def movements(engine: AsyncEngine, since: date, until: date) -> dict[str, Any]:
    """Entries and points per program and kind (earn, reverse, redeem, expire, adjust) in [since, until) (R-03)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(
            sa.select(ledger.c.program, ledger.c.kind, sa.func.count(), sa.func.sum(ledger.c.points))
            .where(ledger.c.occurred_at >= _midnight(since), ledger.c.occurred_at < _midnight(until))
            .group_by(ledger.c.program, ledger.c.kind))).all()
    out: dict[str, dict[str, dict[str, int]]] = {}
    for pid, kind, n, pts in rows:
        out.setdefault(pid, {})[kind] = {"entries": n, "points": int(pts or 0)}
    return {"since": since.isoformat(), "until": until.isoformat(), "programs": out}


async def points_statement(engine: AsyncEngine, member_id: str, limit: int, before: int | None = None,
                           kind: str | None = None) -> dict[str, Any]:
    """A member's ledger entries, newest first, each with its cause and operator (L-02, R-03): the people who asked
    for and approved an adjustment (L-02, M-18), else the store of the receipt, else the scheduled job. `before`
    (an entry id) pages back; `kind` picks one kind (e.g. redeem: the member's redemptions)."""
    q = (sa.select(ledger, adjustments.c.requested_by, adjustments.c.decided_by)
         .select_from(ledger.outerjoin(adjustments, sa.and_(ledger.c.kind == "adjust",
                                                            adjustments.c.id == ledger.c.cause_event_id)))
         .where(ledger.c.member_id == member_id).order_by(ledger.c.id.desc()).limit(limit))
    if before is not None:
        q = q.where(ledger.c.id < before)
    if kind:
        q = q.where(ledger.c.kind == kind)
    async with engine.connect() as conn:
        rows = (await conn.execute(q)).mappings().all()
    entries = []
    for r in rows:
        e = {k: v for k, v in r.items() if k not in ("requested_by", "decided_by")}
        e["cause_event_id"] = str(r["cause_event_id"])
        e["operator"] = operator_of(r["kind"], r["store_id"], r["requested_by"], r["decided_by"],
                                    (r["detail"] or {}).get("operator"))
        entries.append(e)
    return {"member_id": member_id, "entries": entries}


def operator_of(kind: str, store_id: str | None, requested_by: str | None, decided_by: str | None,
                staff_id: str | None = None) -> str:
    """Who made a ledger entry: requester and approver of an adjustment (L-02), the staff member who checked the ID
    and handed out a desk-claimed reward at their store (L-09), the till's store of a sale, refund or redemption,
    otherwise the scheduled job (expiry, downgrade) — `system`."""
    if requested_by:
        return f"{requested_by} → {decided_by}" if decided_by else requested_by
    if staff_id and store_id:
        return f"{staff_id} @ store {store_id}"
    if store_id:
        return f"store {store_id}"
    return "system"


async def tier_statement(engine: AsyncEngine, member_id: str, limit: int) -> dict[str, Any]:
    """A member's standing per program (tier, points, tier spend) and tier changes with reasons, newest first
    (L-04 upgrades, L-05 downgrades)."""
    async with engine.connect() as conn:
        now = (await conn.execute(sa.select(accounts.c.program, accounts.c.tier, accounts.c.points_balance,
                                            accounts.c.tier_spend, accounts.c.updated_at)
                                  .where(accounts.c.member_id == member_id)
                                  .order_by(accounts.c.program))).mappings().all()
        changes = (await conn.execute(sa.select(tier_changes).where(tier_changes.c.member_id == member_id)
                                      .order_by(tier_changes.c.occurred_at.desc(), tier_changes.c.id.desc())
                                      .limit(limit))).mappings().all()
    return {"member_id": member_id, "accounts": [dict(a) for a in now], "changes": [dict(c) for c in changes]}


async def stored_value_report(engine: AsyncEngine, since: date, until: date) -> dict[str, Any]:
    """Stored-value money (R-03, L-11), fen: outstanding per program, store and region; the period [since, until)
    per program reconciled (opening + top-ups + bonus - spend + refunds = closing)."""
    svl = stored_value_ledger
    start, end = _midnight(since), _midnight(until)
    sub = sa.select(stored_value.c.program, stored_value.c.balance, _home_store(stored_value, svl)).where(
        stored_value.c.balance != 0).subquery()
    async with engine.connect() as conn:
        owed = (await conn.execute(
            sa.select(sub.c.program, sub.c.store_id, stores.c.region_code, sa.func.sum(sub.c.balance))
            .select_from(sub.outerjoin(stores, stores.c.store_id == sub.c.store_id))
            .group_by(sub.c.program, sub.c.store_id, stores.c.region_code))).all()
        before = dict((await conn.execute(
            sa.select(svl.c.program, sa.func.sum(svl.c.amount)).where(svl.c.occurred_at < start)
            .group_by(svl.c.program))).tuples().all())
        within = (await conn.execute(
            sa.select(svl.c.program, svl.c.kind, sa.func.sum(svl.c.amount), sa.func.sum(svl.c.paid),
                      sa.func.sum(svl.c.bonus))
            .where(svl.c.occurred_at >= start, svl.c.occurred_at < end)
            .group_by(svl.c.program, svl.c.kind))).all()
        totals = dict((await conn.execute(sa.select(svl.c.program, sa.func.sum(svl.c.amount))
                                          .group_by(svl.c.program))).tuples().all())
    outstanding: dict[str, dict[str, int]] = {dim: {} for dim in DIMENSIONS}
    for pid, store_id, region, fen in owed:
        for dim, key in zip(DIMENSIONS, (pid, store_id or "unknown", region or "unknown"), strict=True):
            outstanding[dim][key] = outstanding[dim].get(key, 0) + int(fen)
    periods = {pid: sv_report.movement(int(before.get(pid) or 0),
                                       [(k, int(a), int(p), int(b)) for q, k, a, p, b in within if q == pid])
               for pid in {*before, *(row[0] for row in within)}}
    return sv_report.report(since.isoformat(), until.isoformat(), periods, outstanding,
                            {pid: int(v or 0) for pid, v in totals.items()})


async def stored_value_statement(engine: AsyncEngine, member_id: str, limit: int) -> dict[str, Any]:
    """A member's stored-value entries, newest first, with each balance and what terminals hold now (L-11)."""
    svl = stored_value_ledger
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(svl).where(svl.c.member_id == member_id)
                                   .order_by(svl.c.id.desc()).limit(limit))).mappings().all()
        bal = (await conn.execute(sa.select(stored_value.c.program, stored_value.c.balance, stored_value.c.held)
                                  .where(stored_value.c.member_id == member_id))).all()
    return {"member_id": member_id,
            "balances": {p: {"balance": b, "held": h, "available": b - h} for p, b, h in bal},
            "entries": [{**e, "cause_id": str(e["cause_id"])} for e in rows]}
