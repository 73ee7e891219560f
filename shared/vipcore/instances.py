"""Every running instance of a service, seen from any one of them (issue 13: the console's ops page).

Several instances of a service may share one HTTP port (SO_REUSEPORT, docs/scaling.md), so nobody can reach a
given instance by URL. Instead each instance writes a heartbeat into its service's database every few seconds
(`service_instances`, one row per instance: host, pid, started_at, last_seen, its readiness checks and the lag of
the partitions its consumers hold), and marks its row stopped when it stops cleanly. Any instance answers
`GET /ops/status` (an hq_admin staff token, O-02) with every row and a state judged by the database's clock:

- `up`: seen within `gone_after_s` and its readiness checks all ok;
- `not_ready`: seen recently, but a readiness check failed;
- `stopped`: it stopped cleanly;
- `gone`: not seen for longer than `gone_after_s` (killed, hung, or cut off from its database).

The same answer carries the outbox backlog and the age of its oldest unpublished row (the database's, not one
relay's view). Rows not seen for `keep_s` are deleted by the next heartbeat of any instance.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .inputs import ResponseModel
from .logs import get_logger
from .outbox import OutboxBacklog, outbox_backlog
from .redact import safe_error

log = get_logger(__name__)

metadata = sa.MetaData()  # in every service database (each service's migration chain writes it out)

service_instances = sa.Table(
    "service_instances", metadata,
    sa.Column("instance_id", sa.Text, primary_key=True, comment="host:pid:random, new at every start"),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("stopped_at", sa.DateTime(timezone=True), comment="set when the instance stopped cleanly"),
    sa.Column("ready", sa.Boolean, nullable=False),
    sa.Column("checks", JSONB, nullable=False, comment="its readiness checks at last_seen: name -> ok or why not"),
    sa.Column("lag", JSONB, nullable=False,
              comment="its consumers' partitions at last_seen: group, topic, partition, offsets, seconds"),
)

State = Literal["up", "not_ready", "stopped", "gone"]


def state_of(seen_ago_s: float, stopped: bool, ready: bool, gone_after_s: float) -> State:
    """An instance's state from its row (the age is measured by the database's clock)."""
    if stopped:
        return "stopped"
    if seen_ago_s > gone_after_s:
        return "gone"
    return "up" if ready else "not_ready"


def new_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


# -- HTTP models ----------------------------------------------------------------------------------------------

class PartitionLagOut(ResponseModel):
    """How far one consumer group is behind on one partition, as the instance holding it last saw it."""

    group: str
    topic: str
    partition: int
    offsets: int = Field(description="messages not yet consumed")
    seconds: float | None = Field(None, description="age of the oldest message not yet consumed (0: caught up)")


class InstanceOut(ResponseModel):
    """One process of this service, from its last heartbeat."""

    instance_id: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    seen_ago_s: float = Field(description="seconds since its last heartbeat (database clock)")
    state: State
    checks: dict[str, str] = Field(description="readiness checks at its last heartbeat: ok, or why not")
    lag: list[PartitionLagOut]


class OutboxOut(ResponseModel):
    backlog: int = Field(description="unpublished outbox rows (counted up to a cap)")
    oldest_age_s: float = Field(description="age of the oldest unpublished row (0: none)")


class OpsStatusOut(ResponseModel):
    """Every instance of this service and its outbox backlog (docs/architecture.md "Operations")."""

    service: str
    answered_by: str = Field(description="the instance that answered")
    gone_after_s: float = Field(description="an instance not seen for longer than this is gone")
    instances: list[InstanceOut]
    outbox: OutboxOut


# -- the heartbeat --------------------------------------------------------------------------------------------

class Heartbeat:
    """Writes this instance's row every `every_s` seconds; marks it stopped at a clean stop."""

    def __init__(self, engine: AsyncEngine, *, checks: Callable[[], Awaitable[dict[str, str]]],
                 lag: Callable[[], list[dict[str, Any]]], every_s: float = 5.0, keep_s: float = 3600.0) -> None:
        self.engine = engine
        self.checks = checks
        self.lag = lag
        self.every_s = every_s
        self.keep_s = keep_s
        self.instance_id = new_instance_id()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at: datetime | None = None
        self._stop = asyncio.Event()

    async def beat(self) -> None:
        checks = await self.checks()
        values = dict(host=self.host, pid=self.pid, ready=all(v == "ok" for v in checks.values()), checks=checks,
                      lag=self.lag(), last_seen=sa.func.now(), stopped_at=None)
        async with self.engine.begin() as conn:
            stmt = insert(service_instances).values(
                instance_id=self.instance_id, started_at=self.started_at or sa.func.now(), **values)
            started = await conn.scalar(stmt.on_conflict_do_update(
                index_elements=[service_instances.c.instance_id], set_=values)
                .returning(service_instances.c.started_at))
            self.started_at = started
            await conn.execute(service_instances.delete().where(
                service_instances.c.last_seen < sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0,
                                                                                      self.keep_s)))

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.beat()
            except Exception as e:  # noqa: BLE001 - a missed heartbeat shows as an ageing last_seen
                log.info("heartbeat not written", error=safe_error(e))
            try:
                await asyncio.wait_for(self._stop.wait(), self.every_s)
            except TimeoutError:
                pass
        try:
            async with self.engine.begin() as conn:
                await conn.execute(service_instances.update()
                                   .where(service_instances.c.instance_id == self.instance_id)
                                   .values(stopped_at=sa.func.now(), last_seen=sa.func.now()))
        except Exception as e:  # noqa: BLE001 - stopping anyway; the row ages into `gone`
            log.info("heartbeat not marked stopped", error=safe_error(e))

    def stop(self) -> None:
        self._stop.set()


