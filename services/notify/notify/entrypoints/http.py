"""Notify HTTP API: message log with status history, parked queue, templates, consent (admin token);
provider webhooks for receipts and replies. Mobiles are masked in every view (N-06)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.http import FieldError, Problem
from vipcore.logs import mask_mobiles
from vipcore.pii import decrypt, mask_mobile

from ..adapters.providers import Receipt, SimulatorProvider, TwilioProvider
from ..adapters.tables import message_history, messages, templates
from ..domain.rules import template_events
from ..domain.sms import sms_size
from ..domain.templates import LANGUAGES, TemplateRefused, check_template
from ..service.ops import Ops
from .consumers import contracts_by_type

CAMPAIGN_VARS = frozenset({"display_name", "brand", "tier", "store_id"})


def view(m: Any, enc_key: str) -> dict[str, Any]:
    """One message as operators see it: number masked, numbers inside the text masked (N-06)."""
    size = sms_size(m["body"]) if m["body"] else None
    return {"message_id": str(m["message_id"]), "cause_event_id": str(m["cause_event_id"]),
            "template": m["template"], "recipient": m["recipient"] if m["recipient"] in ("customer", "staff")
            else "member", "member_id": m["member_id"], "category": m["category"],
            "campaign_id": str(m["campaign_id"]) if m["campaign_id"] else None,
            "to": mask_mobile(decrypt(enc_key, m["mobile_enc"])) if m["mobile_enc"] else None,
            "sender": m["sender"], "body": mask_mobiles(m["body"]) if m["body"] else None,
            "body_purged": m["body_purged_at"] is not None,
            "encoding": size.encoding if size else None, "segments": size.segments if size else None,
            "status": m["status"], "suppressed_reason": m["suppressed_reason"], "deferred": m["deferred"],
            "attempts": m["attempts"], "next_attempt_at": m["next_attempt_at"], "last_error": m["last_error"],
            "provider_message_id": m["provider_message_id"], "created_at": m["created_at"],
            "sent_at": m["sent_at"], "delivered_at": m["delivered_at"]}


class TemplateIn(BaseModel):
    body: str = Field(min_length=1, max_length=1000)
    brand: str = Field("*", min_length=1, max_length=60, description="'*' for every brand")


class PreferencesIn(BaseModel):
    marketing_consent: bool | None = None
    language: str | None = Field(None, pattern="^(zh-CN|en)$")


def router(engine: AsyncEngine, enc_key: str, guard: Any, ops: Ops) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["messages"], dependencies=[Depends(guard)])

    async def with_history(rows: list[Any]) -> list[dict[str, Any]]:
        ids = [m["message_id"] for m in rows]
        async with engine.connect() as conn:
            hist = (await conn.execute(sa.select(message_history).where(message_history.c.message_id.in_(ids))
                                       .order_by(message_history.c.id))).mappings().all()
        by: dict[Any, list[dict[str, Any]]] = {}
        for h in hist:
            by.setdefault(h["message_id"], []).append({"status": h["status"], "detail": mask_mobiles(
                h["detail"] or "") or None, "at": h["at"]})
        return [{**view(m, enc_key), "history": by.get(m["message_id"], [])} for m in rows]

    @r.get("/messages")
    async def list_messages(member_id: str | None = None, status: str | None = None,
                            limit: int = 100) -> dict[str, Any]:
        """Messages, newest first, with status and attempts; mobiles masked."""
        q = sa.select(messages).order_by(messages.c.created_at.desc()).limit(max(1, min(limit, 1000)))
        if member_id:
            q = q.where(messages.c.member_id == member_id)
        if status:
            q = q.where(messages.c.status == status)
        async with engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
            counts = dict((await conn.execute(sa.select(messages.c.status, sa.func.count())
                                              .group_by(messages.c.status))).tuples().all())
        return {"counts": counts, "messages": [view(m, enc_key) for m in rows]}

    @r.get("/members/{member_id}/messages")
    async def member_log(member_id: str, limit: int = 100) -> dict[str, Any]:
        """The message log of one member with each message's status history (N-05)."""
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(messages).where(messages.c.member_id == member_id)
                                       .order_by(messages.c.created_at.desc())
                                       .limit(max(1, min(limit, 1000))))).mappings().all()
        return {"member_id": member_id, "messages": await with_history(list(rows))}

    @r.get("/messages/{message_id}")
    async def one(message_id: uuid.UUID) -> dict[str, Any]:
        async with engine.connect() as conn:
            m = (await conn.execute(sa.select(messages).where(messages.c.message_id == message_id))).mappings().first()
        if m is None:
            raise Problem(404, "No such message", errors=[FieldError("message_id", "not found")])
        return (await with_history([m]))[0]

    @r.get("/parked")
    async def parked(limit: int = 100) -> dict[str, Any]:
        """N-05: messages that failed for good, oldest first, with their reason; retry with POST .../retry."""
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(messages).where(messages.c.status == "parked")
                                       .order_by(messages.c.updated_at).limit(max(1, min(limit, 1000)))))
            items = [view(m, enc_key) for m in rows.mappings().all()]
        return {"count": len(items), "messages": items}

    @r.post("/messages/{message_id}/retry")
    async def retry(message_id: uuid.UUID, request: Request) -> dict[str, Any]:
        status = await ops.retry(message_id, operator="admin")
        if status is None:
            raise Problem(404, "No such message", errors=[FieldError("message_id", "not found")])
        if status != "queued":
            raise Problem(409, "Only a parked message can be retried",
                          errors=[FieldError("status", f"message is {status}", "N-05")])
        return {"message_id": str(message_id), "status": "queued"}

    @r.put("/templates/{key}/{language}")
    async def save_template(key: str, language: str, t: TemplateIn) -> dict[str, Any]:
        """N-02: save a template; refused (422, naming the field) when it uses a variable its event lacks."""
        if language not in LANGUAGES:
            raise Problem(422, "Unknown language", errors=[FieldError("language", f"one of {LANGUAGES}", "N-02")])
        events = template_events()
        if key.startswith("campaign."):
            allowed, source = set(CAMPAIGN_VARS), "a campaign recipient"
        elif key in events:
            contract = contracts_by_type()[events[key]]
            allowed, source = set(contract.model_fields), events[key]
        else:
            raise Problem(422, "Unknown template", errors=[FieldError(
                "key", f"one of {sorted(events)} or campaign.<name>", "N-01")])
        try:
            check_template(t.body, allowed, source)
        except TemplateRefused as e:
            raise Problem(422, "Template refused", str(e), errors=[FieldError(e.field, str(e), "N-02")]) from e
        stmt = sa.dialects.postgresql.insert(templates).values(brand=t.brand, key=key, language=language,
                                                               body=t.body)
        async with engine.begin() as conn:
            await conn.execute(stmt.on_conflict_do_update(index_elements=["brand", "key", "language"],
                                                          set_={"body": t.body, "updated_at": sa.func.now()}))
        size = sms_size(t.body)
        return {"key": key, "language": language, "brand": t.brand, "body": t.body,
                "encoding": size.encoding, "template_units": size.units}

    @r.get("/templates")
    async def list_templates() -> dict[str, Any]:
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(templates).order_by(templates.c.key))).mappings().all()
        return {"templates": [dict(t) for t in rows]}

    @r.put("/members/{member_id}/preferences")
    async def preferences(member_id: str, p: PreferencesIn) -> dict[str, Any]:
        """N-03 marketing consent (service messages need none) and N-02 language of a member's messages."""
        if not await ops.set_preferences(member_id, p.marketing_consent, p.language):
            raise Problem(404, "Unknown member", errors=[FieldError("member_id", "no contact known", "N-03")])
        return {"member_id": member_id, **p.model_dump(exclude_none=True)}

    @r.post("/admin/purge-bodies")
    async def purge(retention_days: int = Body(..., embed=True, ge=0)) -> dict[str, int]:
        """N-06: erase the bodies of finished messages older than `retention_days` now."""
        return {"purged": await ops.purge_bodies(retention_days)}

    return r


