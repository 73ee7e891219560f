"""Test support shared by every service's tests: real broker and database, isolated per test.

Each test gets its own databases (fresh names) and its own topic prefix, so tests never see each
other's data. Services run in-process on loopback (uvicorn servers on free ports) or as real
subprocesses where a test needs to kill one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import uvicorn

from .procs import free_port, spawn, stop_pid

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "members", "loyalty", "credit", "notify")
CONSOLE = "console"  # the staff console: no database, no topics; calls the services above over HTTP


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float = 30.0, what: str = "condition",
                   interval: float = 0.05) -> Any:
    """Await `check()` until it returns a truthy value; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


async def create_database(admin_dsn: str, name: str, role: tuple[str, str] | None = None) -> None:
    """Create database `name`; with `role` (name, password), owned by that login role, which may connect to it
    and to no other database of the stack (PostgreSQL's per-service least privilege, devstack/postgres.py)."""
    from .postgres import service_database_sql

    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        if role is None:
            return
        for db, stmt in service_database_sql(name, *role):
            if db == "postgres":
                await conn.execute(stmt)
    finally:
        await conn.close()


PII_SERVICES = ("members", "notify", "credit")  # services keeping personal data encrypted


@dataclass
class StackConfig:
    """Settings for one isolated stack: its databases, topic prefix, ports and secrets."""

    pg_host: str
    pg_port: int
    kafka_bootstrap: str
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    bootstrap_token: str = field(default_factory=lambda: "adm-" + secrets.token_hex(12))
    """The static ADMIN_TOKEN: given to every service but refused unless `admin_token_enabled` (bootstrap only)."""
    admin_token_enabled: bool = False
    pii_index_key: str = field(default_factory=lambda: secrets.token_hex(16))  # members + gateway (look-ups)
    # personal data at rest: one keyring per service (`k1=<secret>`, vipcore.pii.Keyring), never shared
    pii_keys: dict[str, str] = field(default_factory=lambda: {s: "k1=" + secrets.token_hex(16) for s in PII_SERVICES})
    # personal fields inside events: shared only by members and credit (producers) and notify, credit (consumers)
    event_pii_keys: str = field(default_factory=lambda: "e1=" + secrets.token_hex(16))
    notify_index_key: str = field(default_factory=lambda: secrets.token_hex(16))  # notify's own (STOP replies)
    credit_index_key: str = field(default_factory=lambda: secrets.token_hex(16))  # credit's own (coupon buyers)
    ports: dict[str, int] = field(default_factory=dict)
    staff_keys: tuple[str, str] = field(default_factory=lambda: _keypair())
    service_keys: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {s: _keypair() for s in (*SERVICES, CONSOLE)})
    """Each service's own Ed25519 key pair (private, public) for service tokens (docs/architecture.md "Identity")."""
    staff_token_ttl_s: int = 600
    _admin: tuple[str, float] | None = field(default=None, repr=False)

    isolated: bool = True  # tests: prefixed topics and databases; the dev system: plain names
    pg_password: str | None = None  # the PostgreSQL superuser's (admin_dsn: creates databases and roles)
    db_passwords: dict[str, str] = field(  # each service's own login role (db_role) and its password
        default_factory=lambda: {s: secrets.token_urlsafe(18) for s in SERVICES})
    zipkin_endpoint: str | None = None  # trace viewer's span endpoint (devstack.zipkin); None: no export
    traces_url: str | None = None  # the viewer's UI, for people (demo output)

    # -- credentials (the harness holds the staff signing key, so it can act as the issuer) ----------------------

    ADMIN_STAFF_ID = "HQ-HARNESS"

    def staff_token(self, staff_id: str, role: str = "hq_admin", store_id: str | None = None,
                    region_code: str | None = None, ttl_s: int | None = None, now: float | None = None) -> str:
        """A staff token signed with this stack's staff key, as members would issue it."""
        from vipcore.auth import Principal, Role, TokenIssuer

        issuer = TokenIssuer(self.staff_keys[0], ttl_s or self.staff_token_ttl_s)
        return issuer.issue(Principal(staff_id, store_id, region_code, Role(role)), now=now)

    @property
    def admin_token(self) -> str:
        """An hq_admin staff token (O-02) for HQ administration in tests, demo and bench; minted again when half
        its life has passed. (The static admin token is off: `bootstrap_token`.)"""
        now = time.time()
        if self._admin is None or now - self._admin[1] > self.staff_token_ttl_s / 2:
            self._admin = (self.staff_token(self.ADMIN_STAFF_ID, "hq_admin", now=now), now)
        return self._admin[0]

    def service_token(self, caller: str, audience: str, ttl_s: int = 300, now: float | None = None) -> str:
        """A service token of `caller` for `audience`, signed with the caller's own key."""
        from vipcore.identity import ServiceTokens

        t = ServiceTokens(caller, self.service_keys[caller][0], ttl_s, clock=(lambda: now) if now else time.time)
        return t.token(audience)

    def service_of_port(self, port: int | None) -> str | None:
        return next((s for s, p in self.ports.items() if p == port), None)

    def admin_auth(self) -> httpx.Auth:
        """httpx auth for `Stack.admin`: an hq_admin staff token, except on `/internal/` routes, which only take a
        service token — there the gateway's (their one caller) for the service the URL points at."""
        cfg = self

        class _Auth(httpx.Auth):
            def auth_flow(self, request: httpx.Request) -> Any:
                service = cfg.service_of_port(request.url.port)
                internal = request.url.path.startswith("/internal/") and service is not None
                tok = cfg.service_token("gateway", str(service)) if internal else cfg.admin_token
                request.headers["Authorization"] = f"Bearer {tok}"
                yield request

        return _Auth()

    @property
    def topic_prefix(self) -> str:
        return f"t{self.tag}." if self.isolated else ""

    def db_name(self, service: str) -> str:
        return f"t{self.tag}_{service}" if self.isolated else service

    def db_role(self, service: str) -> str:
        """The service's own login role: owns its database, may connect to no other, no superuser."""
        return f"t{self.tag}_{service}" if self.isolated else service

    def db_url(self, service: str) -> str:
        """How `service` connects: as its own role, with its password (scram-sha-256)."""
        pw = quote(self.db_passwords.get(service, ""), safe="")  # the console keeps no database
        return (f"postgresql+asyncpg://{self.db_role(service)}:{pw}@{self.pg_host}:{self.pg_port}/"
                f"{self.db_name(service)}")

    @property
    def admin_dsn(self) -> str:
        """The superuser (tests and devstack create databases and roles with it; no service uses it)."""
        auth = f"postgres:{quote(self.pg_password, safe='')}" if self.pg_password else "postgres"
        return f"postgresql://{auth}@{self.pg_host}:{self.pg_port}/postgres"

    def port(self, service: str) -> int:
        if service not in self.ports:
            self.ports[service] = free_port()
        return self.ports[service]

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def env(self, service: str) -> dict[str, str]:
        """Environment variables configuring `service` (what a process or a container gets)."""
        env = {
            "DATABASE_URL": self.db_url(service),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.port(service)),
            "ADMIN_TOKEN": self.bootstrap_token,
            "ADMIN_TOKEN_ENABLED": "true" if self.admin_token_enabled else "false",
            "LOG_LEVEL": "WARNING" if self.isolated else "INFO",
            "STAFF_TOKEN_PUBLIC_KEY": self.staff_keys[1],
            "STAFF_TOKEN_TTL_S": str(self.staff_token_ttl_s),
            "SERVICE_PRIVATE_KEY": self.service_keys[service][0],
            "SERVICE_KEYS": ",".join(f"{s}={k[1]}" for s, k in self.service_keys.items() if s != service),
        }
        if self.zipkin_endpoint:
            env["ZIPKIN_ENDPOINT"] = self.zipkin_endpoint
        if service == "members":
            env["STAFF_TOKEN_PRIVATE_KEY"] = self.staff_keys[0]
        if service in ("gateway", "members"):
            env["PII_INDEX_KEY"] = self.pii_index_key
        if service in PII_SERVICES:
            env["PII_KEYS"] = self.pii_keys[service]
            env["EVENT_PII_KEYS"] = self.event_pii_keys
        if service == "notify":
            env["PII_INDEX_KEY"] = self.notify_index_key
        if service == "credit":
            env["PII_INDEX_KEY"] = self.credit_index_key
        if service == "gateway":
            env["LOYALTY_URL"] = self.url("loyalty")
            env["CREDIT_URL"] = self.url("credit")
            env["MEMBERS_URL"] = self.url("members")
            if self.isolated:  # tests poll a lookup until the gateway knows a new card: those misses are not walking
                env["POS_MISSES_BURST"] = "100000"
            else:  # the dev system carries the benchmark and the demo: a few store keys play a whole chain
                env["POS_RATE_SCALE"] = os.environ.get("DEV_POS_RATE_SCALE", "20")
        if service == "members":
            env["NOTIFY_URL"] = self.url("notify")
        if service == "notify":
            env["SMS_SIMULATOR_URL"] = self.url("smssim")
        if service == CONSOLE:
            env = {k: env[k] for k in ("HTTP_HOST", "HTTP_PORT", "LOG_LEVEL", "STAFF_TOKEN_PUBLIC_KEY")}
            env["STAFF_TOKEN_TTL_S"] = str(self.staff_token_ttl_s)
            env |= {f"{s.upper()}_URL": self.url(s) for s in ("members", "loyalty", "credit", "notify", "gateway")}
            if self.traces_url:  # the ops page lists recent error traces from the viewer and links to them
                env["TRACES_URL"] = self.traces_url
        return env

    def settings(self, service: str) -> Any:
        """The service's Settings object, built from the same environment a process would get."""
        cls = settings_class(service)
        return cls(**{k.lower(): v for k, v in self.env(service).items()})

    async def create_service_database(self, service: str) -> None:
        """The service's database, owned by its own login role (as `prepare` makes every one)."""
        await create_database(self.admin_dsn, self.db_name(service),
                              (self.db_role(service), self.db_passwords[service]))

    async def prepare(self) -> None:
        """Create this stack's databases and topics."""
        from vipcore.topics import create_topics

        for s in SERVICES:  # the console keeps no database
            await self.create_service_database(s)
        await create_topics(self.kafka_bootstrap, self.topic_prefix)


