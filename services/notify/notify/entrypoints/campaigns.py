"""Campaign API (a staff token of a role that runs campaigns, e.g. from the console): preview a segment with a template,
schedule, list, pause, resume, status counts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from vipcore.auth import Role, TokenVerifier
from vipcore.http import PROBLEM_RESPONSES, FieldError, Problem

from ..service.campaigns import Campaigns
from ..service.templates import check_campaign_text
from .desk_http import operator
from .schemas import (
    CampaignCreated,
    CampaignIn,
    CampaignList,
    CampaignMoved,
    CampaignStatus,
    PreviewIn,
    PreviewOut,
)

CAMPAIGN_ROLES = frozenset({Role.HQ_ADMIN})  # O-02: campaigns are HQ's (marketing works under the HQ admin role)


def admin_or_hq(guard: Any, verifier: TokenVerifier | None) -> Any:
    """A staff token (a signed JWT, as the console sends) of a role that runs campaigns."""

    async def dep(request: Request) -> None:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if verifier is not None and verifier.key is not None and token.count(".") == 2:
            p = verifier.verify(token)
            if p.role not in CAMPAIGN_ROLES:
                raise Problem(403, "Forbidden", f"role {p.role.value} may not run campaigns",
                              [FieldError("role", "needs hq_admin", "O-02")])
            request.state.principal = request.state.caller = p  # the operator of the audit (desk_http.operator)
            return
        await guard(request)

    return dep


def router(c: Campaigns, guard: Any, company_name: str, verifier: TokenVerifier | None = None) -> APIRouter:
    r = APIRouter(prefix="/v1/campaigns", tags=["campaigns"], dependencies=[Depends(admin_or_hq(guard, verifier))],
                  responses=PROBLEM_RESPONSES)

    @r.get("")
    async def list_campaigns(status: Annotated[Literal["scheduled", "running", "paused", "done"] | None,
                                               Query()] = None,
                             limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> CampaignList:
        """Campaigns, newest first, with their state (N-01)."""
        return CampaignList.model_validate({"campaigns": await c.listing(status, limit)})

    @r.post("/preview")
    async def preview(body: PreviewIn) -> PreviewOut:
        """How many members the segment holds (and how many consented: N-03), and a sample text."""
        check_campaign_text(body.template_body)
        return PreviewOut.model_validate(await c.preview(body.segment, body.template_body,
                                                         body.brand or company_name))

    @r.post("", status_code=201)
    async def create(body: CampaignIn, request: Request) -> CampaignCreated:
        """Schedule a campaign to a segment (N-01) at a release rate; now when no start time is given. The audit
        names the operator (O-02)."""
        check_campaign_text(body.template_body)
        cid = await c.create(name=body.name, brand=body.brand or company_name, body=body.template_body,
                             seg=body.segment, rate_per_s=body.rate_per_s, scheduled_at=body.scheduled_at,
                             operator=operator(request))
        return CampaignCreated.model_validate({
            "campaign_id": str(cid), "status": "scheduled",
            **(await c.preview(body.segment, body.template_body, body.brand or company_name))})

    @r.get("/{campaign_id}")
    async def status(campaign_id: uuid.UUID) -> CampaignStatus:
        """Counts: pending, queued, sent, delivered, failed, suppressed by consent/opt-out/cap, quiet hours."""
        return CampaignStatus.model_validate(await c.counts(campaign_id))

    @r.post("/{campaign_id}/pause")
    async def pause(campaign_id: uuid.UUID, request: Request) -> CampaignMoved:
        """Stop releasing; messages not yet at the provider wait (none is lost or sent twice). Audited (O-02)."""
        return CampaignMoved(campaign_id=str(campaign_id),
                             status=await c.set_status(campaign_id, "paused", operator(request)))

    @r.post("/{campaign_id}/resume")
    async def resume(campaign_id: uuid.UUID, request: Request) -> CampaignMoved:
        """Release a paused campaign again. Audited (O-02)."""
        return CampaignMoved(campaign_id=str(campaign_id),
                             status=await c.set_status(campaign_id, "running", operator(request)))

    return r
