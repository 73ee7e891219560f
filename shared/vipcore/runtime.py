"""Assembles one service process from its Settings: engine, broker, outbox relay, consumers, HTTP app."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from . import contracts  # noqa: F401 - registers every event contract
from .auth import Revocations, Role, TokenVerifier
from .consumer import BatchConsumer, BatchHandler, ConsumerMetrics, Contracts
from .db import make_engine, upgrade_async
from .dlq import DeadLetters, DepthRefresher, Source, dlq_router
from .events import EventData
from .http import install_docs, install_problem_handlers, ops_router
from .identity import Access, Caller, RevocationWatcher, ServiceTokens, no_service_credential, parse_service_keys
from .instances import Heartbeat, status_router
from .kafka import make_broker, make_producer
from .limits import BodyLimit
from .logs import get_logger
from .metrics import RequestMetrics
from .migrations import target_metadata
from .outbox import OutboxRelay
from .scheduler import LeaderLock, Ticker
from .settings import ServiceSettings
from .telemetry import make_tracer_provider
from .topics import MEMBERS_EVENTS, Topic

log = get_logger(__name__)


class ServiceRuntime:
    """Everything a service process runs besides its own rules; built from Settings, nothing at import."""

    def __init__(self, settings: ServiceSettings, *, versions_dir: Path,
                 tracer_provider: TracerProvider | None = None) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.versions_dir = versions_dir
        self.tracer_provider = tracer_provider or make_tracer_provider(
            self.name, settings.otel_exporter_otlp_endpoint, zipkin_endpoint=settings.zipkin_endpoint,
            sample_ratio=settings.otel_traces_sampler_arg)
        self.registry = CollectorRegistry()
        r = self.registry
        self.m_handled = Counter("events_handled", "Events handled", ["topic"], registry=r)
        self.m_failed = Counter("events_failed", "Event handling failures", ["topic", "kind"], registry=r)
        self.m_dlq = Counter("events_dead_lettered", "Events sent to the DLQ", ["topic"], registry=r)
        self.m_latency = Histogram("handler_batch_seconds", "Batch handling time", ["topic"], registry=r)
        self.m_lag = Gauge("consumer_lag", "Consumer lag (messages)", ["topic", "partition"], registry=r)
        self.m_lag_s = Gauge("consumer_lag_seconds", "Age of the oldest message not yet consumed (0: caught up)",
                             ["topic", "partition"], registry=r)
        self.m_backlog = Gauge("outbox_backlog", "Unpublished outbox rows seen by the relay", registry=r)
        self.m_outbox_age = Gauge("outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row",
                                  registry=r)
        self.m_published = Counter("outbox_published", "Outbox rows published", registry=r)
        self.m_sched_runs = Counter("scheduler_runs", "Scheduled work rounds", ["job", "outcome"], registry=r)
        self.m_sched_ok = Gauge("scheduler_last_success_timestamp_seconds", "When a job last ran through",
                                ["job"], registry=r)
        self.engine = make_engine(settings.database_url, settings.db_pool_size)
        self._instrument_db()
        self.broker = make_broker(settings.kafka_bootstrap_servers, client_id=self.name,
                                  tracer_provider=self.tracer_provider)
        self.producer: AIOKafkaProducer | None = None  # aiokafka needs the running loop: made in start()
        self.relay = OutboxRelay(
            self.engine, None, name=self.name, batch_size=settings.outbox_batch_size,
            idle_poll_s=settings.outbox_idle_poll_ms / 1000, tracer_provider=self.tracer_provider,
            backlog_gauge=self.m_backlog, published_counter=self.m_published, oldest_age_gauge=self.m_outbox_age)
        self.consumers: list[BatchConsumer] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self.background: list[Any] = []  # objects with async run() and stop()
        self.closers: list[Callable[[], Awaitable[None]]] = []  # e.g. HTTP client pools, closed at stop
        # request body caps of this service's routes that differ from http_max_body_bytes (vipcore.limits.BodyLimit);
        # the service sets its own, the settings' http_body_limits replace any of them
        self.body_limits: dict[str, int] = {}
        self.m_dlq_depth = Gauge("dlq_depth", "Dead-lettered events not yet replayed, applied or discarded",
                                 ["topic"], registry=r)
        self.dead_letters = DeadLetters(
            service=self.name, engine=self.engine, bootstrap=settings.kafka_bootstrap_servers,
            sources=lambda: [Source(c.topic, c.group_id) for c in self.consumers],
            producer=lambda: self.producer, depth_gauge=self.m_dlq_depth)
        self.background.append(DepthRefresher(self.dead_letters))
        # every instance's heartbeat (readiness, its partitions' lag) in the service's database: GET /ops/status
        self.heartbeat = Heartbeat(self.engine, checks=self.ready, lag=self.partition_lag,
                                   every_s=settings.heartbeat_s)
        self.background.append(self.heartbeat)
        self.closers.append(self.dead_letters.close)
        # Identity (docs/architecture.md "Identity"): staff tokens checked against revocations read from
        # members.staff.changed; service tokens signed with this service's key and checked with the callers' keys
        self.revocations = Revocations(keep_s=2 * settings.staff_token_ttl_s)
        self.staff_verifier = TokenVerifier(settings.staff_token_public_key, self.revocations,
                                            max_ttl_s=settings.staff_token_ttl_s)
        self.access = Access(self.name, self.staff_verifier, parse_service_keys(settings.service_keys),
                             settings.bootstrap_admin_token)
        key = settings.service_private_key
        self.service_tokens = ServiceTokens(self.name, key.get_secret_value(), settings.service_token_ttl_s) \
            if key else None
        self.revocation_watcher = RevocationWatcher(
            settings.kafka_bootstrap_servers, settings.kafka_topic_prefix + MEMBERS_EVENTS.name, self.revocations,
            lookback_s=settings.staff_token_ttl_s + 60)
        self.background.append(self.revocation_watcher)

    def admin_guard(self, *roles: Role, callers: tuple[str, ...] = (),
                    internal: tuple[str, ...] = ()) -> Callable[[Any], Awaitable[Caller]]:
        """Dependency for admin routes: a staff token with one of `roles` (default hq_admin, O-02), a service
        token from one of `callers`, or the bootstrap admin token while ADMIN_TOKEN_ENABLED=true. On `/internal/`
        paths only a service token from one of `internal` (docs/architecture.md "Identity")."""
        return self.access.guard(*roles, callers=callers, internal=internal)

    def internal_guard(self, *callers: str) -> Callable[[Any], Awaitable[Caller]]:
        """Dependency for internal routes: only a service token (audience: this service) from one of `callers`."""
        return self.access.internal(*callers)

    def token_provider(self, audience: str) -> Callable[[], str]:
        """This service's current service token for calling `audience` (InternalClient(token=...))."""
        if self.service_tokens is None:
            return no_service_credential(self.name, audience)
        return self.service_tokens.provider(audience)

    def partition_lag(self) -> list[dict[str, Any]]:
        """The lag of the partitions this instance's consumers hold now, per group (the heartbeat records it)."""
        return [{"group": c.group_id, "topic": c.topic, "partition": p, "offsets": n, "seconds": s}
                for c in self.consumers for p, (n, s) in sorted(c.partition_lag.items())]

    def _instrument_db(self) -> None:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        inst = SQLAlchemyInstrumentor()
        if not inst.is_instrumented_by_opentelemetry:
            inst.instrument(engine=self.engine.sync_engine, tracer_provider=self.tracer_provider)

    def consume(self, topic: Topic, handlers: Mapping[Contracts, BatchHandler]) -> BatchConsumer:
        """Subscribe this service to `topic` with idempotent batch handlers per event contract.

        `rt.consume(POS_SALES, {SaleRecorded: h.on_sales, SaleRefunded: h.on_refunds})`: each contract class
        names its event type and version; a key may be a tuple of several versions of one type. Versions
        not listed go to the dead-letter topic."""
        c = BatchConsumer(
            service=self.name, topic=topic.name, topic_prefix=self.settings.kafka_topic_prefix,
            handlers=handlers, engine=self.engine,
            producer=None, tracer_provider=self.tracer_provider,
            metrics=ConsumerMetrics(self.m_handled, self.m_failed, self.m_dlq, self.m_latency, self.m_lag,
                                    self.m_lag_s),
            on_commit=self.relay.wake,
        )
        c.subscribe(self.broker, max_records=self.settings.consumer_max_records,
                    batch_timeout_ms=self.settings.consumer_batch_timeout_ms,
                    fetch_min_bytes=self.settings.consumer_fetch_min_bytes,
                    fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms)
        self.consumers.append(c)
        return c

    def publishes(self, topic: Topic, *events: type[EventData]) -> None:
        """Document the events this service emits (through its outbox) in its AsyncAPI spec."""
        for c in events:
            self.broker.publisher(self.settings.kafka_topic_prefix + topic.name, title=f"{topic.name}:{c.TYPE}",
                                  schema=c, description=(c.__doc__ or "").strip() + f" dataschema {c.dataschema()}")

    def asyncapi(self) -> Any:
        from faststream.specification import AsyncAPI

        spec = AsyncAPI(self.broker, title=f"{self.name} events", version="1", schema_version="3.0.0")
        return spec.to_specification().to_jsonable()

    async def start(self) -> None:
        await upgrade_async(self.settings.sync_database_url, self.versions_dir, target_metadata(self.name))
        self.producer = make_producer(self.settings.kafka_bootstrap_servers, client_id=f"{self.name}-relay")
        self.relay.producer = self.producer
        for c in self.consumers:
            c.producer = self.producer
        await self.producer.start()
        await self.broker.start()
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.name}-relay"))
        for b in self.background:
            if isinstance(b, Ticker):
                b.runs, b.last_success = self.m_sched_runs, self.m_sched_ok
                if b.leader is None:  # scheduled work runs on one instance (leader lock)
                    b.leader = LeaderLock(self.engine, f"{self.name}:{b.name}")
            self._tasks.append(asyncio.create_task(b.run(), name=f"{self.name}-{type(b).__name__}"))
        await self.revocation_watcher.catch_up()  # a restarted service refuses the tokens revoked before (O-03)
        # Everything built so far (app, routes, models, metadata) lives as long as the process: keep it out of
        # the collector's generations so a full collection on the request path scans only request garbage.
        gc.collect()  # garbage first: what is frozen is never collected
        gc.freeze()
        log.info("service started", service=self.name)

    async def stop(self) -> None:
        self.relay.stop()
        for b in self.background:
            b.stop()
        await self.broker.stop()
        # Let the relay and workers finish the batch in hand (published rows get marked sent), then cancel.
        _, pending = await asyncio.wait(self._tasks, timeout=10) if self._tasks else (set(), set())
        for t in pending:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.producer is not None:
            await self.producer.stop()
        for close in self.closers:
            await close()
        await self.engine.dispose()
        self.tracer_provider.force_flush()

    async def ready(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(2):
                async with self.engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as e:  # noqa: BLE001
            checks["database"] = f"unavailable: {type(e).__name__}"
        try:
            async with asyncio.timeout(2):
                assert self.producer is not None, "not started"
                await self.producer.client.fetch_all_metadata()
            checks["kafka"] = "ok"
        except Exception as e:  # noqa: BLE001
            checks["kafka"] = f"unavailable: {type(e).__name__}"
        return checks

    def http_app(self, *routers: APIRouter, title: str, description: str = "") -> FastAPI:
        """FastAPI app whose lifespan starts and stops this runtime."""

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=title, description=description, version="1", lifespan=lifespan,
                      docs_url=None, redoc_url=None)
        install_problem_handlers(app)
        install_docs(app)
        app.include_router(ops_router(self.registry, self.ready))
        app.include_router(dlq_router(self.dead_letters, self.admin_guard(Role.HQ_ADMIN)))
        app.include_router(status_router(self.name, self.heartbeat, self.settings.instance_gone_after_s,
                                         self.admin_guard(Role.HQ_ADMIN)))
        for r in routers:
            app.include_router(r)

        @app.get("/asyncapi.json", tags=["ops"])
        async def asyncapi() -> Any:
            """AsyncAPI 3 document of the topics this service consumes and publishes."""
            return self.asyncapi()

        app.state.runtime = self
        app.add_middleware(RequestMetrics, registry=self.registry)  # per-route rate, errors, duration
        # outermost: an oversized body is refused (413) before any parsing, key or token check
        app.add_middleware(BodyLimit, default=self.settings.http_max_body_bytes,
                           routes={**self.body_limits, **self.settings.http_body_limits})
        # one server span per request; the per-message `receive`/`send` spans cost CPU and say nothing
        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.tracer_provider,
                                           excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])
        return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service process (uvicorn, loopback by default)."""
    import uvicorn

    from .logs import configure_logging

    configure_logging(settings.service_name, settings.log_level)
    if not settings.http_reuse_port:
        uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None,
                    access_log=False, lifespan="on")
        return
    # uvicorn has no reuse_port option: bind the socket ourselves and hand it over
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[reuse_port_socket(settings.http_host, settings.http_port)])


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound with SO_REUSEPORT: every instance of a service binds the same port, the kernel
    balances new connections across the listening processes (and stops sending to a dead one at once)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
