"""HQ routes: reports (R-03) and scheduled jobs run for a given date (an hq_admin staff token); member statements
(HQ admin, HQ customer service, auditors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import PROBLEM_RESPONSES
from vipcore.inputs import Ident

from ..adapters import reports
from ..domain import sv_report
from ..domain.periods import check_period
from ..domain.program import ProgramBook
from ..service.jobs import Jobs
from .schemas import (
    CSV,
    JobName,
    JobResult,
    LedgerKind,
    LedgerStatement,
    LiabilityOut,
    MovementsOut,
    ReportDate,
    ReportFormat,
    StatementLimit,
    StatsOut,
    StoredValueReport,
    StoredValueStatement,
    TierStatement,
    TimeZone,
)


def _csv(body: str, filename: str) -> Response:
    return Response(body, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def admin_router(engine: AsyncEngine, books: dict[str, ProgramBook], guard: Any, jobs: Jobs) -> APIRouter:
    r = APIRouter(dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.get("/v1/stats", tags=["reports"], response_model=StatsOut)
    async def stats() -> dict[str, Any]:
        """Ledger entries, outstanding points and members per tier, per program (R-03 basis)."""
        return await reports.stats(engine)

    @r.get("/v1/reports/liability", tags=["reports"], response_model=LiabilityOut,
           responses={200: {"content": CSV, "description": "JSON, or CSV with `format=csv`"}})
    async def liability(format: Annotated[ReportFormat, Query()] = "json") -> Any:
        """Outstanding points and their money value (fen) per program, store and home store's region (R-03)."""
        rep = await reports.points_liability(engine, books)
        return _csv(reports.liability_csv(rep), "points-liability.csv") if format == "csv" else rep

    @r.get("/v1/reports/movements", tags=["reports"], response_model=MovementsOut)
    async def movements(since: Annotated[ReportDate, Query()], until: Annotated[ReportDate, Query()]) -> dict[str, Any]:
        """Points earned, reversed, redeemed, expired and adjusted per program in [since, until), UTC dates (R-03)."""
        check_period(since, until)
        return await reports.movements(engine, since, until)

    @r.get("/v1/reports/stored-value", tags=["reports"], response_model=StoredValueReport,
           responses={200: {"content": CSV, "description": "JSON, or CSV with `format=csv`"}})
    async def stored_value_report(since: Annotated[ReportDate, Query()], until: Annotated[ReportDate, Query()],
                                  format: Annotated[ReportFormat, Query()] = "json") -> Any:
        """Stored-value money (R-03, L-11), fen: owed per program, store and region; the period reconciled."""
        check_period(since, until)
        rep = await reports.stored_value_report(engine, since, until)
        return _csv(sv_report.to_csv(rep), f"stored-value-{since}-{until}.csv") if format == "csv" else rep

    @r.post("/admin/jobs/{job}", tags=["admin"], response_model=JobResult, response_model_exclude_unset=True)
    async def run_job(job: Annotated[JobName, Path()], on: Annotated[ReportDate, Query()],
                      tz: Annotated[TimeZone, Query()] = "Asia/Shanghai") -> dict[str, Any]:
        """Run a job for a date: expiry (L-08, L-16), downgrade (L-05), downgrade_notice (L-16), birthday (L-10)."""
        return await jobs.run(job, on, tz)

    return r


def statements_router(engine: AsyncEngine, guard: Any) -> APIRouter:
    """A member's statements (points, tiers, stored value): HQ staff reading a member's history on the phone or in
    the console, and auditors (O-02; the guard names the roles)."""
    r = APIRouter(dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.get("/v1/members/{member_id}/ledger", tags=["statements"], response_model=LedgerStatement)
    async def statement(member_id: Annotated[Ident, Path()],
                        limit: Annotated[StatementLimit, Query()] = 100,
                        before: Annotated[int | None, Query(ge=1, le=2**63 - 1,
                                                            description="entries older than this id")] = None,
                        kind: Annotated[LedgerKind | None, Query()] = None) -> dict[str, Any]:
        """A member's ledger entries, newest first, each with its cause and operator (L-02, R-03); page back with
        `before` (the last id seen); `kind=redeem` lists the redemptions."""
        return await reports.points_statement(engine, member_id, limit, before, kind)

    @r.get("/v1/members/{member_id}/tiers", tags=["statements"], response_model=TierStatement)
    async def tier_statement(member_id: Annotated[Ident, Path()],
                             limit: Annotated[StatementLimit, Query()] = 100) -> dict[str, Any]:
        """A member's tier and points per program and the tier changes with their reasons, newest first (L-04,
        L-05)."""
        return await reports.tier_statement(engine, member_id, limit)

    @r.get("/v1/members/{member_id}/stored-value-ledger", tags=["statements"], response_model=StoredValueStatement)
    async def stored_value_statement(member_id: Annotated[Ident, Path()],
                                     limit: Annotated[StatementLimit, Query()] = 100) -> dict[str, Any]:
        """A member's stored-value entries, newest first, and each balance with what terminals hold (L-11, R-03)."""
        return await reports.stored_value_statement(engine, member_id, limit)

    return r
