"""Dead-letter redrive: list, inspect, replay and discard what a service's consumers dead-lettered.

A consumer sends a record it cannot process to `<topic>.dlq` with the original key, value and headers plus
`x-dlq-error`, `x-dlq-consumer` (its group) and `x-dlq-source` (topic/partition/offset). One entry here is one
event (its CloudEvents id; a record without a usable id is its own entry, `<dlq topic>@<offset>`) dead-lettered
by one of this service's consumer groups, with every failure of it: first and last failure, count, last reason.

The DLQ topic is read with a bounded, group-less consumer (from the beginning to the end offsets seen at the
start, nothing committed); what operators did is in the service's `dlq_actions` table, one row per action with
the operator. An entry's status:

- `applied`: the consumer's inbox holds the event id (it was processed; replaying again is a no-op);
- `discarded`: the last action was a discard (replay-since skips it);
- `replayed`: the last action was a replay after the last failure (waiting for the consumer);
- `pending`: otherwise (never acted on, or it failed again after a replay).

A replay produces the original record back onto its source topic and partition, with its key and headers plus
`x-redrive-id` and `x-redriven-by`, so it re-enters the normal consumer path: the inbox keyed by the event id
applies it once however often it is replayed (and other services' consumers of the topic skip it as already
seen).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import Conflict, NotFound, Unavailable
from .inputs import AwareTime, IdentOf, Name, RequestModel, ResponseModel, TextOf
from .logs import get_logger

log = get_logger(__name__)

metadata = sa.MetaData()  # in every service database (each service's migration 0002 writes it out)

dlq_actions = sa.Table(
    "dlq_actions", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("entry_id", sa.Text, nullable=False, comment="event id, or <dlq topic>@<offset>"),
    sa.Column("topic", sa.Text, nullable=False, comment="the source topic"),
    sa.Column("consumer", sa.Text, nullable=False, comment="the consumer group that dead-lettered it"),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("operator", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("redrive_id", sa.Uuid, comment="replay: the x-redrive-id header of the record produced"),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("action IN ('replay', 'discard')", name="dlq_actions_action"),
)
sa.Index("dlq_actions_entry", dlq_actions.c.entry_id, dlq_actions.c.id)

DLQ_HEADERS = ("x-dlq-error", "x-dlq-consumer", "x-dlq-source", "x-redrive-id", "x-redriven-by")
MAX_RECORDS = 50_000  # per DLQ topic read; an entry list beyond that says `truncated`
READ_TIMEOUT_S = 10.0

Status = Literal["pending", "replayed", "discarded", "applied"]
EntryId = Annotated[str, IdentOf(200)]
Operator = Name
Reason = Annotated[str, TextOf(500, min_length=1)]


# -- HTTP models ----------------------------------------------------------------------------------------------

class DlqActionOut(ResponseModel):
    """One operator action on a dead-lettered event."""

    action: Literal["replay", "discard"]
    operator: str
    reason: str | None = None
    redrive_id: uuid.UUID | None = None
    at: datetime


class DlqEntryOut(ResponseModel):
    """One event dead-lettered by one of this service's consumers, with every failure of it."""

    id: str = Field(description="the event id (ce_id), or <dlq topic>@<offset> for a record without one")
    topic: str = Field(description="the source topic")
    consumer: str = Field(description="the consumer group that dead-lettered it")
    event_type: str | None = None
    event_id: str | None = None
    key: str | None = None
    reason: str = Field(description="the error of the last failure")
    first_failure_at: datetime
    last_failure_at: datetime
    count: int = Field(description="how often it was dead-lettered")
    status: Status
    source: str | None = Field(None, description="topic/partition/offset of the original record")


class DlqEntryDetailOut(DlqEntryOut):
    """An entry with its original headers, body and the audit of what operators did."""

    headers: dict[str, str] = Field(description="the original record's headers (bytes that are not UTF-8 replaced)")
    reasons: list[str] = Field(description="the error of every failure, oldest first")
    payload: str = Field(description="the original body (bytes that are not UTF-8 replaced)")
    actions: list[DlqActionOut]


