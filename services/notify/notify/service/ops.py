"""What webhooks and operators change: receipts (N-05), opt-outs (N-03), retries of parked messages (N-05),
consent (N-03) and the purge of old bodies (N-06). Each change is written with its history entry and event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.contracts.notify import MessageDelivered, MessageFailed
from vipcore.errors import Conflict, NotFound
from vipcore.logs import get_logger
from vipcore.pii import mobile_index
from vipcore.redact import redact
from vipcore.scheduler import Ticker

from ..adapters.audit import record
from ..adapters.providers import Receipt
from ..adapters.tables import contacts, message_history, messages
from ..domain.rules import is_opt_out
from .dispatch import emit

log = get_logger(__name__)
TERMINAL = ("sent", "delivered", "undelivered", "suppressed")
PURGE_BATCH = 5000  # messages whose bodies one purge transaction erases (N-06)


class Ops:
    def __init__(self, engine: AsyncEngine, *, index_key: str, topic: str, wake_dispatch: Any,
                 wake_relay: Any) -> None:
        self.engine = engine
        self.index_key = index_key
        self.topic = topic
        self.wake_dispatch = wake_dispatch
        self.wake_relay = wake_relay

    async def receipt(self, r: Receipt) -> str:
        """N-05: a delivery report moves a sent message to delivered / undelivered (once). A receipt for a send
        whose outcome is not recorded yet is refused (NotFound): the provider retries it."""
        status = "delivered" if r.delivered else "undelivered"
        async with self.engine.begin() as conn:
            m = (await conn.execute(messages.update().where(
                messages.c.provider_message_id == r.provider_message_id, messages.c.status == "sent")
                .values(status=status, updated_at=sa.func.now(),
                        delivered_at=sa.func.now() if r.delivered else None,
                        last_error=None if r.delivered or r.error is None else redact(r.error))
                .returning(messages.c.message_id, messages.c.member_id, messages.c.attempts))).first()
            if m is None:  # a repeated receipt answers what the first did; an unknown id is not ours (yet)
                known = (await conn.execute(sa.select(messages.c.status).where(
                    messages.c.provider_message_id == r.provider_message_id,
                    messages.c.status.in_(("delivered", "undelivered"))))).scalar()
                if known is None:
                    raise NotFound("message_id", "no sent message has this provider id; retry the receipt later",
                                   rule="N-05")
                return str(known)
            await conn.execute(message_history.insert().values(message_id=m.message_id, status=status,
                                                               detail=r.error or "delivery receipt"))
            data = (MessageDelivered(message_id=str(m.message_id), member_id=m.member_id,
                                     provider_message_id=r.provider_message_id) if r.delivered else
                    MessageFailed(message_id=str(m.message_id), member_id=m.member_id, attempt=m.attempts,
                                  error=f"undelivered: {redact(r.error or 'no reason given')}"))
            await emit(conn, self.topic, m.member_id, m.message_id, data)
        self.wake_relay()
        return status

    async def inbound(self, from_mobile: str, text: str) -> list[str]:
        """N-03: TD / 退订 / STOP opts the member out at once: consent off, waiting marketing suppressed."""
        if not is_opt_out(text):
            return []
        async with self.engine.begin() as conn:
            members = (await conn.execute(contacts.update().where(
                contacts.c.mobile_hash == mobile_index(self.index_key, from_mobile))
                .values(marketing_consent=False, opted_out_at=sa.func.now())
                .returning(contacts.c.member_id))).scalars().all()
            if members:
                held = (await conn.execute(messages.update().where(
                    messages.c.member_id.in_(members), messages.c.category == "marketing",
                    messages.c.status.in_(("queued", "held", "no_contact")))
                    .values(status="suppressed", suppressed_reason="opted_out", updated_at=sa.func.now())
                    .returning(messages.c.message_id))).scalars().all()
                if held:
                    await conn.execute(message_history.insert(), [
                        {"message_id": h, "status": "suppressed", "detail": "opted_out"} for h in held])
        log.info("opt-out by reply", members=len(members))
        return list(members)

    async def set_preferences(self, member_id: str, marketing: bool | None, language: str | None,
                              operator: str) -> None:
        """N-03 marketing consent (given again clears an earlier opt-out) and N-02 message language; the operator
        is audited (O-02)."""
        async with self.engine.begin() as conn:
            values: dict[str, Any] = {"member_id": member_id}
            if marketing is not None:
                values["marketing_consent"] = marketing
                if marketing:
                    values["opted_out_at"] = None
            if language is not None:
                values["language"] = language
            res = await conn.execute(contacts.update().where(contacts.c.member_id == member_id).values(**values))
            if not res.rowcount:
                raise NotFound("member_id", "no contact known for this member", rule="N-03")
            await record(conn, operator, "preferences.changed", member_id, marketing_consent=marketing,
                         language=language)

    async def retry(self, message_id: uuid.UUID, operator: str) -> str:
        """N-05: an operator sends a parked message again (fresh attempts, same idempotency key); only a parked
        message can be retried. The operator is named in the history and the audit (O-02)."""
        async with self.engine.begin() as conn:
            m = (await conn.execute(messages.update().where(messages.c.message_id == message_id,
                                                            messages.c.status == "parked")
                 .values(status="queued", attempts=0, next_attempt_at=sa.func.now(), updated_at=sa.func.now())
                 .returning(messages.c.message_id))).first()
            if m is None:
                status = (await conn.execute(sa.select(messages.c.status)
                                             .where(messages.c.message_id == message_id))).scalar()
                if status is None:
                    raise NotFound("message_id", "no such message")
                raise Conflict("N-05", "status", f"message is {status}: only a parked message can be retried")
            await conn.execute(message_history.insert().values(message_id=message_id, status="queued",
                                                               detail=f"operator retry by {operator}"))
            await record(conn, operator, "message.retried", str(message_id))
        self.wake_dispatch()
        return "queued"

    async def purge_bodies(self, retention_days: int, now: datetime | None = None, batch: int | None = None) -> int:
        """N-06: bodies of finished messages older than the retention period are erased, `batch` messages per
        transaction (a first purge at chain scale touches millions of rows: one statement would hold its locks and
        its WAL for minutes). The candidates come from the partial index `messages_body_kept` (bodies not yet
        erased), so an hourly run reads only what is left to purge, not every old message again."""
        batch = batch or PURGE_BATCH
        cutoff = (sa.literal(now) if now else sa.func.now()) - sa.text(f"interval '{int(retention_days)} days'")
        due = (sa.select(messages.c.message_id)
               .where(messages.c.body.is_not(None), messages.c.created_at < cutoff, messages.c.status.in_(TERMINAL))
               .order_by(messages.c.created_at).limit(batch).with_for_update(skip_locked=True))
        total = 0
        while True:
            async with self.engine.begin() as conn:
                res = await conn.execute(messages.update().where(messages.c.message_id.in_(due.scalar_subquery()))
                                         .values(body=None, body_purged_at=sa.func.now()))
            total += int(res.rowcount)
            if res.rowcount < batch:
                return total


class Purger(Ticker):
    """Runs the body purge (N-06) once an hour."""

    def __init__(self, ops: Ops, retention_days: int, every_s: float = 3600) -> None:
        super().__init__(every_s, "notify body purge")
        self.ops = ops
        self.retention_days = retention_days

    async def tick(self) -> None:
        n = await self.ops.purge_bodies(self.retention_days)
        if n:
            log.info("message bodies purged", count=n)
