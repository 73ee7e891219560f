"""Campaign API (admin token): preview a segment with a template, schedule, pause, resume, status counts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from vipcore.http import FieldError, Problem

from ..domain.segments import Segment
from ..domain.templates import TemplateRefused, check_template
from ..service.campaigns import Campaigns
from .http import CAMPAIGN_VARS


class PreviewIn(BaseModel):
    segment: Segment
    template_body: str = Field(min_length=1, max_length=1000)
    brand: str | None = Field(None, description="defaults to the company's name (N-02)")


class CampaignIn(PreviewIn):
    name: str = Field(min_length=1, max_length=200)
    rate_per_s: int = Field(200, ge=1, le=100_000, description="messages released per second")
    scheduled_at: datetime | None = Field(None, description="start time (UTC offset required); now if absent")


def router(c: Campaigns, guard: Any, company_name: str) -> APIRouter:
    r = APIRouter(prefix="/v1/campaigns", tags=["campaigns"], dependencies=[Depends(guard)])

    def checked(body: PreviewIn) -> None:
        try:
            check_template(body.template_body, CAMPAIGN_VARS, "a campaign recipient")
        except TemplateRefused as e:
            raise Problem(422, "Template refused", str(e), errors=[FieldError(e.field, str(e), "N-02")]) from e

    @r.post("/preview")
    async def preview(body: PreviewIn) -> dict[str, Any]:
        """How many members the segment holds (and how many consented: N-03), and a sample text."""
        checked(body)
        return await c.preview(body.segment, body.template_body, body.brand or company_name)

    @r.post("", status_code=201)
    async def create(body: CampaignIn) -> dict[str, Any]:
        checked(body)
        if body.scheduled_at is not None and body.scheduled_at.tzinfo is None:
            raise Problem(422, "Time zone required", errors=[FieldError("scheduled_at", "needs a UTC offset")])
        cid = await c.create(name=body.name, brand=body.brand or company_name, body=body.template_body,
                             seg=body.segment, rate_per_s=body.rate_per_s, scheduled_at=body.scheduled_at)
        return {"campaign_id": str(cid), "status": "scheduled",
                **(await c.preview(body.segment, body.template_body, body.brand or company_name))}

    @r.get("/{campaign_id}")
    async def status(campaign_id: uuid.UUID) -> dict[str, Any]:
        """Counts: pending, queued, sent, delivered, failed, suppressed by consent/opt-out/cap, quiet hours."""
        out = await c.counts(campaign_id)
        if out is None:
            raise Problem(404, "No such campaign", errors=[FieldError("campaign_id", "not found")])
        return out

    async def move(campaign_id: uuid.UUID, to: str) -> dict[str, Any]:
        now = await c.set_status(campaign_id, to)
        if now is None:
            raise Problem(404, "No such campaign", errors=[FieldError("campaign_id", "not found")])
        if now not in (to, "scheduled"):
            raise Problem(409, f"Campaign is {now}", errors=[FieldError("status", f"cannot go from {now} to {to}")])
        return {"campaign_id": str(campaign_id), "status": now}

    @r.post("/{campaign_id}/pause")
    async def pause(campaign_id: uuid.UUID) -> dict[str, Any]:
        """Stop releasing; messages not yet at the provider wait (none is lost or sent twice)."""
        return await move(campaign_id, "paused")

    @r.post("/{campaign_id}/resume")
    async def resume(campaign_id: uuid.UUID) -> dict[str, Any]:
        return await move(campaign_id, "running")

    return r