class DlqListOut(ResponseModel):
    """Dead-lettered events of this service, newest failure first."""

    entries: list[DlqEntryOut]
    truncated: bool = Field(description="a DLQ topic held more records than one read takes")


class OperatorIn(RequestModel):
    """Who acts (named in the audit). Issue 11 moves this to the staff token."""

    operator: Operator
    note: Annotated[str, TextOf(500)] | None = None


class DiscardIn(RequestModel):
    """Discard: who, and why (both in the audit)."""

    operator: Operator
    reason: Reason


class DlqReplayedOut(ResponseModel):
    """A replayed entry: where the record went and under which redrive id."""

    entry_id: str
    redrive_id: uuid.UUID
    topic: str
    partition: int
    offset: int
    already_applied: bool = Field(description="the inbox already held the event: this replay is a no-op")


class DlqSkippedOut(ResponseModel):
    entry_id: str
    status: Status


class DlqReplayManyOut(ResponseModel):
    """What replay-since replayed, and what it skipped (discarded, applied, already replayed)."""

    replayed: list[DlqReplayedOut]
    skipped: list[DlqSkippedOut]


class DlqDiscardedOut(ResponseModel):
    entry_id: str
    operator: str
    reason: str
    at: datetime


# -- reading the DLQ ------------------------------------------------------------------------------------------

@dataclass
class _Failure:
    dlq_topic: str
    offset: int
    at: datetime
    reason: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]  # the original's (x-dlq-* and earlier redrive headers removed)
    source: str | None


@dataclass
class Entry:
    id: str
    topic: str
    consumer: str
    event_type: str | None
    event_id: str | None
    failures: list[_Failure] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False

    @property
    def last(self) -> _Failure:
        return self.failures[-1]

    @property
    def status(self) -> Status:
        if self.applied:
            return "applied"
        if self.actions:
            a = self.actions[-1]
            if a["action"] == "discard":
                return "discarded"
            if a["at"] >= self.last.at:
                return "replayed"
        return "pending"

    def out(self) -> DlqEntryOut:
        return DlqEntryOut(**self._fields())

    def _fields(self) -> dict[str, Any]:
        return dict(id=self.id, topic=self.topic, consumer=self.consumer, event_type=self.event_type,
                    event_id=self.event_id, key=_text(self.last.key), reason=self.last.reason,
                    first_failure_at=self.failures[0].at, last_failure_at=self.last.at, count=len(self.failures),
                    status=self.status, source=self.last.source)

    def detail(self) -> DlqEntryDetailOut:
        return DlqEntryDetailOut(
            **self._fields(), headers={k: v.decode(errors="replace") for k, v in self.last.headers},
            reasons=[f.reason for f in self.failures], payload=_text(self.last.value) or "",
            actions=[DlqActionOut(**a) for a in self.actions])


def _text(b: bytes | None) -> str | None:
    return None if b is None else b.decode(errors="replace")


