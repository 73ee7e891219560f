"""Transactional messages (L-07, L-11): the one-time code a member needs to spend points or stored value.

Asked for by members over HTTP (never through a topic: the code must not sit in an event log). Such a message is
neither marketing nor a service notice about the account: it is what the member asked for at the till that
minute, so no consent, opt-out, quiet hours or daily cap apply (N-03 is about marketing) and it is queued at
once. It is one message per challenge (N-04: the challenge id is its cause), sent in the company's or the
brand's name (N-02), and its body — the code — is erased as soon as the provider has accepted it (N-06)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.pii import Keyring, encrypt

from ..adapters.tables import contacts, message_history, messages
from ..domain.templates import DEFAULT_LANGUAGE, render

CATEGORY = "transactional"
TEXTS: dict[tuple[str, str], str] = {
    ("proof_code", "zh-CN"): "您的会员验证码为{{ code }}，{{ minutes }}分钟内有效，仅用于本次积分或储值消费。"
                             "请勿告诉他人，店员不会向您索要。",
    ("proof_code", "en"): "Your member code is {{ code }}, valid for {{ minutes }} minutes, for this points or "
                          "stored-value spend only. Never share it; staff will not ask you for it.",
}


class Transactional:
    def __init__(self, engine: AsyncEngine, enc_key: Keyring, company_name: str, wake_dispatch: Callable[[], None],
                 clock: Callable[[], datetime]) -> None:
        self.engine, self.enc_key, self.company = engine, enc_key, company_name
        self.wake, self.clock = wake_dispatch, clock

    async def send(self, *, message_id: uuid.UUID, member_id: str, mobile: str, template: str, brand: str | None,
                   variables: dict[str, Any]) -> dict[str, Any]:
        now = self.clock()
        sender = brand or self.company
        async with self.engine.begin() as conn:
            c = (await conn.execute(sa.select(contacts.c.language, contacts.c.store_id)
                                    .where(contacts.c.member_id == member_id))).first()
            language = c.language if c is not None else None
            text = TEXTS.get((template, language or DEFAULT_LANGUAGE)) or TEXTS[(template, DEFAULT_LANGUAGE)]
            row = {"message_id": message_id, "cause_event_id": message_id, "template": template,
                   "recipient": "member", "member_id": member_id, "store_id": c.store_id if c is not None else None,
                   "mobile_enc": encrypt(self.enc_key, mobile),
                   "sender": sender, "body": render(text, sender, variables), "category": CATEGORY,
                   "status": "queued", "created_at": now, "updated_at": now}
            new = (await conn.execute(pg_insert(messages).values(**row).on_conflict_do_nothing()
                                      .returning(messages.c.message_id))).first()
            if new is not None:
                await conn.execute(message_history.insert().values(message_id=message_id, status="queued",
                                                                   detail="transactional: sent at once"))
            status = await conn.scalar(sa.select(messages.c.status).where(messages.c.message_id == message_id))
        self.wake()
        return {"message_id": str(message_id), "status": str(status)}
