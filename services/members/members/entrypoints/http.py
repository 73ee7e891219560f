"""Members HTTP API (HQ admin for now; staff roles arrive with the members issue)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import FieldError, Problem
from vipcore.pii import mask_name

from ..adapters.tables import consumptions, members
from ..service.importer import Importer
from ..service.periodic import Periodic
from ..service.registry import MemberIn, Registry, StaffIn, StoreIn
from ..service.validity import CardValidity


class MonthIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])


class DayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date


class ValidityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    validity_years: Literal[1, 2] = Field(description="M-17: cards of the program are valid 1 or 2 years")


def router(reg: Registry, engine: AsyncEngine, guard: Any, periodic: Periodic, importer: Importer,
           validity: CardValidity) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["members"], dependencies=[Depends(guard)])

    @r.post("/imports", status_code=202)
    async def start_import(request: Request, store_id: Annotated[str, Query(min_length=1, max_length=32)],
                           format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
                           filename: Annotated[str, Query(max_length=200)] = "upload",
                           mapping: Annotated[str | None, Query(max_length=4000, description=(
                               'JSON {"column header": "field"} added to the default mapping'))] = None
                           ) -> dict[str, Any]:
        """Import existing customers from a CSV/XLSX body (M-19); follow it at /v1/imports/{import_id}."""
        try:
            extra = json.loads(mapping) if mapping else None
            if extra is not None and not isinstance(extra, dict):
                raise ValueError("mapping must be a JSON object")
            import_id = await importer.start(store_id, filename, format, await request.body(), extra)
        except (ValueError, KeyError, zipfile.BadZipFile) as e:
            raise Problem(422, "Unreadable file", str(e), [FieldError("body", str(e), "M-19")]) from None
        return {"import_id": import_id, "progress": f"/v1/imports/{import_id}"}

    @r.get("/imports/{import_id}")
    async def import_progress(import_id: str) -> dict[str, Any]:
        """Progress of an import: total, processed, imported, rejected, percent (M-19)."""
        p = await importer.progress(import_id)
        if p is None:
            raise Problem(404, "Not found", f"no import {import_id}")
        return p

    @r.get("/imports/{import_id}/rejected.csv")
    async def import_rejects(import_id: str) -> Response:
        """Every rejected row with its reasons, as CSV (M-19)."""
        return Response(await importer.rejects_csv(import_id), media_type="text/csv; charset=utf-8")

    @r.post("/admin/month-end")
    async def month_end(body: MonthIn) -> dict[str, Any]:
        """Run M-10 detachment and M-11 claiming for a finished month; a second run changes nothing."""
        return {"period": body.period, **await periodic.month_end(body.period)}

    @r.post("/admin/daily")
    async def daily(body: DayIn) -> dict[str, Any]:
        """Run M-03 purge, M-09 dormancy and M-17 card expiry as of a date; a second run changes nothing."""
        return {"date": body.date.isoformat(), **await periodic.daily(body.date)}

    @r.post("/admin/staff-directory:republish")
    async def republish_staff() -> dict[str, int]:
        """Publish every staff member as members.staff.changed again (O-01; seeds credit's directory, C-07)."""
        return {"published": await reg.republish_staff()}

    @r.put("/programs/{program}/card-validity")
    async def set_card_validity(program: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$")],
                                body: ValidityIn) -> dict[str, Any]:
        """Set a program's card validity (M-17); cards issued from now on by its stores follow it."""
        return await validity.set(program, body.validity_years)

    @r.get("/programs/{program}/card-validity")
    async def card_validity(program: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]) -> dict[str, Any]:
        """A program's card validity and where it comes from: HQ setting, program document or default (M-17)."""
        return await validity.get(program)

    @r.post("/stores", status_code=201)
    async def add_store(store: StoreIn) -> dict[str, str]:
        """Open (or update) a store: region, time zone and the loyalty program it runs (O-01)."""
        await reg.add_store(store)
        return {"store_id": store.store_id}

    @r.post("/staff", status_code=201)
    async def add_staff(people: list[StaffIn]) -> dict[str, int]:
        """Add or update staff members of stores: mobile (M-02, kept encrypted), line leader (C-06); every new
        or changed staff member is published as members.staff.changed."""
        await reg.add_staff(people)
        return {"count": len(people)}

    @r.post("/staff/{staff_id}/leave")
    async def staff_leaves(staff_id: str) -> dict[str, Any]:
        """A staff member left (O-03): no more logins; published to the staff directory as inactive."""
        return await reg.leave(staff_id, dt.datetime.now(dt.UTC))

    @r.post("/members", status_code=201)
    async def register(batch: list[MemberIn]) -> dict[str, Any]:
        """Register members and issue their cards (M-17); all of the list or none."""
        if not 1 <= len(batch) <= 1000:
            raise Problem(422, "Invalid request", errors=[FieldError("body", "send 1 to 1000 members")])
        return {"members": await reg.register(batch)}

    @r.get("/members/{member_id}")
    async def get_member(member_id: str) -> dict[str, Any]:
        """A member file, masked."""
        async with engine.connect() as conn:
            m = (await conn.execute(sa.select(members).where(members.c.member_id == member_id))).first()
        if m is None:
            raise Problem(404, "Not found", f"no member {member_id}")
        return {"member_id": m.member_id, "store_id": m.store_id, "display_name": mask_name(m.full_name),
                "card_no": m.card_no, "card_status": m.card_status, "status": m.status,
                "referrer_staff_id": m.referrer_staff_id}

    @r.get("/members/{member_id}/consumptions")
    async def member_consumptions(member_id: str) -> dict[str, Any]:
        """Every consumption of a member: store, staff, amount, time."""
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(consumptions).where(consumptions.c.member_id == member_id)
                                       .order_by(consumptions.c.occurred_at))).mappings().all()
        return {"member_id": member_id, "consumptions": [dict(r) for r in rows]}

    return r
