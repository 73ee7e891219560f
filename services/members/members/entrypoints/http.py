"""Members HTTP API for HQ admin (hq_admin staff token): stores, staff, members, imports, periodic rules. Thin routes:
the bodies are `schemas.py`'s, the decisions the services'."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from vipcore.http import PROBLEM_RESPONSES
from vipcore.identity import Caller
from vipcore.inputs import LongIdent

from ..adapters.reports import Reports
from ..service.importer import Importer
from ..service.periodic import Periodic
from ..service.registry import Registry
from ..service.validity import CardValidity
from .schemas import (
    CardValidityOut,
    ConsumptionsOut,
    CountOut,
    DailyOut,
    DayIn,
    FileName,
    ImportProgress,
    ImportStarted,
    MappingJson,
    MemberId,
    MemberIn,
    MemberSummary,
    MonthEndOut,
    MonthIn,
    ProgramId,
    PublishedOut,
    RegisteredOut,
    StaffId,
    StaffIn,
    StaffLeftOut,
    StoreId,
    StoreIn,
    StoreOut,
    ValidityIn,
)
from .storedesk_http import operator_of

ImportId = Annotated[LongIdent, Path(description="as answered by POST /v1/imports")]
Program = Annotated[ProgramId, Path(description="a loyalty program's id (programs/*.yaml)")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CsvResponse(Response):
    """A CSV download (UTF-8)."""

    media_type = "text/csv"


def router(reg: Registry, reports: Reports, guard: Any, periodic: Periodic, importer: Importer,
           validity: CardValidity) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["members"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.post("/imports", status_code=202, openapi_extra={"requestBody": {
        "required": True, "description": f"the spreadsheet's bytes (CSV in UTF-8, or {XLSX}; `format` says which): a "
                                         "header row, then one customer per row",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def start_import(
            request: Request, store_id: Annotated[StoreId, Query()],
            format: Annotated[Literal["csv", "xlsx"], Query(description=f"csv (UTF-8) or xlsx ({XLSX})")] = "csv",
            filename: Annotated[FileName, Query()] = "upload",
            mapping: Annotated[MappingJson | None, Query(
                description='JSON {"column header": "field"} added to the default mapping')] = None,
            caller: Caller = Depends(guard),  # noqa: B008 - the router's guard, cached: who starts the import
    ) -> ImportStarted:
        """Import existing customers from a CSV/XLSX body (M-19); follow it at /v1/imports/{import_id}. The import
        records who started it (the staff id of the token). Optional columns `opening_points` (期初积分, a whole
        number 0..10,000,000), `opening_tier` (期初等级, a tier of the store's program) and `opening_stored_value`
        (期初储值, yuan with at most 2 decimals, 0..1,000,000.00) bring the customer's balances from the old system:
        loyalty writes each once as an `opening` entry (L-02, L-11)."""
        import_id = await importer.start(store_id, filename, format, await request.body(), mapping,
                                         started_by=operator_of(caller))
        return ImportStarted(import_id=import_id, progress=f"/v1/imports/{import_id}")

    @r.get("/imports/{import_id}")
    async def import_progress(import_id: ImportId) -> ImportProgress:
        """Progress of an import: total, processed, imported, rejected, percent (M-19)."""
        return ImportProgress(**await importer.progress(import_id))

    @r.get("/imports/{import_id}/rejected.csv", response_class=CsvResponse,
           responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                            "description": "row, reasons, full_name, mobile (masked)"}})
    async def import_rejects(import_id: ImportId) -> CsvResponse:
        """Every rejected row with its reasons, as CSV (M-19)."""
        return CsvResponse(await importer.rejects_csv(import_id), media_type="text/csv; charset=utf-8")

    @r.post("/admin/month-end")
    async def month_end(body: MonthIn) -> MonthEndOut:
        """Run M-10 detachment and M-11 claiming for a finished month; a second run changes nothing."""
        return MonthEndOut(period=body.period, **await periodic.month_end(body.period))

    @r.post("/admin/daily")
    async def daily(body: DayIn) -> DailyOut:
        """Run M-03 purge, M-09 dormancy and M-17 card expiry as of a date; a second run changes nothing."""
        return DailyOut(date=body.date.isoformat(), **await periodic.daily(body.date))

    @r.post("/admin/staff-directory:republish")
    async def republish_staff() -> PublishedOut:
        """Publish every staff member as members.staff.changed again (O-01; seeds credit's directory, C-07)."""
        return PublishedOut(published=await reg.republish_staff())

    @r.put("/programs/{program}/card-validity")
    async def set_card_validity(program: Program, body: ValidityIn) -> CardValidityOut:
        """Set a program's card validity (M-17); cards issued from now on by its stores follow it."""
        return CardValidityOut(**await validity.set(program, body.validity_years))

    @r.get("/programs/{program}/card-validity")
    async def card_validity(program: Program) -> CardValidityOut:
        """A program's card validity and where it comes from: HQ setting, program document or default (M-17)."""
        return CardValidityOut(**await validity.get(program))

    @r.post("/stores", status_code=201)
    async def add_store(store: StoreIn) -> StoreOut:
        """Open (or update) a store: region, time zone and the loyalty program it runs (O-01)."""
        await reg.add_store(store)
        return StoreOut(store_id=store.store_id)

    @r.post("/staff", status_code=201)
    async def add_staff(people: Annotated[list[StaffIn], Body(min_length=1, max_length=1000)]) -> CountOut:
        """Add or update 1-1,000 staff: mobile (M-02, encrypted), line leader (C-06); each change is published."""
        await reg.add_staff(people)
        return CountOut(count=len(people))

    @r.post("/staff/{staff_id}/leave")
    async def staff_leaves(staff_id: Annotated[StaffId, Path()]) -> StaffLeftOut:
        """A staff member left (O-03): no more logins; published to the staff directory as inactive."""
        return StaffLeftOut(**await reg.leave(staff_id))

    @r.post("/members", status_code=201)
    async def register(batch: Annotated[list[MemberIn], Body(min_length=1, max_length=1000)]) -> RegisteredOut:
        """Register 1-1,000 members and issue their cards (M-17); all of the list or none (M-06 per store)."""
        return RegisteredOut.model_validate({"members": await reg.register(batch)})

    @r.get("/members/{member_id}")
    async def get_member(member_id: Annotated[MemberId, Path()]) -> MemberSummary:
        """A member, the name masked."""
        return MemberSummary(**await reports.member(member_id))

    @r.get("/members/{member_id}/consumptions")
    async def member_consumptions(member_id: Annotated[MemberId, Path()]) -> ConsumptionsOut:
        """Every consumption of a member: store, staff, amount, time."""
        return ConsumptionsOut.model_validate({"member_id": member_id,
                                               "consumptions": await reports.consumptions(member_id)})

    return r
