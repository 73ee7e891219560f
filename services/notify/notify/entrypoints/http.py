"""Notify HTTP API: the message log with statuses (numbers masked, N-06)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.pii import decrypt, mask_mobile

from ..adapters.tables import messages


def router(engine: AsyncEngine, enc_key: str, guard: Any) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["messages"], dependencies=[Depends(guard)])

    @r.get("/messages")
    async def list_messages(member_id: str | None = None, status: str | None = None,
                            limit: int = 100) -> dict[str, Any]:
        """Messages, newest first, with status and attempts; mobiles masked."""
        q = sa.select(messages).order_by(messages.c.created_at.desc()).limit(min(limit, 1000))
        if member_id:
            q = q.where(messages.c.member_id == member_id)
        if status:
            q = q.where(messages.c.status == status)
        async with engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
            counts = dict((await conn.execute(sa.select(messages.c.status, sa.func.count())
                                              .group_by(messages.c.status))).tuples().all())
        return {"counts": counts, "messages": [{
            "message_id": str(m["message_id"]), "cause_event_id": str(m["cause_event_id"]),
            "template": m["template"], "member_id": m["member_id"],
            "to": mask_mobile(decrypt(enc_key, m["mobile_enc"])) if m["mobile_enc"] else None,
            "body": m["body"], "status": m["status"], "attempts": m["attempts"],
            "last_error": m["last_error"], "created_at": m["created_at"], "sent_at": m["sent_at"]}
            for m in rows]}

    return r
