"""Campaign API (admin token): preview a segment with a template, schedule, pause, resume, status counts."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends
from vipcore.http import PROBLEM_RESPONSES

from ..service.campaigns import Campaigns
from ..service.templates import check_campaign_text
from .schemas import CampaignCreated, CampaignIn, CampaignMoved, CampaignStatus, PreviewIn, PreviewOut


def router(c: Campaigns, guard: Any, company_name: str) -> APIRouter:
    r = APIRouter(prefix="/v1/campaigns", tags=["campaigns"], dependencies=[Depends(guard)],
                  responses=PROBLEM_RESPONSES)

    @r.post("/preview")
    async def preview(body: PreviewIn) -> PreviewOut:
        """How many members the segment holds (and how many consented: N-03), and a sample text."""
        check_campaign_text(body.template_body)
        return PreviewOut.model_validate(await c.preview(body.segment, body.template_body,
                                                         body.brand or company_name))

    @r.post("", status_code=201)
    async def create(body: CampaignIn) -> CampaignCreated:
        """Schedule a campaign to a segment (N-01) at a release rate; now when no start time is given."""
        check_campaign_text(body.template_body)
        cid = await c.create(name=body.name, brand=body.brand or company_name, body=body.template_body,
                             seg=body.segment, rate_per_s=body.rate_per_s, scheduled_at=body.scheduled_at)
        return CampaignCreated.model_validate({
            "campaign_id": str(cid), "status": "scheduled",
            **(await c.preview(body.segment, body.template_body, body.brand or company_name))})

    @r.get("/{campaign_id}")
    async def status(campaign_id: uuid.UUID) -> CampaignStatus:
        """Counts: pending, queued, sent, delivered, failed, suppressed by consent/opt-out/cap, quiet hours."""
        return CampaignStatus.model_validate(await c.counts(campaign_id))

    @r.post("/{campaign_id}/pause")
    async def pause(campaign_id: uuid.UUID) -> CampaignMoved:
        """Stop releasing; messages not yet at the provider wait (none is lost or sent twice)."""
        return CampaignMoved(campaign_id=str(campaign_id), status=await c.set_status(campaign_id, "paused"))

    @r.post("/{campaign_id}/resume")
    async def resume(campaign_id: uuid.UUID) -> CampaignMoved:
        """Release a paused campaign again."""
        return CampaignMoved(campaign_id=str(campaign_id), status=await c.set_status(campaign_id, "running"))

    return r
