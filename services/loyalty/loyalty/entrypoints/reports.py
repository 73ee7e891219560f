"""HQ routes: reports (R-03), member statements, scheduled jobs for a given date, adjustments with approval."""


import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.auth import Principal, Role, TokenVerifier, require
from vipcore.http import FieldError, Problem

from ..adapters.tables import accounts, ledger, members, stores
from ..domain.account import RuleViolation
from ..domain.program import ProgramBook
from ..service.commands import Commands
from ..service.jobs import Jobs
from ..service.stored_value import StoredValueDesk
from .problems import refused


def admin_router(engine: AsyncEngine, books: dict[str, ProgramBook], guard: object, jobs: Jobs) -> APIRouter:
    r = APIRouter(dependencies=[Depends(guard)])  # type: ignore[arg-type]

    @r.get("/v1/stats", tags=["reports"])
    async def stats() -> dict[str, Any]:
        """Ledger entries, outstanding points and members per tier, per program (R-03 basis)."""
        async with engine.connect() as conn:
            entries = await conn.scalar(sa.select(sa.func.count()).select_from(ledger))
            rows = (await conn.execute(sa.select(accounts.c.program, accounts.c.tier, sa.func.count(),
                                                 sa.func.sum(accounts.c.points_balance))
                                       .group_by(accounts.c.program, accounts.c.tier))).all()
        programs_out: dict[str, dict[str, Any]] = {}
        for program, tier, n, pts in rows:
            p = programs_out.setdefault(program, {"members": 0, "points_outstanding": 0, "tiers": {}})
            p["members"] += n
            p["points_outstanding"] += int(pts or 0)
            p["tiers"][tier] = n
        return {"ledger_entries": entries, "programs": programs_out}

    @r.get("/v1/reports/liability", tags=["reports"])
    async def liability(format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Any:
        """Outstanding points and their money value (fen) per program, store and region (R-03); JSON or CSV.

        A member's points are attributed to their home store (the store of the member file, else the store of
        their latest entry); value = points at the program's cash conversion rate.
        """
        home = sa.func.coalesce(
            sa.select(members.c.store_id).where(members.c.member_id == accounts.c.member_id).scalar_subquery(),
            sa.select(ledger.c.store_id).where(ledger.c.member_id == accounts.c.member_id,
                                               ledger.c.store_id.is_not(None))
            .order_by(ledger.c.id.desc()).limit(1).scalar_subquery()).label("store_id")
        sub = sa.select(accounts.c.program, accounts.c.points_balance, home).where(
            accounts.c.points_balance != 0).subquery()
        q = (sa.select(sub.c.program, sub.c.store_id, stores.c.region_code, sa.func.sum(sub.c.points_balance))
             .select_from(sub.outerjoin(stores, stores.c.store_id == sub.c.store_id))
             .group_by(sub.c.program, sub.c.store_id, stores.c.region_code))
        async with engine.connect() as conn:
            rows = (await conn.execute(q)).all()

        def value(pid: str, pts: int) -> int:
            rate = books[pid].current.redemption.points_per_yuan_cash if pid in books else None
            return pts * 100 // rate if rate else 0

        out: dict[str, dict[str, dict[str, int]]] = {"program": {}, "store": {}, "region": {}}
        for pid, store_id, region, pts in rows:
            pts = int(pts or 0)
            for dim, key in (("program", pid), ("store", store_id or "unknown"), ("region", region or "unknown")):
                cell = out[dim].setdefault(key, {"points": 0, "value": 0})
                cell["points"] += pts
                cell["value"] += value(pid, pts)
        if format == "csv":
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(["scope", "key", "points", "value"])
            w.writerows([dim, key, c["points"], c["value"]] for dim in out for key, c in sorted(out[dim].items()))
            return Response(buf.getvalue(), media_type="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="points-liability.csv"'})
        return out

    @r.get("/v1/reports/movements", tags=["reports"])
    async def movements(since: date, until: date) -> dict[str, Any]:
        """Points redeemed and expired (and earned, reversed) per program in [since, until) (R-03)."""
        if until <= since:
            raise Problem(422, "Invalid request", errors=[FieldError("until", "must be after since", "R-03")])
        async with engine.connect() as conn:
            rows = (await conn.execute(
                sa.select(ledger.c.program, ledger.c.kind, sa.func.count(), sa.func.sum(ledger.c.points))
                .where(ledger.c.occurred_at >= since, ledger.c.occurred_at < until)
                .group_by(ledger.c.program, ledger.c.kind))).all()
        out: dict[str, dict[str, dict[str, int]]] = {}
        for pid, kind, n, pts in rows:
            out.setdefault(pid, {})[kind] = {"entries": n, "points": int(pts or 0)}
        return {"since": since.isoformat(), "until": until.isoformat(), "programs": out}

    @r.get("/v1/members/{member_id}/ledger", tags=["statements"])
    async def statement(member_id: str, limit: Annotated[int, Query(ge=1)] = 100) -> dict[str, Any]:
        """A member's ledger entries, newest first, each with its cause (L-02, R-03)."""
        if limit > 1000:
            raise Problem(422, "Invalid request", errors=[FieldError("limit", "at most 1000")])
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(ledger).where(ledger.c.member_id == member_id)
                                       .order_by(ledger.c.id.desc()).limit(limit))).mappings().all()
        return {"member_id": member_id, "entries": [
            {**{k: v for k, v in r.items() if k != "cause_event_id"}, "cause_event_id": str(r["cause_event_id"])}
            for r in rows]}

    @r.post("/admin/jobs/{job}", tags=["admin"])
    async def run_job(job: str, on: date, tz: str = "Asia/Shanghai") -> dict[str, Any]:
        """Run a scheduled job for a date (expiry L-08/L-16, downgrade L-05, its notice L-16, birthday L-10)."""
        if job == "expiry":
            return await jobs.expiry(on)
        if job == "downgrade":
            return await jobs.downgrade(on)
        if job == "downgrade_notice":
            return await jobs.downgrade_notices(on)
        if job == "birthday":
            return await jobs.birthdays(on, tz)
        raise Problem(404, "Not found", errors=[FieldError("job", "expiry | downgrade | downgrade_notice | birthday")])

    return r