def _keypair() -> tuple[str, str]:
    from vipcore.auth import new_keypair

    return new_keypair()


def settings_class(service: str) -> Any:
    import importlib

    mod = importlib.import_module(f"{service}.config")
    return next(c for n in dir(mod)  # the class the module defines (not the settings mixins it imports)
                if n.endswith("Settings") and isinstance(c := getattr(mod, n), type) and c.__module__ == mod.__name__)


def build_app(service: str, settings: Any, tracer_provider: Any = None) -> Any:
    import importlib

    return importlib.import_module(f"{service}.bootstrap").build(settings, tracer_provider)


class InProcessServer:
    """A uvicorn server for one ASGI app inside the test's event loop, on loopback."""

    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                                    access_log=False, lifespan="on"))
        self.server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
        self.task: asyncio.Task[Any] | None = None

    async def _serve(self) -> None:
        try:
            await self.server.serve()
        except SystemExit as e:  # uvicorn exits on a failed bind; inside a task that would stop the test's loop
            raise RuntimeError(f"server on 127.0.0.1:{self.server.config.port} could not start (exit {e.code})") \
                from None

    async def __aenter__(self) -> InProcessServer:
        self.task = asyncio.create_task(self._serve())
        deadline = time.monotonic() + 60
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise RuntimeError("server exited during start")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, 30)


