"""Sends queued messages through the provider: recorded before and after the call (N-04), retried (N-05)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.logs import get_logger
from vipcore.pii import decrypt, mask_mobile
from vipcore.telemetry import context_from_traceparent

from ..adapters.providers import SendResult, SmsProvider
from ..adapters.tables import messages
from ..domain.templates import backoff_seconds

log = get_logger(__name__)
STUCK_AFTER_S = 60


class Dispatcher:
    def __init__(self, engine: AsyncEngine, provider: SmsProvider, *, enc_key: str, max_attempts: int,
                 concurrency: int, batch: int, idle_poll_s: float, tracer_provider: Any = None,
                 sent_counter: Any = None, failed_counter: Any = None) -> None:
        self.engine = engine
        self.provider = provider
        self.enc_key = enc_key
        self.max_attempts = max_attempts
        self.sem = asyncio.Semaphore(concurrency)
        self.batch = batch
        self.idle_poll_s = idle_poll_s
        self.tracer = trace.get_tracer("notify.dispatch", tracer_provider=tracer_provider)
        self.sent_counter = sent_counter
        self.failed_counter = failed_counter
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        ticks = 0
        while not self._stopping:
            try:
                if ticks % 1000 == 0:
                    await self.requeue_stuck()
                ticks += 1
                n = await self.dispatch_once()
                if n == 0:
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.idle_poll_s)
                    except TimeoutError:
                        pass
                    self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - database away: wait and go on
                log.warning("dispatch error, retrying", error=repr(e))
                await asyncio.sleep(1.0)

    async def requeue_stuck(self) -> None:
        """A process killed mid-send leaves 'sending' rows; resend them with the same idempotency key."""
        async with self.engine.begin() as conn:
            await conn.execute(messages.update().where(
                messages.c.status == "sending",
                messages.c.updated_at < sa.func.now() - sa.text(f"interval '{STUCK_AFTER_S} seconds'"))
                .values(status="queued", updated_at=sa.func.now()))

    async def dispatch_once(self) -> int:
        """Claim due messages (status 'sending', committed before the call), send, record outcomes."""
        due = (sa.select(messages.c.message_id).where(messages.c.status == "queued",
                                                     messages.c.next_attempt_at <= sa.func.now())
               .order_by(messages.c.next_attempt_at).limit(self.batch).with_for_update(skip_locked=True))
        async with self.engine.begin() as conn:
            claimed = (await conn.execute(
                messages.update().where(messages.c.message_id.in_(due.scalar_subquery()))
                .values(status="sending", attempts=messages.c.attempts + 1, updated_at=sa.func.now())
                .returning(messages.c.message_id, messages.c.mobile_enc, messages.c.body, messages.c.sender,
                           messages.c.attempts, messages.c.traceparent))).all()
        if not claimed:
            return 0
        results = await asyncio.gather(*(self._send(m) for m in claimed))
        sent = [{"mid": m.message_id, "pmid": r.provider_message_id}
                for m, r in zip(claimed, results, strict=True) if r.ok]
        async with self.engine.begin() as conn:
            if sent:
                await conn.execute(
                    messages.update().where(messages.c.message_id == sa.bindparam("mid"))
                    .values(status="sent", provider_message_id=sa.bindparam("pmid"), sent_at=sa.func.now(),
                            updated_at=sa.func.now(), last_error=None)
                    .execution_options(synchronize_session=False), sent)
            for m, r in zip(claimed, results, strict=True):
                if r.ok:
                    continue
                park = not r.transient or m.attempts >= self.max_attempts
                delay = backoff_seconds(m.attempts, random.random())
                await conn.execute(messages.update().where(messages.c.message_id == m.message_id).values(
                    status="parked" if park else "queued", last_error=r.error, updated_at=sa.func.now(),
                    next_attempt_at=sa.func.now() + sa.text(f"interval '{delay:.3f} seconds'")))
                log.warning("sms not sent", message_id=str(m.message_id), parked=park, error=r.error)
        if self.sent_counter is not None:
            self.sent_counter.inc(len(sent))
        if self.failed_counter is not None:
            self.failed_counter.inc(len(claimed) - len(sent))
        return len(claimed)

    async def _send(self, m: Any) -> SendResult:
        async with self.sem:
            with self.tracer.start_as_current_span(
                "sms send", kind=SpanKind.CLIENT, context=context_from_traceparent(m.traceparent),
                attributes={"message.id": str(m.message_id)},
            ):
                to = decrypt(self.enc_key, m.mobile_enc)
                r = await self.provider.send(to=to, body=m.body, sender=m.sender,
                                             idempotency_key=str(m.message_id))
                if not r.ok:
                    log.info("provider refused", to=mask_mobile(to), error=r.error)
                return r