class AdjustmentIn(BaseModel):
    member_id: str
    program: str
    points: int = Field(description="positive adds, negative takes")
    reason: str = Field(min_length=5, max_length=500)
    receipt_no: str | None = Field(None, description="for a back-filled receipt (M-18)")


class TopUpIn(BaseModel):
    topup_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="the same id again is a replay")
    member_id: str
    store_id: str
    pay: int = Field(gt=0, le=100_000_000, description="fen paid")


def staff_router(verifier: TokenVerifier, commands: Commands, desk: StoredValueDesk,
                 program_of_store: Callable[[str], Awaitable[str]]) -> APIRouter:
    r = APIRouter(prefix="/v1/adjustments", tags=["adjustments"])
    sv = APIRouter(prefix="/v1/stored-value", tags=["stored value"])
    Cashier = Annotated[Principal, Depends(require(verifier, Role.STAFF, Role.STORE_CS_MANAGER,
                                                     Role.STORE_MANAGER, Role.HQ_ADMIN))]

    @sv.post("/topups", status_code=201)
    async def top_up(body: TopUpIn, who: Cashier) -> dict[str, Any]:
        """Top up a member's stored value with the program's bonus (L-11)."""
        if who.store_id is not None and who.role != Role.HQ_ADMIN and who.store_id != body.store_id:
            raise Problem(403, "Forbidden", errors=[FieldError("store_id", "another store's top-up", "O-02")])
        program = await program_of_store(body.store_id)
        return await desk.top_up(topup_id=body.topup_id, member_id=body.member_id, program=program,
                                 store_id=body.store_id, pay=body.pay, staff_id=who.staff_id)

    @sv.get("/{member_id}")
    async def balance(member_id: str, store_id: str, who: Cashier) -> dict[str, Any]:
        """Stored-value balance under the program of `store_id` (L-11)."""
        program = await program_of_store(store_id)
        return {"member_id": member_id, "program": program, "balance": await desk.balance(member_id, program)}

    Requester = Annotated[Principal, Depends(require(verifier, Role.STORE_CS_MANAGER, Role.HQ_CS, Role.HQ_ADMIN))]
    Approver = Annotated[Principal, Depends(require(verifier, Role.HQ_CS, Role.HQ_ADMIN))]

    @r.post("", status_code=201)
    async def request(body: AdjustmentIn, who: Requester) -> dict[str, Any]:
        """Ask for a manual adjustment or a back-filled receipt; a second person must approve (L-02, M-18)."""
        if body.points == 0:
            raise Problem(422, "Invalid request", errors=[FieldError("points", "must not be 0", "L-02")])
        try:
            adj = await commands.request_adjustment(member_id=body.member_id, program=body.program,
                                                    points=body.points, reason=body.reason,
                                                    receipt_no=body.receipt_no, requested_by=who.staff_id)
        except RuleViolation as e:
            raise refused(e) from None
        return {"adjustment_id": str(adj), "status": "requested"}

    @r.get("")
    async def list_adjustments(who: Requester,
                               status: Annotated[str, Query(pattern="^(requested|approved|rejected)$")] = "requested",
                               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
        """Adjustments waiting for (or given) a second person's decision (L-02, M-18); a store's customer-service
        manager sees the ones they asked for, HQ every one."""
        mine = None if who.role in (Role.HQ_CS, Role.HQ_ADMIN) else who.staff_id
        return {"items": await commands.list_adjustments(status=status, requested_by=mine, limit=limit)}

    @r.post("/{adjustment_id}/approve")
    async def approve(adjustment_id: uuid.UUID, who: Approver) -> dict[str, Any]:
        """Approve and apply an adjustment (not by the requester)."""
        try:
            return await commands.decide_adjustment(adjustment_id, approve=True, decided_by=who.staff_id)
        except RuleViolation as e:
            raise refused(e) from None

    @r.post("/{adjustment_id}/reject")
    async def reject(adjustment_id: uuid.UUID, who: Approver) -> dict[str, Any]:
        """Reject an adjustment."""
        try:
            return await commands.decide_adjustment(adjustment_id, approve=False, decided_by=who.staff_id)
        except RuleViolation as e:
            raise refused(e) from None

    outer = APIRouter()
    outer.include_router(r)
    outer.include_router(sv)
    return outer

