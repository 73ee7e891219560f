"""Sends queued messages through the provider: recorded before and after the call (N-04), retried with
back-off and parked after the last attempt (N-05); every outcome in the status history and on notify.events."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.contracts.notify import MessageFailed, MessageParked, MessageSent
from vipcore.events import Envelope, EventData
from vipcore.logs import get_logger
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring, decrypt, mask_mobile
from vipcore.redact import redact, safe_error
from vipcore.telemetry import context_from_traceparent

from ..adapters.providers import SendResult, SmsProvider
from ..adapters.tables import messages
from ..domain.templates import backoff_seconds

log = get_logger(__name__)
BULK = 100  # campaign messages per provider request


class Dispatcher:
    def __init__(self, engine: AsyncEngine, provider: SmsProvider, *, enc_key: Keyring, max_attempts: int,
                 concurrency: int, batch: int, idle_poll_s: float, topic: str, stuck_after_s: float = 60,
                 workers: int = 1,
                 tracer_provider: Any = None, sent_counter: Any = None, failed_counter: Any = None,
                 parked_counter: Any = None,
                 on_events: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.provider = provider
        self.enc_key = enc_key
        self.max_attempts = max_attempts
        self.sem = asyncio.Semaphore(concurrency)
        self.batch = batch
        self.idle_poll_s = idle_poll_s
        self.topic = topic
        self.stuck_after_s = stuck_after_s
        self.workers = workers
        self.tracer = trace.get_tracer("notify.dispatch", tracer_provider=tracer_provider)
        self.sent_counter = sent_counter
        self.failed_counter = failed_counter
        self.parked_counter = parked_counter
        self.on_events = on_events or (lambda: None)
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """`workers` claim loops side by side (SKIP LOCKED): one sends while another records."""
        await asyncio.gather(*(self._loop(i) for i in range(self.workers)))

    async def _loop(self, worker: int) -> None:
        last_requeue = 0.0
        while not self._stopping:
            try:
                if worker == 0 and time.monotonic() - last_requeue > min(self.stuck_after_s / 2, 10):
                    last_requeue = time.monotonic()
                    await self.requeue_stuck()
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
                log.warning("dispatch error, retrying", error=safe_error(e))
                await asyncio.sleep(1.0)

    async def requeue_stuck(self) -> None:
        """N-04: a process killed mid-send leaves 'sending' rows; they are sent again with the same idempotency
        key, so the provider answers with the first acceptance instead of sending twice."""
        async with self.engine.begin() as conn:
            ids = (await conn.execute(messages.update().where(
                messages.c.status == "sending",
                messages.c.updated_at < sa.func.now() - sa.text(f"interval '{self.stuck_after_s} seconds'"))
                .values(status="queued", updated_at=sa.func.now()).returning(messages.c.message_id))).scalars().all()
            if ids:
                await add_history(conn, [{"message_id": m, "status": "queued",
                                          "detail": "send outcome unknown: resend, same key"} for m in ids])

    async def dispatch_once(self) -> int:
        """Claim due messages (status 'sending', committed before the call), send, record outcomes."""
        due = (sa.select(messages.c.message_id).where(messages.c.status == "queued",
                                                     messages.c.next_attempt_at <= sa.func.now())
               .order_by(messages.c.next_attempt_at).limit(self.batch).with_for_update(skip_locked=True))
        async with self.engine.begin() as conn:
            claimed = (await conn.execute(
                messages.update().where(messages.c.message_id.in_(due.scalar_subquery()))
                .values(status="sending", attempts=messages.c.attempts + 1, updated_at=sa.func.now())
                .returning(messages.c.message_id, messages.c.member_id, messages.c.mobile_enc, messages.c.body,
                           messages.c.sender, messages.c.attempts, messages.c.traceparent,
                           messages.c.cause_event_id, messages.c.template, messages.c.campaign_id))).all()
            if claimed:
                await add_history(conn, [{"message_id": m.message_id, "status": "sending",
                                          "detail": f"attempt {m.attempts}"} for m in claimed])
        if not claimed:
            return 0
        single = [m for m in claimed if m.campaign_id is None or not hasattr(self.provider, "send_batch")]
        bulk = [m for m in claimed if m.campaign_id is not None and hasattr(self.provider, "send_batch")]
        chunks = [bulk[i:i + BULK] for i in range(0, len(bulk), BULK)]
        answers = await asyncio.gather(*(self._send(m) for m in single), *(self._send_bulk(c) for c in chunks))
        results: list[SendResult] = list(answers[:len(single)])  # type: ignore[arg-type]
        for part in answers[len(single):]:
            results.extend(part)  # type: ignore[arg-type]
        await self._record(single + bulk, results)
        return len(claimed)

    async def _send_bulk(self, ms: list[Any]) -> list[SendResult]:
        """Campaign messages: many per provider request, each with its own idempotency key (N-04)."""
        async with self.sem:
            with self.tracer.start_as_current_span("sms send batch", kind=SpanKind.CLIENT,
                                                   attributes={"messages": len(ms)}):
                items = [(decrypt(self.enc_key, m.mobile_enc), m.body, m.sender, str(m.message_id)) for m in ms]
                return list(await self.provider.send_batch(items))  # type: ignore[attr-defined]

    async def _record(self, claimed: list[Any], results: list[SendResult]) -> None:
        sent = [{"mid": m.message_id, "pmid": r.provider_message_id}
                for m, r in zip(claimed, results, strict=True) if r.ok]
        history: list[dict[str, Any]] = []
        events: list[OutgoingEvent] = []
        async with self.engine.begin() as conn:
            if sent:
                await conn.execute(sa.text(
                    "UPDATE messages m SET status = 'sent', provider_message_id = v.pmid, sent_at = now(), "
                    "updated_at = now(), last_error = NULL, "
                    # a transactional body (a spending code, L-07/L-11) is erased once accepted (N-06)
                    "body = CASE WHEN m.category = 'transactional' THEN NULL ELSE m.body END, "
                    "body_purged_at = CASE WHEN m.category = 'transactional' THEN now() ELSE m.body_purged_at END "
                    "FROM unnest(CAST(:ids AS uuid[]), CAST(:pmids AS text[])) AS v(id, pmid) "
                    "WHERE m.message_id = v.id"),
                    {"ids": [s["mid"] for s in sent], "pmids": [s["pmid"] for s in sent]})
            for m, r in zip(claimed, results, strict=True):
                if r.ok:
                    history.append({"message_id": m.message_id, "status": "sent",
                                    "detail": f"provider id {r.provider_message_id}"})
                    events.append(self._event(m, MessageSent(
                        message_id=str(m.message_id), member_id=m.member_id, cause_event_id=str(m.cause_event_id),
                        template=m.template, provider_message_id=r.provider_message_id or "")))
                    continue
                park = not r.transient or m.attempts >= self.max_attempts
                delay = backoff_seconds(m.attempts, random.random())
                error = redact(r.error or "")  # a provider may quote the number: not on events or rows
                reason = (f"{'permanent' if not r.transient else 'transient'} error after {m.attempts} "
                          f"attempt(s): {error}")
                await conn.execute(messages.update().where(messages.c.message_id == m.message_id).values(
                    status="parked" if park else "queued", last_error=reason if park else error,
                    updated_at=sa.func.now(),
                    next_attempt_at=sa.func.now() + sa.text(f"interval '{delay:.3f} seconds'")))
                history.append({"message_id": m.message_id, "status": "failed", "detail": error})
                events.append(self._event(m, MessageFailed(message_id=str(m.message_id), member_id=m.member_id,
                                                           attempt=m.attempts, error=error)))
                if park:
                    if self.parked_counter is not None:
                        self.parked_counter.inc()
                    history.append({"message_id": m.message_id, "status": "parked", "detail": reason})
                    events.append(self._event(m, MessageParked(message_id=str(m.message_id),
                                                               member_id=m.member_id, reason=reason)))
                else:
                    history.append({"message_id": m.message_id, "status": "queued",
                                    "detail": f"retry in {delay:.1f}s"})
                log.warning("sms not sent", message_id=str(m.message_id), parked=park, error=r.error)
            await add_history(conn, history)
            await add_to_outbox(conn, events)
        self.on_events()
        if self.sent_counter is not None:
            self.sent_counter.inc(len(sent))
        if self.failed_counter is not None:
            self.failed_counter.inc(len(claimed) - len(sent))

    def _event(self, m: Any, data: EventData) -> OutgoingEvent:
        return OutgoingEvent(self.topic, m.member_id or str(m.message_id),
                             Envelope.new(data, source="notify", subject=m.member_id), m.traceparent)

    async def _send(self, m: Any) -> SendResult:
        async with self.sem:
            with self.tracer.start_as_current_span(
                "sms send", kind=SpanKind.CLIENT, context=context_from_traceparent(m.traceparent),
                attributes={"message.id": str(m.message_id), **({"vip.member_id": m.member_id} if m.member_id else {})},
            ) as span:
                to = decrypt(self.enc_key, m.mobile_enc)
                r = await self.provider.send(to=to, body=m.body, sender=m.sender,
                                             idempotency_key=str(m.message_id))
                if not r.ok:
                    span.set_status(StatusCode.ERROR, "provider refused")  # kept whatever the sampling
                    log.info("provider refused", to=mask_mobile(to), error=r.error)
                return r


async def add_history(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Status history entries in one statement (arrays, not one parameter set per row: bulk campaigns)."""
    if rows:
        await conn.execute(sa.text(
            "INSERT INTO message_history (message_id, status, detail) "
            "SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:details AS text[]))"),
            {"ids": [r["message_id"] for r in rows], "statuses": [r["status"] for r in rows],
             "details": [r["detail"] for r in rows]})


async def emit(conn: AsyncConnection, topic: str, member_id: str | None, message_id: uuid.UUID,
               data: EventData) -> None:
    """An event about one message, through the outbox in the caller's transaction."""
    await add_to_outbox(conn, [OutgoingEvent(topic, member_id or str(message_id),
                                             Envelope.new(data, source="notify", subject=member_id))])
