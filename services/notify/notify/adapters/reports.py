"""What operators read: the message log with status history, the parked queue, templates (N-05, N-06).
Mobiles are decrypted only to be masked; numbers inside texts are masked too (N-06)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.logs import mask_mobiles
from vipcore.pii import Keyring, decrypt, mask_mobile

from ..domain.sms import sms_size
from .tables import message_history, messages, templates


def view(m: Any, enc_key: Keyring) -> dict[str, Any]:
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


@dataclass
class MessageReports:
    engine: AsyncEngine
    enc_key: Keyring

    async def _with_history(self, rows: list[Any]) -> list[dict[str, Any]]:
        ids = [m["message_id"] for m in rows]
        async with self.engine.connect() as conn:
            hist = (await conn.execute(sa.select(message_history).where(message_history.c.message_id.in_(ids))
                                       .order_by(message_history.c.id))).mappings().all()
        by: dict[Any, list[dict[str, Any]]] = {}
        for h in hist:
            by.setdefault(h["message_id"], []).append({"status": h["status"], "detail": mask_mobiles(
                h["detail"] or "") or None, "at": h["at"]})
        return [{**view(m, self.enc_key), "history": by.get(m["message_id"], [])} for m in rows]

    async def messages(self, member_id: str | None, status: str | None, limit: int) -> dict[str, Any]:
        """Newest first, with the count per status."""
        q = sa.select(messages).order_by(messages.c.created_at.desc()).limit(limit)
        if member_id:
            q = q.where(messages.c.member_id == member_id)
        if status:
            q = q.where(messages.c.status == status)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
            counts = dict((await conn.execute(sa.select(messages.c.status, sa.func.count())
                                              .group_by(messages.c.status))).tuples().all())
        return {"counts": counts, "messages": [view(m, self.enc_key) for m in rows]}

    async def member_log(self, member_id: str, limit: int) -> dict[str, Any]:
        """N-05: one member's messages with each one's status history."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(messages).where(messages.c.member_id == member_id)
                                       .order_by(messages.c.created_at.desc()).limit(limit))).mappings().all()
        return {"member_id": member_id, "messages": await self._with_history(list(rows))}

    async def message(self, message_id: uuid.UUID) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            m = (await conn.execute(sa.select(messages).where(messages.c.message_id == message_id))).mappings().first()
        return (await self._with_history([m]))[0] if m is not None else None

    async def parked(self, limit: int) -> dict[str, Any]:
        """N-05: messages that failed for good, oldest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(messages).where(messages.c.status == "parked")
                                       .order_by(messages.c.updated_at).limit(limit)))
            items = [view(m, self.enc_key) for m in rows.mappings().all()]
        return {"count": len(items), "messages": items}

    async def templates(self) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(templates).order_by(templates.c.key))).mappings().all()
        return {"templates": [dict(t) for t in rows]}