def _hdr(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    for k, v in headers:
        if k == name:
            return v.decode(errors="replace")
    return None


@dataclass(frozen=True)
class Source:
    """One consumer of this service: its source topic (prefixed) and group."""

    topic: str
    group: str


class DeadLetters:
    """The redrive operations of one service over its consumers' DLQ topics."""

    def __init__(self, *, service: str, engine: AsyncEngine, bootstrap: str,
                 sources: Callable[[], Sequence[Source]], producer: Callable[[], AIOKafkaProducer | None],
                 depth_gauge: Any = None) -> None:
        self.service = service
        self.engine = engine
        self.bootstrap = bootstrap
        self.sources = sources
        self.producer = producer
        self.depth_gauge = depth_gauge
        self._lock = asyncio.Lock()  # one replay/discard at a time per process: no double replay from a race
        self._read_lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None

    def _producer(self) -> AIOKafkaProducer:
        p = self.producer()
        if p is None:
            raise Unavailable("kafka", "the service is not started", retry_after_s=5)
        return p

    async def entries(self) -> tuple[list[Entry], bool]:
        """Every entry of this service, newest failure first; and whether a DLQ read was truncated."""
        srcs = list(self.sources())
        groups = {s.group: s for s in srcs}
        dlq_topics = sorted({s.topic + ".dlq" for s in srcs})
        records, truncated = await self._read(dlq_topics)
        by_id: dict[str, Entry] = {}
        for rec in records:
            hdrs = list(rec.headers or ())
            group = _hdr(hdrs, "x-dlq-consumer")
            if group not in groups:
                continue  # another service's consumer of the same topic
            ce_id = _hdr(hdrs, "ce_id")
            try:
                event_id: str | None = str(uuid.UUID(ce_id)) if ce_id else None
            except ValueError:
                event_id = None
            eid = event_id or f"{rec.topic}@{rec.offset}"
            e = by_id.get(eid)
            if e is None:
                e = by_id[eid] = Entry(eid, groups[group].topic, group, _hdr(hdrs, "ce_type"), event_id)
            e.failures.append(_Failure(
                rec.topic, rec.offset, datetime.fromtimestamp(rec.timestamp / 1000, UTC),
                _hdr(hdrs, "x-dlq-error") or "", rec.key, rec.value,
                [(k, v) for k, v in hdrs if k not in DLQ_HEADERS], _hdr(hdrs, "x-dlq-source")))
        entries = list(by_id.values())
        await self._load_state(entries)
        entries.sort(key=lambda e: e.last.at, reverse=True)
        self._set_depth(srcs, entries)
        return entries, truncated

    async def entry(self, entry_id: str) -> Entry:
        for e in (await self.entries())[0]:
            if e.id == entry_id:
                return e
        raise NotFound("entry_id", f"no dead-lettered event {entry_id} for {self.service}")

    async def _read(self, topics: list[str]) -> tuple[list[Any], bool]:
        """Every record of the DLQ topics, from the beginning up to the end offsets seen now."""
        if not topics:
            return [], False
        producer = self._producer()
        tps = []
        try:
            for t in topics:  # metadata of these topics only (a broker may hold thousands)
                async with asyncio.timeout(5):
                    tps += [TopicPartition(t, p) for p in sorted(await producer.partitions_for(t))]
        except Exception as e:  # noqa: BLE001
            raise Unavailable("kafka", f"cannot read the dead-letter topics' metadata: {type(e).__name__}",
                              retry_after_s=5) from e
        if not tps:
            return [], False
        out: list[Any] = []
        truncated = False
        async with self._read_lock:  # one reader per process, kept between requests (no connect per listing)
            try:
                consumer = await self._reader()
                consumer.assign(tps)
                starts = await consumer.beginning_offsets(tps)
                ends = await consumer.end_offsets(tps)
                todo = {tp for tp in tps if ends[tp] > starts[tp]}
                for tp in todo:
                    consumer.seek(tp, max(starts[tp], ends[tp] - MAX_RECORDS))
                    truncated |= ends[tp] - starts[tp] > MAX_RECORDS
                deadline = time.monotonic() + READ_TIMEOUT_S
                while todo and time.monotonic() < deadline:
                    got = await consumer.getmany(*todo, timeout_ms=500, max_records=5000)
                    for tp, recs in got.items():
                        out.extend(r for r in recs if r.offset < ends[tp])
                    for tp in list(todo):
                        if await consumer.position(tp) >= ends[tp]:
                            todo.discard(tp)
                if todo:
                    truncated = True
            except Exception as e:  # noqa: BLE001
                await self.close()  # a fresh reader next time
                raise Unavailable("kafka", f"cannot read the dead-letter topics: {type(e).__name__}",
                                  retry_after_s=5) from e
        out.sort(key=lambda r: (r.timestamp, r.topic, r.offset))
        return out, truncated

    async def _reader(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                 client_id=f"{self.service}-dlq-reader", auto_offset_reset="earliest")
            await c.start()
            self._consumer = c
        return self._consumer

    async def close(self) -> None:
        """Stop the DLQ reader (the runtime calls this at stop)."""
        c, self._consumer = self._consumer, None
        if c is not None:
            try:
                await c.stop()
            except Exception:  # noqa: BLE001 - closing
                pass

    async def _load_state(self, entries: list[Entry]) -> None:
        if not entries:
            return
        ids = [e.id for e in entries]
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                sa.select(dlq_actions).where(dlq_actions.c.entry_id.in_(ids)).order_by(dlq_actions.c.id))).all()
            by_event = [uuid.UUID(e.event_id) for e in entries if e.event_id]
            seen = set()
            if by_event:
                seen = {(r.consumer, str(r.event_id)) for r in await conn.execute(
                    sa.text("SELECT consumer, event_id FROM inbox WHERE event_id = ANY(CAST(:ids AS uuid[]))"),
                    {"ids": by_event})}
        by_id = {e.id: e for e in entries}
        for r in rows:
            by_id[r.entry_id].actions.append(
                {"action": r.action, "operator": r.operator, "reason": r.reason, "redrive_id": r.redrive_id,
                 "at": r.at})
        for e in entries:
            e.applied = e.event_id is not None and (e.consumer, e.event_id) in seen

    def _set_depth(self, srcs: list[Source], entries: list[Entry]) -> None:
        if self.depth_gauge is None:
            return
        depth = {s.topic: 0 for s in srcs}
        for e in entries:
            if e.status == "pending":
                depth[e.topic] = depth.get(e.topic, 0) + 1
        for topic, n in depth.items():
            self.depth_gauge.labels(topic).set(n)

    # -- actions ----------------------------------------------------------------------------------------------

    async def replay(self, entry_id: str, operator: str, note: str | None = None) -> DlqReplayedOut:
        async with self._lock:
            return await self._replay(await self.entry(entry_id), operator, note)

    async def replay_since(self, since: datetime, operator: str, note: str | None = None) -> DlqReplayManyOut:
        """Replay every pending entry whose last failure is at or after `since` (oldest first)."""
        async with self._lock:
            entries, _ = await self.entries()
            done, skipped = [], []
            for e in sorted(entries, key=lambda e: e.last.at):
                if e.last.at < since:
                    continue
                if e.status != "pending":
                    skipped.append(DlqSkippedOut(entry_id=e.id, status=e.status))
                    continue
                done.append(await self._replay(e, operator, note))
            return DlqReplayManyOut(replayed=done, skipped=skipped)

    async def discard(self, entry_id: str, operator: str, reason: str) -> DlqDiscardedOut:
        async with self._lock:
            e = await self.entry(entry_id)
            if e.status == "applied":
                raise Conflict("dlq", "entry_id", f"{entry_id} was applied; nothing to discard")
            async with self.engine.begin() as conn:
                at = (await conn.execute(dlq_actions.insert().values(
                    entry_id=e.id, topic=e.topic, consumer=e.consumer, action="discard", operator=operator,
                    reason=reason).returning(dlq_actions.c.at))).scalar_one()
            log.warning("dlq entry discarded", entry_id=e.id, topic=e.topic, operator=operator)
            return DlqDiscardedOut(entry_id=e.id, operator=operator, reason=reason, at=at)

    async def _replay(self, e: Entry, operator: str, note: str | None) -> DlqReplayedOut:
        producer = self._producer()
        redrive_id = uuid.uuid4()
        f = e.last
        headers = [*f.headers, ("x-redrive-id", str(redrive_id).encode()), ("x-redriven-by", operator.encode())]
        partition = _partition(f.source, e.topic)
        async with self.engine.begin() as conn:  # audited only if the record was produced
            await conn.execute(dlq_actions.insert().values(
                entry_id=e.id, topic=e.topic, consumer=e.consumer, action="replay", operator=operator,
                reason=note, redrive_id=redrive_id))
            try:
                if partition is not None:
                    parts = await producer.partitions_for(e.topic)
                    partition = partition if partition in parts else None
                meta = await (await producer.send(e.topic, value=f.value, key=f.key, headers=headers,
                                                  partition=partition))
            except Exception as exc:  # noqa: BLE001
                raise Unavailable("kafka", f"cannot produce to {e.topic}: {type(exc).__name__}",
                                  retry_after_s=5) from exc
        log.warning("dlq entry replayed", entry_id=e.id, topic=e.topic, operator=operator,
                    redrive_id=str(redrive_id))
        return DlqReplayedOut(entry_id=e.id, redrive_id=redrive_id, topic=e.topic, partition=meta.partition,
                              offset=meta.offset, already_applied=e.status == "applied")