class ServiceProcess:
    """One service as a real OS process (python -m <service>), so a test can SIGKILL it."""

    def __init__(self, cfg: StackConfig, service: str, home: Path, instance: int | None = None) -> None:
        """`instance` (1, 2, ...): one of several processes of the service, sharing its consumer groups and its
        HTTP port (SO_REUSEPORT); None: the only one."""
        self.cfg = cfg
        self.service = service
        name = service if instance is None else f"{service}.{instance}"
        self.pidfile = home / f"{name}-{cfg.tag}.pid"
        self.logfile = home / f"{name}-{cfg.tag}.log"
        self.extra_env = {} if instance is None else {"HTTP_REUSE_PORT": "true"}

    def start(self) -> None:
        spawn([sys.executable, "-m", self.service], pidfile=self.pidfile, logfile=self.logfile,
              env={**self.cfg.env(self.service), **self.extra_env, "PYTHONUNBUFFERED": "1"}, cwd=ROOT)

    async def wait_ready(self, timeout: float = 60) -> None:
        async def ready() -> bool:
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(f"{self.cfg.url(self.service)}/readyz", timeout=1)).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(ready, timeout, f"{self.service} ready")

    def kill(self) -> None:
        import signal

        stop_pid(self.pidfile, timeout=0, sig=signal.SIGKILL)

    def stop(self) -> None:
        stop_pid(self.pidfile, timeout=20)