def webhooks(ops: Ops, guard: Any, twilio: TwilioProvider | None, public_url: str) -> APIRouter:
    """Provider callbacks: delivery receipts (N-05) and replies (N-03 opt-out)."""
    r = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

    @r.post("/simulator/receipts", dependencies=[Depends(guard)])
    async def sim_receipt(payload: dict[str, str]) -> dict[str, Any]:
        try:
            rec = SimulatorProvider.receipt(payload)
        except KeyError as e:
            raise Problem(422, "Bad receipt", errors=[FieldError(str(e.args[0]), "required", "N-05")]) from e
        return {"status": await known(rec)}

    async def known(rec: Receipt) -> str:
        status = await ops.receipt(rec)
        if status is None:  # the send's outcome may not be recorded yet: the provider retries the receipt
            raise Problem(404, "Unknown provider message id", "N-05: retry the receipt later",
                          errors=[FieldError("message_id", "no sent message has this provider id", "N-05")])
        return status

    @r.post("/simulator/inbound", dependencies=[Depends(guard)])
    async def sim_inbound(payload: dict[str, str]) -> dict[str, Any]:
        try:
            msg = SimulatorProvider.inbound(payload)
        except KeyError as e:
            raise Problem(422, "Bad inbound message", errors=[FieldError(str(e.args[0]), "required", "N-03")]) from e
        return {"opted_out": await ops.inbound(msg.from_mobile, msg.text)}

    async def twilio_params(request: Request) -> dict[str, str]:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))  # urlencoded form
        url = (public_url.rstrip("/") + request.url.path) if public_url else str(request.url)
        if twilio is None or not twilio.verify(url, form, request.headers.get("x-twilio-signature", "")):
            raise Problem(403, "Bad signature", errors=[FieldError("X-Twilio-Signature", "does not verify")])
        return form

    @r.post("/twilio/status")
    async def twilio_status(request: Request) -> dict[str, Any]:
        rec = TwilioProvider.receipt(await twilio_params(request))
        return {"status": await known(rec) if rec else None}

    @r.post("/twilio/inbound")
    async def twilio_inbound(request: Request) -> dict[str, Any]:
        msg = TwilioProvider.inbound(await twilio_params(request))
        return {"opted_out": await ops.inbound(msg.from_mobile, msg.text)}

    return r