async def instances(engine: AsyncEngine, gone_after_s: float) -> list[InstanceOut]:
    """Every instance row, newest start first, with its state."""
    t = service_instances
    async with engine.connect() as conn:
        rows = (await conn.execute(
            sa.select(t, sa.func.extract("epoch", sa.func.now() - t.c.last_seen).label("ago"))
            .order_by(t.c.started_at.desc(), t.c.instance_id))).all()
    return [InstanceOut(
        instance_id=r.instance_id, host=r.host, pid=r.pid, started_at=r.started_at, last_seen=r.last_seen,
        seen_ago_s=max(float(r.ago), 0.0), checks={str(k): str(v) for k, v in (r.checks or {}).items()},
        state=state_of(float(r.ago), r.stopped_at is not None, r.ready, gone_after_s),
        lag=[PartitionLagOut(**x) for x in (r.lag or [])]) for r in rows]


def status_router(service: str, heartbeat: Heartbeat, gone_after_s: float,
                  guard: Callable[[Request], Awaitable[Any]]) -> APIRouter:
    """/ops/status: every instance (health, readiness, lag) and the outbox backlog (an hq_admin staff token)."""
    from .http import PROBLEM_RESPONSES

    r = APIRouter(prefix="/ops", tags=["ops"], responses=PROBLEM_RESPONSES, dependencies=[Depends(guard)])

    @r.get("/status")
    async def ops_status() -> OpsStatusOut:
        """Every instance of this service from its heartbeats (up, not_ready, stopped, gone), each with its
        readiness checks and its consumers' lag per group and partition; and the outbox backlog."""
        backlog: OutboxBacklog = await outbox_backlog(heartbeat.engine)
        return OpsStatusOut(service=service, answered_by=heartbeat.instance_id, gone_after_s=gone_after_s,
                            instances=await instances(heartbeat.engine, gone_after_s),
                            outbox=OutboxOut(backlog=backlog.rows, oldest_age_s=backlog.oldest_age_s))

    return r


__all__ = ["Heartbeat", "OpsStatusOut", "instances", "metadata", "service_instances", "state_of",
           "status_router"]
