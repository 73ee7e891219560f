"""Idempotent batch consumers: inbox in the same transaction as the effect, DLQ for poison, retry for transient.

Offsets are committed only after the batch's transaction has committed and its poison messages are in the
DLQ. FastStream's default ack policy (ACK_FIRST) commits before processing and AckPolicy.ACK commits even
when the handler raised, so subscribers here use AckPolicy.MANUAL and the handler never returns without
having processed every record of the batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .db import is_transient
from .events import Envelope, EventData, PoisonMessage, decode
from .logs import get_logger
from .outbox import OutgoingEvent, add_to_outbox
from .redact import safe_error
from .telemetry import business_attributes, context_from_headers, traceparent_of
from .topics import Topic

log = get_logger(__name__)


E = TypeVar("E", bound=EventData, covariant=True)


@dataclass
class Delivery(Generic[E]):
    """One decoded event with its Kafka coordinates and its processing span.

    `Delivery[SaleRecorded]` is what a handler wired to `SaleRecorded` gets: `.data` is that contract."""

    env: Envelope
    record: ConsumerRecord[Any, Any]
    span: Span

    @property
    def data(self) -> E:
        return cast(E, self.env.data)


@dataclass
class Tx:
    """What a handler gets: the open transaction and a way to emit events through the outbox."""

    conn: AsyncConnection
    topic_prefix: str = ""
    outgoing: list[OutgoingEvent] = field(default_factory=list)

    def emit(self, topic: Topic, key: str | None, envelope: Envelope,
             cause: Delivery[EventData] | None = None) -> None:
        """Queue an event for the outbox, written in this transaction, traced as caused by `cause`."""
        tp = traceparent_of(cause.span) if cause is not None else None
        self.outgoing.append(OutgoingEvent(self.topic_prefix + topic.name, key, envelope, tp))


BatchHandler = Callable[[Tx, list[Delivery[Any]]], Awaitable[None]]
"""A handler of one batch of events of one type: `async def on_sales(tx, batch: list[Delivery[SaleRecorded]])`."""

Contracts = type[EventData] | tuple[type[EventData], ...]
"""What a handler is wired to: one contract class, or several versions of the same event type."""


def wiring(handlers: Mapping[Contracts, BatchHandler]) -> tuple[dict[str, BatchHandler],
                                                                 dict[str, tuple[type[EventData], ...]]]:
    """Split `{SaleRecorded: on_sales, (OldV1, NewV2): on_other}` into a handler and the accepted contract
    versions per event type (each class names its own `TYPE`; its `VERSION` gives the dataschema). Every
    version of one type goes to the same handler: deliveries are dispatched by type."""
    by_type: dict[str, BatchHandler] = {}
    accept: dict[str, tuple[type[EventData], ...]] = {}
    for key, handler in handlers.items():
        for c in key if isinstance(key, tuple) else (key,):
            if by_type.get(c.TYPE, handler) != handler:
                raise ValueError(f"{c.TYPE}: every version of an event type goes to one handler")
            by_type[c.TYPE] = handler
            if c not in accept.get(c.TYPE, ()):
                accept[c.TYPE] = (*accept.get(c.TYPE, ()), c)
    return by_type, accept


@dataclass
class ConsumerMetrics:
    handled: Any = None
    failed: Any = None
    dlq: Any = None
    latency: Any = None
    lag: Any = None
    lag_seconds: Any = None


class BatchConsumer:
    """Consumes one topic in batches for one service; `handlers` maps contract classes to batch handlers.

    Events of a type not wired here are skipped (another consumer's event on a shared topic); events of a
    wired type in a version not wired here are poison (DLQ)."""

    def __init__(self, *, service: str, topic: str, topic_prefix: str = "",
                 handlers: Mapping[Contracts, BatchHandler], engine: AsyncEngine,
                 producer: AIOKafkaProducer | None, tracer_provider: Any = None,
                 metrics: ConsumerMetrics | None = None, on_commit: Callable[[], None] | None = None) -> None:
        self.service = service
        self.topic = topic_prefix + topic
        self.topic_prefix = topic_prefix
        self.handlers, self.accept = wiring(handlers)
        self.engine = engine
        self.producer = producer
        self.tracer = trace.get_tracer(f"{service}.consumer", tracer_provider=tracer_provider)
        self.metrics = metrics or ConsumerMetrics()
        self.on_commit = on_commit
        self.group_id = f"{service}.{self.topic}"
        # partition -> (messages behind, age in seconds of the oldest not consumed; None: not known yet)
        self.partition_lag: dict[int, tuple[int, float | None]] = {}

    def subscribe(self, broker: KafkaBroker, *, max_records: int, batch_timeout_ms: int,
                  fetch_min_bytes: int = 1, fetch_max_wait_ms: int = 500) -> None:
        @broker.subscriber(
            self.topic, group_id=self.group_id, batch=True, ack_policy=AckPolicy.MANUAL,
            max_records=max_records, batch_timeout_ms=batch_timeout_ms,
            fetch_min_bytes=fetch_min_bytes, fetch_max_wait_ms=fetch_max_wait_ms,
            auto_offset_reset="earliest", decoder=_no_decode, parser=_tolerant_parser,
            title=f"{self.service}:{self.topic}",
            description="Accepts " + "; ".join(
                f"{t} ({', '.join(c.dataschema() for c in self.accept.get(t, []))})" for t in self.handlers)
            + ". Anything else of these types goes to the dead-letter topic.",
        )
        async def on_batch(msg: KafkaMessage) -> None:
            records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
            try:
                await self.process(records)
                await msg.ack()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - e.g. commit refused after a rebalance
                # Rewind to the batch start: the inbox turns the re-read into no-ops.
                log.error("batch not committed, rewinding", topic=self.topic, error=safe_error(e))
                await msg.nack()
                await asyncio.sleep(1.0)
                return
            self._report_lag(msg, records)

    def _report_lag(self, msg: Any, records: Sequence[ConsumerRecord[Any, Any]] = ()) -> None:
        consumer: Any = getattr(msg, "consumer", None)
        # the next unconsumed message is at least as old as the newest one just handled (broker timestamps, ms)
        newest = {r.partition: r.timestamp for r in records if r.timestamp and r.timestamp > 0}
        lag: dict[int, tuple[int, float | None]] = {}
        try:
            for tp in consumer.assignment():
                hw = consumer.highwater(tp)
                pos = consumer._fetcher._subscriptions.subscription.assignment.state_value(tp)
                if hw is not None and pos is not None and pos.position is not None:
                    behind = max(hw - pos.position, 0)
                    age = self.partition_lag.get(tp.partition, (0, None))[1]
                    if behind == 0 or tp.partition in newest:
                        age = 0.0 if behind == 0 else max(time.time() - newest[tp.partition] / 1000, 0.0)
                    lag[tp.partition] = (behind, age)
        except Exception:  # noqa: BLE001 - lag is best effort, never breaks consumption
            return
        self.partition_lag = lag  # only the partitions this instance holds now (the ops status shows them)
        for p, (behind, age) in lag.items():
            if self.metrics.lag is not None:
                self.metrics.lag.labels(self.topic, str(p)).set(behind)
            if self.metrics.lag_seconds is not None and age is not None:
                self.metrics.lag_seconds.labels(self.topic, str(p)).set(age)

    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Handle every record of a batch exactly once; return only when all are done or dead-lettered."""
        started = time.perf_counter()
        deliveries: list[Delivery[EventData]] = []
        poison: list[tuple[ConsumerRecord[Any, Any], str]] = []
        for rec in records:
            etype = _header(rec, "ce_type")
            if etype is not None and etype not in self.handlers:
                continue  # another consumer's event on a shared topic
            try:
                env = decode(rec.headers, rec.value, self.accept)
            except PoisonMessage as e:
                poison.append((rec, str(e)))
                continue
            span = self.tracer.start_span(
                f"{self.service} process {env.type}", kind=SpanKind.CONSUMER,
                context=context_from_headers(rec.headers),
                attributes={"messaging.system": "kafka", "messaging.destination.name": rec.topic,
                            "messaging.kafka.partition": rec.partition,
                            "messaging.kafka.offset": rec.offset, "cloudevents.id": str(env.id),
                            **business_attributes(env.data)},
            )
            deliveries.append(Delivery(env, rec, span))
        try:
            failed = await self._handle_all(deliveries)
        finally:
            for d in deliveries:
                d.span.end()
        poison.extend(failed)
        if poison:
            await self._dead_letter(poison)
        if self.metrics.handled is not None:
            self.metrics.handled.labels(self.topic).inc(len(deliveries) - len(failed))
        if self.metrics.latency is not None:
            self.metrics.latency.labels(self.topic).observe(time.perf_counter() - started)
        if self.on_commit is not None and deliveries:
            self.on_commit()

    async def _handle_all(self, deliveries: list[Delivery[EventData]]) -> list[tuple[ConsumerRecord[Any, Any], str]]:
        if not deliveries:
            return []
        try:
            await self._retrying(lambda: self._transaction(deliveries))
            return []
        except _Permanent:
            pass
        # One event of the batch is bad (a rule or a bug): find it, keep the others.
        failed: list[tuple[ConsumerRecord[Any, Any], str]] = []
        for d in deliveries:
            try:
                await self._retrying(lambda d=d: self._transaction([d]))  # type: ignore[misc]
            except _Permanent as e:
                d.span.record_exception(e.__cause__ or e)
                d.span.set_status(trace.StatusCode.ERROR, "dead-lettered")  # kept whatever the sampling
                failed.append((d.record, f"handler failed: {safe_error(e.__cause__)}"))
        return failed

    async def _retrying(self, attempt: Callable[[], Awaitable[None]]) -> None:
        delay = 0.1
        while True:
            try:
                await attempt()
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001
                if not is_transient(e):
                    raise _Permanent() from e
                if self.metrics.failed is not None:
                    self.metrics.failed.labels(self.topic, "transient").inc()
                log.warning("transient failure, retrying batch", topic=self.topic, error=safe_error(e),
                            retry_in_s=round(delay, 2))
                await asyncio.sleep(delay + random.random() * delay)
                delay = min(delay * 2, 5.0)

    async def _transaction(self, deliveries: list[Delivery[EventData]]) -> None:
        async with self.engine.begin() as conn:
            fresh = await claim(conn, self.group_id, [d.env.id for d in deliveries])
            todo = []
            for d in deliveries:  # a redelivery can sit in the same batch as the original
                if d.env.id in fresh:
                    fresh.discard(d.env.id)
                    todo.append(d)
            tx = Tx(conn, self.topic_prefix)
            for etype, run in _runs(todo):
                await self.handlers[etype](tx, run)
            await add_to_outbox(conn, tx.outgoing)

    async def _dead_letter(self, poison: list[tuple[ConsumerRecord[Any, Any], str]]) -> None:
        async def send_all() -> None:
            assert self.producer is not None, "consumer not started"
            futures = []
            for rec, reason in poison:
                headers = list(rec.headers or []) + [
                    ("x-dlq-error", reason[:2000].encode()),
                    ("x-dlq-consumer", self.group_id.encode()),
                    ("x-dlq-source", f"{rec.topic}/{rec.partition}/{rec.offset}".encode()),
                ]
                futures.append(await self.producer.send(f"{rec.topic}.dlq", value=rec.value,
                                                        key=rec.key, headers=headers))
                log.error("dead-lettered message", topic=rec.topic, partition=rec.partition,
                          offset=rec.offset, reason=reason[:300])
            await asyncio.gather(*futures)

        await self._retrying(send_all)
        if self.metrics.dlq is not None:
            self.metrics.dlq.labels(self.topic).inc(len(poison))


class _Permanent(Exception):
    pass


async def claim(conn: AsyncConnection, consumer: str, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Record event ids in the inbox; returns those never seen before (the ones to process)."""
    if not ids:
        return set()
    rows = await conn.execute(_CLAIM, {"consumer": consumer, "ids": list(dict.fromkeys(ids))})
    return set(rows.scalars())


# One array parameter: the statement is the same for every batch size (prepared once, nothing to compile).
_CLAIM = sa.text(
    "INSERT INTO inbox (consumer, event_id) SELECT :consumer, unnest(CAST(:ids AS uuid[])) "
    "ON CONFLICT DO NOTHING RETURNING event_id")


def _runs(deliveries: list[Delivery[EventData]]) -> list[tuple[str, list[Delivery[EventData]]]]:
    """Consecutive deliveries of the same type, in arrival order."""
    out: list[tuple[str, list[Delivery[EventData]]]] = []
    for d in deliveries:
        if out and out[-1][0] == d.env.type:
            out[-1][1].append(d)
        else:
            out.append((d.env.type, [d]))
    return out


def _header(rec: ConsumerRecord[Any, Any], name: str) -> str | None:
    for k, v in rec.headers or ():
        if k == name:
            try:
                return v.decode()
            except UnicodeDecodeError:
                return None
    return None


async def _tolerant_parser(records: tuple[ConsumerRecord[Any, Any], ...],
                           original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream decodes every header as UTF-8 before the handler runs; one bad header would sink the
    whole batch uncommitted while later commits move past it. Parse a sanitised copy and hand the
    handler the original records, whose bad header then makes that one record poison (DLQ)."""
    safe = tuple(r if _utf8(r) else dataclasses.replace(
        r, headers=[(k, v.decode(errors="replace").encode()) for k, v in r.headers]) for r in records)
    msg = await original(safe)
    msg.raw_message = records
    return msg


def _utf8(rec: ConsumerRecord[Any, Any]) -> bool:
    try:
        for _, v in rec.headers or ():
            v.decode()
    except UnicodeDecodeError:
        return False
    return True


def _no_decode(msg: Any) -> Any:
    """Keep raw bytes: parsing happens per record so one bad record cannot sink the batch."""
    return None


__all__ = ["BatchConsumer", "BatchHandler", "Contracts", "Delivery", "Tx", "claim", "wiring"]
