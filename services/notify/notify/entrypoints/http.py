"""Notify HTTP API: message log with status history, parked queue, templates, consent (an hq_admin staff token);
provider webhooks for receipts and replies. Mobiles are masked in every view (N-06)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Query, Request
from vipcore.http import PROBLEM_RESPONSES, FieldError, Problem
from vipcore.inputs import AwareTime, Ident

from ..adapters.providers import SimulatorProvider, TwilioProvider
from ..adapters.reports import COUNT_CAP, MessageReports
from ..service.ops import Ops
from ..service.templates import Templates
from ..service.transactional import Transactional
from .desk_http import operator
from .schemas import (
    InboundOut,
    Language,
    MemberLog,
    MessageList,
    MessageStatus,
    MessageWithHistory,
    ParkedList,
    PreferencesIn,
    PreferencesOut,
    PurgeIn,
    PurgeOut,
    ReceiptOut,
    RetryOut,
    SimulatorInboundIn,
    SimulatorReceiptIn,
    TemplateIn,
    TemplateKey,
    TemplateList,
    TemplateOut,
    TransactionalIn,
    TransactionalOut,
)

Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many, newest first")]


def router(reports: MessageReports, tpl: Templates, guard: Any, ops: Ops) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["messages"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.get("/messages")
    async def list_messages(member_id: Annotated[Ident | None, Query()] = None,
                            status: Annotated[MessageStatus | None, Query()] = None,
                            limit: Limit = 100, before: Annotated[uuid.UUID | None, Query(
                                description="the previous page's `next_before`")] = None,
                            since: Annotated[AwareTime | None, Query(description="created at or after")] = None,
                            until: Annotated[AwareTime | None, Query(description="created before")] = None,
                            store_id: Annotated[Ident | None, Query(description="the member's store")] = None,
                            template: Annotated[TemplateKey | None, Query()] = None,
                            counts: Annotated[bool, Query(description=(
                                "also count the filter's messages per status (the status filter left out), over "
                                f"its newest {COUNT_CAP:,} at most; ask on the first page only"))] = False,
                            ) -> MessageList:
        """Messages, newest first, with status and attempts; mobiles masked. Filtered by member, store, template,
        status and creation time; paged with `before`; each filter reads an index ending in the page key."""
        return MessageList.model_validate(await reports.messages(
            member_id, status, limit, before=before, since=since, until=until, store_id=store_id,
            template=template, counts=counts))

    @r.get("/members/{member_id}/messages")
    async def member_log(member_id: Annotated[Ident, Path()], limit: Limit = 100) -> MemberLog:
        """The message log of one member with each message's status history (N-05)."""
        return MemberLog.model_validate(await reports.member_log(member_id, limit))

    @r.get("/messages/{message_id}")
    async def one(message_id: uuid.UUID) -> MessageWithHistory:
        """One message with its status history."""
        m = await reports.message(message_id)
        if m is None:
            raise Problem(404, "No such message", errors=[FieldError("message_id", "not found")])
        return MessageWithHistory.model_validate(m)

    @r.get("/parked")
    async def parked(limit: Limit = 100, after: Annotated[uuid.UUID | None, Query(
            description="the previous page's `next_after`")] = None) -> ParkedList:
        """N-05: messages that failed for good, oldest first, with their reason; retry with POST .../retry."""
        return ParkedList.model_validate(await reports.parked(limit, after))

    @r.post("/messages/{message_id}/retry")
    async def retry(message_id: uuid.UUID, request: Request) -> RetryOut:
        """N-05: send a parked message again; the history and the audit name the operator of the token (O-02)."""
        return RetryOut(message_id=str(message_id), status=await ops.retry(message_id, operator=operator(request)))

    @r.put("/templates/{key}/{language}")
    async def save_template(key: Annotated[TemplateKey, Path()], language: Language, t: TemplateIn,
                            request: Request) -> TemplateOut:
        """N-02: save a template; refused (422, naming the field) when it uses a variable its event lacks. The
        audit names the operator (O-02)."""
        return TemplateOut.model_validate(await tpl.save(key, language, t.brand, t.body, operator(request)))

    @r.get("/templates")
    async def list_templates() -> TemplateList:
        """Templates saved by HQ (the built-in texts apply where none is saved)."""
        return TemplateList.model_validate(await reports.templates())

    @r.put("/members/{member_id}/preferences")
    async def preferences(member_id: Annotated[Ident, Path()], p: PreferencesIn, request: Request) -> PreferencesOut:
        """N-03 marketing consent (service messages need none) and N-02 language of a member's messages; the audit
        names the operator (O-02)."""
        await ops.set_preferences(member_id, p.marketing_consent, p.language, operator(request))
        return PreferencesOut(member_id=member_id, **p.model_dump(exclude_none=True))

    @r.post("/admin/purge-bodies")
    async def purge(body: PurgeIn) -> PurgeOut:
        """N-06: erase the bodies of finished messages older than `retention_days` now."""
        return PurgeOut(purged=await ops.purge_bodies(body.retention_days))

    return r