class Stack:
    """All services in-process for one test, plus HTTP clients and helpers to load data."""

    def __init__(self, cfg: StackConfig, tracer_providers: dict[str, Any] | None = None,
                 services: tuple[str, ...] = SERVICES) -> None:
        self.cfg = cfg
        self.tracer_providers = tracer_providers or {}
        self.services = services
        self._exit = AsyncExitStack()
        self.admin = httpx.AsyncClient(auth=cfg.admin_auth(), timeout=30)

    async def __aenter__(self) -> Stack:
        from .smssim import build_app as sim_app

        await self.cfg.prepare()
        await self._exit.enter_async_context(InProcessServer(sim_app(), self.cfg.port("smssim")))
        for s in self.services:
            app = build_app(s, self.cfg.settings(s), self.tracer_providers.get(s))
            await self._exit.enter_async_context(InProcessServer(app, self.cfg.port(s)))
        return self

    async def start_console(self) -> str:
        """Start the staff console against this stack's services; returns its URL."""
        app = build_app(CONSOLE, self.cfg.settings(CONSOLE))
        await self._exit.enter_async_context(InProcessServer(app, self.cfg.port(CONSOLE)))
        return self.url(CONSOLE)

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.aclose()
        await self._exit.aclose()

    def url(self, service: str) -> str:
        return self.cfg.url(service)

    async def add_store(self, store_id: str, program: str, region_code: str = "755") -> str:
        """Open a store in members and issue its POS API key at the gateway; returns the key."""
        r = await self.admin.post(f"{self.url('members')}/v1/stores", json={
            "store_id": store_id, "name": f"Store {store_id}", "region_code": region_code,
            "program": program})
        r.raise_for_status()
        r = await self.admin.post(f"{self.url('gateway')}/admin/stores/{store_id}/api-keys")
        r.raise_for_status()
        return str(r.json()["api_key"])

    async def add_members(self, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
        r = await self.admin.post(f"{self.url('members')}/v1/members", json=members)
        r.raise_for_status()
        return list(r.json()["members"])

    async def wait_directory(self, api_key: str, card_no: str, timeout: float = 30) -> dict[str, Any]:
        """Wait until the gateway knows a card (members.events consumed)."""
        async def known() -> Any:
            async with httpx.AsyncClient() as c:
                r = await c.get(f"{self.url('gateway')}/v1/members/lookup", params={"card_no": card_no},
                                headers={"Authorization": f"Bearer {api_key}"})
            return r.json() if r.status_code == 200 else None

        return dict(await wait_for(known, timeout, f"gateway to know card {card_no}"))


def pg_admin_env() -> tuple[str, int] | None:
    """An external PostgreSQL for tests (TEST_PG_HOST/TEST_PG_PORT), if set."""
    host, port = os.environ.get("TEST_PG_HOST"), os.environ.get("TEST_PG_PORT")
    return (host, int(port)) if host and port else None


def pg_admin_password(node: Any = None) -> str | None:
    """The superuser password of the test PostgreSQL: TEST_PG_PASSWORD for an external one (None: it trusts
    loopback), else the password of the server the tests started (`node`)."""
    if pg_admin_env():
        return os.environ.get("TEST_PG_PASSWORD") or None
    return getattr(node, "password", None)


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None,
                                                                  list[tuple[str, bytes]]]]) -> None:
    """Write raw (key, value, headers) records to a topic, as any producer could."""
    from aiokafka import AIOKafkaProducer

    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await p.start()
    try:
        futs = [await p.send(topic, value=v, key=k, headers=h) for k, v, h in records]
        await asyncio.gather(*futs)
    finally:
        await p.stop()


async def consume_all(bootstrap: str, topic: str, expect: int, timeout: float = 30) -> list[Any]:
    """Read a topic from the beginning until `expect` records arrived (or time runs out)."""
    from aiokafka import AIOKafkaConsumer

    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                         enable_auto_commit=False, group_id=None)
    await c.start()
    out: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while len(out) < expect and time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=500)
            for recs in batch.values():
                out.extend(recs)
    finally:
        await c.stop()
    return out


async def sql_value(cfg: StackConfig, service: str, sql: str, *args: Any) -> Any:
    """One value from a service's database (tests look at state directly)."""
    conn = await asyncpg.connect(cfg.db_url(service).replace("+asyncpg", ""))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()