def _partition(source: str | None, topic: str) -> int | None:
    """The original partition from `x-dlq-source` (topic/partition/offset), when it names this topic."""
    if not source:
        return None
    parts = source.rsplit("/", 2)
    if len(parts) != 3 or parts[0] != topic or not parts[1].isdigit():
        return None
    return int(parts[1])


class DepthRefresher:
    """Keeps the `dlq_depth` gauge current between listings (one bounded DLQ read a minute)."""

    def __init__(self, dl: DeadLetters, every_s: float = 60.0, first_after_s: float = 15.0) -> None:
        self.dl, self.every_s, self.first_after_s = dl, every_s, first_after_s
        self._stop = asyncio.Event()

    async def run(self) -> None:
        wait = self.first_after_s
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), wait)
                return
            except TimeoutError:
                pass
            wait = self.every_s
            try:
                await self.dl.entries()
            except Exception as e:  # noqa: BLE001 - a metric, never breaks the service
                log.info("dlq depth not refreshed", error=repr(e))

    def stop(self) -> None:
        self._stop.set()


# -- HTTP -----------------------------------------------------------------------------------------------------

def dlq_router(dl: DeadLetters, guard: Callable[[Request], Awaitable[Any]]) -> APIRouter:
    """/ops/dlq: list, inspect, replay, replay-since and discard dead-lettered events (an hq_admin staff token)."""
    from .http import PROBLEM_RESPONSES

    r = APIRouter(prefix="/ops/dlq", tags=["ops"], responses=PROBLEM_RESPONSES, dependencies=[Depends(guard)])

    @r.get("")
    async def list_dlq(status: Annotated[Status | None, Query()] = None,
                       topic: Annotated[Annotated[str, IdentOf(200)] | None, Query()] = None) -> DlqListOut:
        """Dead-lettered events of this service (reason, first and last failure, count, status)."""
        entries, truncated = await dl.entries()
        return DlqListOut(entries=[e.out() for e in entries if (status is None or e.status == status)
                                   and (topic is None or e.topic == topic)], truncated=truncated)

    @r.post(":replay")
    async def replay_since(since: Annotated[AwareTime, Query()], body: OperatorIn) -> DlqReplayManyOut:
        """Replay every pending entry whose last failure is at or after `since`; discarded ones are skipped."""
        return await dl.replay_since(since, body.operator, body.note)

    @r.get("/{entry_id}")
    async def show_dlq(entry_id: EntryId) -> DlqEntryDetailOut:
        """One dead-lettered event: original headers and body, every failure's reason, the audit."""
        return (await dl.entry(entry_id)).detail()

    @r.post("/{entry_id}:replay")
    async def replay(entry_id: EntryId, body: OperatorIn) -> DlqReplayedOut:
        """Produce the original record back onto its topic and partition (applied once: the inbox)."""
        return await dl.replay(entry_id, body.operator, body.note)

    @r.post("/{entry_id}:discard")
    async def discard(entry_id: EntryId, body: DiscardIn) -> DlqDiscardedOut:
        """Mark an entry discarded, with the operator and the reason; replay-since skips it."""
        return await dl.discard(entry_id, body.operator, body.reason)

    return r


__all__ = ["DeadLetters", "DepthRefresher", "Source", "dlq_actions", "dlq_router", "metadata"]