def internal_router(tx: Transactional, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/internal", tags=["internal"], dependencies=[Depends(guard)], responses=PROBLEM_RESPONSES)

    @r.post("/messages/transactional", status_code=201)
    async def transactional(body: TransactionalIn) -> TransactionalOut:
        """Send a member's one-time spending code now (L-07, L-11): not marketing, so no consent or quiet hours."""
        return TransactionalOut(**await tx.send(message_id=body.message_id, member_id=body.member_id,
                                                mobile=body.mobile, template=body.template, brand=body.brand,
                                                variables=body.variables.model_dump()))

    return r


def webhooks(ops: Ops, guard: Any, twilio: TwilioProvider | None, public_url: str) -> APIRouter:
    """Provider callbacks: delivery receipts (N-05) and replies (N-03 opt-out)."""
    r = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=PROBLEM_RESPONSES)

    @r.post("/simulator/receipts", dependencies=[Depends(guard)])
    async def sim_receipt(payload: SimulatorReceiptIn) -> ReceiptOut:
        """N-05: the simulator's delivery report; 404 until the send's outcome is recorded (it retries)."""
        rec = SimulatorProvider.receipt(payload.model_dump(exclude_none=True))
        return ReceiptOut(status=await ops.receipt(rec))

    @r.post("/simulator/inbound", dependencies=[Depends(guard)])
    async def sim_inbound(payload: SimulatorInboundIn) -> InboundOut:
        """N-03: a member's reply; TD / 退订 / STOP withdraws marketing consent at once."""
        return InboundOut(opted_out=await ops.inbound(payload.from_, payload.text))

    async def twilio_params(request: Request) -> dict[str, str]:
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = dict(parse_qsl(raw, keep_blank_values=True))  # urlencoded form
        url = (public_url.rstrip("/") + request.url.path) if public_url else str(request.url)
        if twilio is None or not twilio.verify(url, form, request.headers.get("x-twilio-signature", "")):
            raise Problem(403, "Bad signature", errors=[FieldError("X-Twilio-Signature", "does not verify")])
        return form

    @r.post("/twilio/status")
    async def twilio_status(request: Request) -> ReceiptOut:
        """N-05: Twilio's status callback (signed); only final statuses count."""
        rec = TwilioProvider.receipt(await twilio_params(request))
        return ReceiptOut(status=await ops.receipt(rec) if rec else None)

    @r.post("/twilio/inbound")
    async def twilio_inbound(request: Request) -> InboundOut:
        """N-03: a reply through Twilio (signed)."""
        msg = TwilioProvider.inbound(await twilio_params(request))
        return InboundOut(opted_out=await ops.inbound(msg.from_mobile, msg.text))

    return r
