"""What the console's notify screens read besides the message log (issue 12): the template catalog and previews
(N-02), one member's preferences and the opted-out members (N-03), the operator audit (O-02). HQ admin staff
tokens, like notify's other staff routes; mobiles never shown (N-06). `operator()` names who acts on every write
route: the staff id of the token, never a field of the body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from vipcore.auth import Principal
from vipcore.http import PROBLEM_RESPONSES, FieldError, Problem
from vipcore.identity import BootstrapAdmin, ServiceCaller
from vipcore.inputs import Ident, IdentOf, LongIdent, ShortIdent

from ..adapters.reports import MessageReports
from ..service.templates import Templates
from .schemas import (
    AuditList,
    ContactPreferences,
    Language,
    OptedOutList,
    TemplateCatalog,
    TemplateKey,
    TemplatePreviewIn,
    TemplatePreviewOut,
)

Limit = Annotated[int, Query(ge=1, le=500, description="at most this many")]


def operator(request: Request) -> str:
    """O-02: who acts, from the credential the guard verified: the staff id of a staff token; a service's or the
    bootstrap admin's name otherwise. Never read from the request body."""
    who = getattr(request.state, "principal", None) or getattr(request.state, "caller", None)
    if isinstance(who, Principal):
        return who.staff_id
    if isinstance(who, ServiceCaller):
        return f"svc:{who.name}"
    if isinstance(who, BootstrapAdmin):
        return "bootstrap-admin"
    raise Problem(401, "Unauthorized", "no verified caller", [FieldError("Authorization", "required", "O-02")])


def router(reports: MessageReports, tpl: Templates, guard: Any, company_name: str) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["desk"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.get("/templates/catalog")
    async def catalog() -> TemplateCatalog:
        """N-01/N-02: every template key and language with its event, the fields it may use, the built-in text and
        the texts HQ saved per brand."""
        return TemplateCatalog.model_validate({"templates": await tpl.catalog()})

    @r.post("/templates/{key}/{language}/preview")
    async def preview(key: Annotated[TemplateKey, Path()], language: Language,
                      body: TemplatePreviewIn) -> TemplatePreviewOut:
        """N-02: the message a template text gives with sample fields, refused (422, naming the field) as a save
        would be; nothing is saved."""
        return TemplatePreviewOut.model_validate(tpl.preview(key, language, body.body, body.brand or company_name,
                                                             body.fields))

    @r.get("/members/{member_id}/preferences")
    async def preferences(member_id: Annotated[Ident, Path()]) -> ContactPreferences:
        """N-03 marketing consent, opt-out time and N-02 language of one member (change: PUT)."""
        p = await reports.preferences(member_id)
        if p is None:
            raise Problem(404, "Not Found", errors=[FieldError("member_id", "no contact known for this member",
                                                               "N-03")])
        return ContactPreferences.model_validate(p)

    @r.get("/opted-out")
    async def opted_out(limit: Limit = 50, after: Annotated[Ident | None, Query()] = None,
                        store_id: Annotated[Ident | None, Query()] = None) -> OptedOutList:
        """N-03: members who opted out, latest first; `after` = the previous page's `next_after`."""
        return OptedOutList.model_validate(await reports.opted_out(limit, after, store_id))

    @r.get("/audit")
    async def audit(limit: Limit = 50, before: Annotated[int | None, Query(ge=1)] = None,
                    subject: Annotated[LongIdent | None, Query()] = None,
                    action: Annotated[ShortIdent | None, Query()] = None,
                    operator: Annotated[Annotated[str, IdentOf(64)] | None, Query()] = None) -> AuditList:
        """O-02: what operators did through notify (templates, consent, campaigns, retries), newest first."""
        return AuditList.model_validate(await reports.audit(limit, before, subject, action, operator))

    return r
