"""Transactional outbox: events written in the same transaction as the state change, then relayed in order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .db import is_transient
from .events import Envelope
from .logs import get_logger
from .redact import safe_error
from .telemetry import business_attributes, context_from_traceparent, current_traceparent

log = get_logger(__name__)
metadata = sa.MetaData()  # in every service database; each service's first migration writes these tables out

outbox_table = sa.Table(
    "outbox", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("key", sa.Text),
    sa.Column("headers", JSONB, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("published_at", sa.DateTime(timezone=True)),
)

inbox_table = sa.Table(
    "inbox", metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


sa.Index("outbox_unpublished", outbox_table.c.id, postgresql_where=outbox_table.c.published_at.is_(None))


@dataclass(frozen=True)
class OutgoingEvent:
    topic: str
    key: str | None
    envelope: Envelope
    traceparent: str | None = None  # defaults to the current span's


async def add_to_outbox(conn: AsyncConnection, events: Sequence[OutgoingEvent]) -> None:
    """Insert events into the outbox inside the caller's transaction (one statement for all)."""
    if not events:
        return
    rows = []
    for ev in events:
        tp = ev.traceparent or current_traceparent()
        hdrs = {k: v.decode() for k, v in ev.envelope.kafka_headers({"traceparent": tp} if tp else None)}
        rows.append({"event_id": ev.envelope.id, "topic": ev.topic, "key": ev.key,
                     "headers": hdrs, "payload": ev.envelope.body()})
    await conn.execute(outbox_table.insert(), rows)


@dataclass(frozen=True)
class OutboxBacklog:
    rows: int
    oldest_age_s: float


BACKLOG_CAP = 100_000  # counting stops here: a stuck outbox is seen without scanning all of it


async def outbox_backlog(engine: AsyncEngine, cap: int = BACKLOG_CAP) -> OutboxBacklog:
    """Unpublished rows (up to `cap`) and the age of the oldest, from the database (any instance, relay leader
    or not); the ops status route shows it, the relay's gauges show what one relay round saw."""
    first = (sa.select(outbox_table.c.created_at).where(outbox_table.c.published_at.is_(None))
             .order_by(outbox_table.c.id).limit(cap).subquery())
    async with engine.connect() as conn:
        n, age = (await conn.execute(sa.select(
            sa.func.count(), sa.func.extract("epoch", sa.func.now() - sa.func.min(first.c.created_at))))).one()
    return OutboxBacklog(int(n), max(float(age or 0.0), 0.0))


class OutboxRelay:
    """Publishes unpublished outbox rows in id order; one active relay per database (advisory lock)."""

    def __init__(self, engine: AsyncEngine, producer: AIOKafkaProducer | None, *, name: str,
                 batch_size: int, idle_poll_s: float, tracer_provider: Any = None,
                 backlog_gauge: Any = None, published_counter: Any = None, oldest_age_gauge: Any = None) -> None:
        self.engine = engine
        self.producer = producer
        self.name = name
        self.batch_size = batch_size
        self.idle_poll_s = idle_poll_s
        self.tracer = trace.get_tracer("vipcore.outbox", tracer_provider=tracer_provider)
        self.backlog_gauge = backlog_gauge
        self.published_counter = published_counter
        self.oldest_age_gauge = oldest_age_gauge
        self._wake = asyncio.Event()
        self._stopping = False
        self.lock_key = int.from_bytes(f"outbox:{name}".encode()[:8].ljust(8, b"\0"), "big") >> 1

    def wake(self) -> None:
        """Tell the relay new rows were committed (saves waiting for the next poll)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        delay = 0.2
        while not self._stopping:
            try:
                async with self.engine.connect() as lock_conn:
                    got = await lock_conn.scalar(sa.select(sa.func.pg_try_advisory_lock(self.lock_key)))
                    await lock_conn.commit()
                    if not got:
                        await self._sleep(1.0)
                        continue
                    delay = 0.2
                    await self._relay_while_leader(lock_conn)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - keep relaying after any failure
                log.warning("outbox relay error, retrying", error=safe_error(e), transient=is_transient(e))
                await self._sleep(delay + random.random() * delay)
                delay = min(delay * 2, 5.0)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def _relay_while_leader(self, lock_conn: AsyncConnection) -> None:
        ticks = 0
        while not self._stopping:
            n = await self.relay_once()
            ticks += 1
            if ticks % 500 == 0:
                await lock_conn.execute(sa.text("SELECT 1"))  # notice a dead lock connection
                await lock_conn.commit()
                await self._purge_published()
            if n < self.batch_size:
                await self._sleep(self.idle_poll_s)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                sa.select(outbox_table.c.id, outbox_table.c.topic, outbox_table.c.key,
                          outbox_table.c.headers, outbox_table.c.payload,
                          (sa.func.extract("epoch", sa.func.now() - outbox_table.c.created_at)).label("age_s"))
                .where(outbox_table.c.published_at.is_(None))
                .order_by(outbox_table.c.id).limit(self.batch_size)
            )).all()
            await conn.rollback()
        if self.backlog_gauge is not None:
            self.backlog_gauge.set(len(rows))
        if self.oldest_age_gauge is not None:
            self.oldest_age_gauge.set(float(rows[0].age_s) if rows else 0.0)
        if not rows:
            return 0
        assert self.producer is not None, "relay not started"
        futures = []
        for row in rows:
            headers = row.headers
            with self.tracer.start_as_current_span(
                f"{row.topic} publish", kind=SpanKind.PRODUCER,
                context=context_from_traceparent(headers.get("traceparent")),
                attributes={"messaging.system": "kafka", "messaging.destination.name": row.topic},
            ) as span:
                if span.get_span_context().trace_flags.sampled:  # not for a trace only recorded: no re-parse
                    span.set_attributes(_attributes_of(row.payload))
                tp = current_traceparent()
                if tp:
                    headers = {**headers, "traceparent": tp}
                futures.append(await self.producer.send(
                    row.topic, value=row.payload,
                    key=row.key.encode() if row.key is not None else None,
                    headers=[(k, v.encode()) for k, v in headers.items()],
                ))
        await asyncio.gather(*futures)
        async with self.engine.begin() as conn:
            # The broker holds the event now: the row keeps topic, key, headers and times (ops, tests)
            # until the purge, not the payload, so no personal data (mobiles, names) lingers in it.
            await conn.execute(_PUBLISHED, {"ids": [r.id for r in rows]})
        if self.published_counter is not None:
            self.published_counter.inc(len(rows))
        return len(rows)

    async def _purge_published(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.text(
                "DELETE FROM outbox WHERE published_at < now() - interval '1 hour'"))


# one array parameter: the same prepared statement for every batch size (an IN list compiles per size)
_PUBLISHED = sa.text(
    "UPDATE outbox SET published_at = now(), payload = ''::bytea WHERE id = ANY(CAST(:ids AS bigint[]))")


def _attributes_of(payload: bytes) -> dict[str, str]:
    """The receipt/store/member ids of an event's data, for its publish span (other keys never)."""
    try:
        return business_attributes(orjson.loads(payload))
    except orjson.JSONDecodeError:
        return {}
