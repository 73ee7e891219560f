"""What operators read: the message log with status history, the parked queue, templates (N-05, N-06).
Mobiles are decrypted only to be masked; numbers inside texts are masked too (N-06)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.logs import mask_mobiles
from vipcore.pii import Keyring, decrypt, mask_mobile

from ..domain.sms import sms_size
from .tables import contacts, message_history, messages, operator_actions, templates

COUNT_CAP = 100_000
"""The message log counts at most this many messages of a filter (the newest): a page's counts stay a bounded
read of one index however long the log; a narrower filter (a date range, a store, a template) gives exact counts."""


def view(m: Any, enc_key: Keyring) -> dict[str, Any]:
    """One message as operators see it: number masked, numbers inside the text masked (N-06)."""
    size = sms_size(m["body"]) if m["body"] else None
    return {"message_id": str(m["message_id"]), "cause_event_id": str(m["cause_event_id"]),
            "template": m["template"], "recipient": m["recipient"] if m["recipient"] in ("customer", "staff")
            else "member", "member_id": m["member_id"], "store_id": m["store_id"], "category": m["category"],
            "campaign_id": str(m["campaign_id"]) if m["campaign_id"] else None,
            "to": mask_mobile(decrypt(enc_key, m["mobile_enc"])) if m["mobile_enc"] else None,
            "sender": m["sender"], "body": mask_mobiles(m["body"]) if m["body"] else None,
            "body_purged": m["body_purged_at"] is not None,
            "encoding": size.encoding if size else None, "segments": size.segments if size else None,
            "status": m["status"], "suppressed_reason": m["suppressed_reason"], "deferred": m["deferred"],
            "attempts": m["attempts"], "next_attempt_at": m["next_attempt_at"], "last_error": m["last_error"],
            "provider_message_id": m["provider_message_id"], "created_at": m["created_at"],
            "sent_at": m["sent_at"], "delivered_at": m["delivered_at"]}


def _edge(key: Any, value: Any, order: Any) -> Any:
    """(order, key) of the row whose key is `value`: where the next page of a keyset starts."""
    return sa.tuple_(sa.select(order).where(key == value).scalar_subquery(), sa.literal(value, key.type))


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

    async def messages(self, member_id: str | None, status: str | None, limit: int, *,
                       before: uuid.UUID | None = None, since: datetime | None = None,
                       until: datetime | None = None, store_id: str | None = None, template: str | None = None,
                       counts: bool = False) -> dict[str, Any]:
        """Newest first; paged by keyset: `before` is the last message of the previous page (`next_before`),
        `since` / `until` bound the creation time. Each filter has an index ending in the page key (tables.py), so
        a page reads `limit` index entries however long the log. With `counts`, the messages of the filters per
        status (every status: the status filter left out, so each count is what choosing that status would list),
        over the newest COUNT_CAP of them at most: exact when `counts_capped` is false."""
        where = [c for c in (messages.c.member_id == member_id if member_id else None,
                             messages.c.store_id == store_id if store_id else None,
                             messages.c.template == template if template else None,
                             messages.c.created_at >= since if since else None,
                             messages.c.created_at < until if until else None) if c is not None]
        newest = (messages.c.created_at.desc(), messages.c.message_id.desc())
        q = sa.select(messages).where(*where).order_by(*newest).limit(limit)
        if status:
            q = q.where(messages.c.status == status)
        if before:
            q = q.where(sa.tuple_(messages.c.created_at, messages.c.message_id)
                        < _edge(messages.c.message_id, before, messages.c.created_at))
        out: dict[str, Any] = {"counts": None, "counts_capped": None}
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
            if counts:  # the newest COUNT_CAP in page order, through the filter's index (status included: index-only)
                sub = sa.select(messages.c.status).where(*where).order_by(*newest).limit(COUNT_CAP).subquery()
                got = {str(st): int(k) for st, k in (await conn.execute(
                    sa.select(sub.c.status, sa.func.count()).group_by(sub.c.status))).tuples().all()}
                out = {"counts": got, "counts_capped": sum(got.values()) >= COUNT_CAP}
        return {**out, "messages": [view(m, self.enc_key) for m in rows],
                "next_before": str(rows[-1]["message_id"]) if len(rows) == limit else None}

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

    async def parked(self, limit: int, after: uuid.UUID | None = None) -> dict[str, Any]:
        """N-05: messages that failed for good, oldest first; `count` is every parked message, `after` the last
        message of the previous page (`next_after`)."""
        q = (sa.select(messages).where(messages.c.status == "parked")
             .order_by(messages.c.updated_at, messages.c.message_id).limit(limit))
        if after:
            q = q.where(sa.tuple_(messages.c.updated_at, messages.c.message_id)
                        > _edge(messages.c.message_id, after, messages.c.updated_at))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
            total = (await conn.execute(sa.select(sa.func.count()).where(messages.c.status == "parked"))).scalar()
        return {"count": int(total or 0), "messages": [view(m, self.enc_key) for m in rows],
                "next_after": str(rows[-1]["message_id"]) if len(rows) == limit else None}

    async def templates(self) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(templates).order_by(templates.c.key))).mappings().all()
        return {"templates": [dict(t) for t in rows]}

    async def preferences(self, member_id: str) -> dict[str, Any] | None:
        """N-03 consent and N-02 language of one member as notify holds them (no mobile: N-06)."""
        async with self.engine.connect() as conn:
            c = (await conn.execute(sa.select(contacts.c.member_id, contacts.c.store_id, contacts.c.display_name,
                                              contacts.c.language, contacts.c.marketing_consent,
                                              contacts.c.opted_out_at, contacts.c.status)
                                    .where(contacts.c.member_id == member_id))).mappings().first()
        return dict(c) if c is not None else None

    async def opted_out(self, limit: int, after: str | None, store_id: str | None) -> dict[str, Any]:
        """N-03: members who opted out (a TD / STOP reply, or consent withdrawn by an operator after one), latest
        first; paged by (opted_out_at, member_id) after the last member of the previous page."""
        q = (sa.select(contacts.c.member_id, contacts.c.store_id, contacts.c.display_name, contacts.c.language,
                       contacts.c.marketing_consent, contacts.c.opted_out_at, contacts.c.status)
             .where(contacts.c.opted_out_at.is_not(None))
             .order_by(contacts.c.opted_out_at.desc(), contacts.c.member_id.desc()).limit(limit))
        if store_id:
            q = q.where(contacts.c.store_id == store_id)
        if after:
            q = q.where(sa.tuple_(contacts.c.opted_out_at, contacts.c.member_id)
                        < _edge(contacts.c.member_id, after, contacts.c.opted_out_at))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
            total = (await conn.execute(sa.select(sa.func.count()).where(contacts.c.opted_out_at.is_not(None))))\
                .scalar()
        return {"count": int(total or 0), "members": [dict(r) for r in rows],
                "next_after": rows[-1]["member_id"] if len(rows) == limit else None}

    async def audit(self, limit: int, before: int | None, subject: str | None, action: str | None,
                    operator: str | None) -> dict[str, Any]:
        """O-02: what operators did through notify, newest first, paged by entry id."""
        q = sa.select(operator_actions).order_by(operator_actions.c.id.desc()).limit(limit)
        if before:
            q = q.where(operator_actions.c.id < before)
        if subject:
            q = q.where(operator_actions.c.subject == subject)
        if action:
            q = q.where(operator_actions.c.action == action)
        if operator:
            q = q.where(operator_actions.c.operator == operator)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return {"entries": [{**dict(r), "detail": {k: mask_mobiles(v) if isinstance(v, str) else v
                                                   for k, v in r["detail"].items()}} for r in rows],
                "next_before": rows[-1]["id"] if len(rows) == limit else None}
