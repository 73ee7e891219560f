"""A notify-only stack (simulator + notify, real Kafka and PostgreSQL) and event producers for its tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from devstack.smssim import build_app as sim_app
from devstack.testing import ROOT, InProcessServer, StackConfig, produce, sql_value, wait_for
from vipcore.contracts import members
from vipcore.events import Envelope, EventData
from vipcore.pii import Keyring, blind_index

TOPIC_OF = {"members": "members.events", "loyalty": "loyalty.events", "credit": "credit.events"}


@dataclass
class Notify:
    cfg: StackConfig
    admin: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.cfg.url("notify")

    @property
    def sim(self) -> str:
        return self.cfg.url("smssim")

    async def emit(self, *events: EventData | Envelope, subject: str = "k") -> list[Envelope]:
        """Produce events onto their topics as the owning service would."""
        envs = [e if isinstance(e, Envelope) else Envelope.new(e, source=e.TYPE.split(".")[0], subject=subject)
                for e in events]
        for env in envs:
            topic = self.cfg.topic_prefix + TOPIC_OF[env.type.split(".")[0]]
            await produce(self.cfg.kafka_bootstrap, topic,
                          [((env.subject or "").encode(), env.body(), env.kafka_headers())])
        return envs

    def seal(self, value: str) -> str:
        """A personal field as producers put it on events: sealed with the events key (EVENT_PII_KEYS)."""
        return Keyring.parse(self.cfg.event_pii_keys).encrypt(value)

    async def member(self, member_id: str, mobile: str, store_id: str = "S1", **kw: Any) -> None:
        await self.emit(members.MemberRegistered(
            member_id=member_id, store_id=store_id, display_name=kw.pop("display_name", "王*明"),
            name_index="n", mobile_index=blind_index("x", mobile), mobile_enc=self.seal(mobile), card_no="7550001",
            **kw))
        await wait_for(lambda: sql_value(self.cfg, "notify", "SELECT 1 FROM contacts WHERE member_id=$1",
                                         member_id), 30, f"contact {member_id}")

    async def sms(self, to: str | None = None) -> list[dict[str, Any]]:
        r = await self.admin.get(f"{self.sim}/v1/messages", params={"to": to} if to else {})
        return list(r.json()["messages"])

    async def sim_stats(self) -> dict[str, int]:
        return dict((await self.admin.get(f"{self.sim}/v1/stats")).json())

    async def messages(self, member_id: str) -> list[dict[str, Any]]:
        r = await self.admin.get(f"{self.url}/v1/members/{member_id}/messages")
        r.raise_for_status()
        return list(r.json()["messages"])

    async def status_of(self, member_id: str, template: str) -> str | None:
        return str(await sql_value(self.cfg, "notify", "SELECT status FROM messages WHERE member_id=$1 AND "
                                   "template=$2", member_id, template) or "") or None


def mobile() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


@asynccontextmanager
async def sim_process(cfg: StackConfig) -> AsyncIterator[None]:
    """The simulator as its own OS process, as deployed (so it does not share notify's CPU)."""
    import sys

    from devstack.procs import spawn, stop_pid

    home = Path(__file__).resolve().parents[2] / ".run" / "test" / str(os.getpid())
    home.mkdir(parents=True, exist_ok=True)
    pidfile = home / f"smssim-{cfg.tag}.pid"
    spawn([sys.executable, "-m", "devstack.smssim", "--port", str(cfg.port("smssim"))], pidfile=pidfile,
          logfile=home / f"smssim-{cfg.tag}.log", cwd=ROOT)
    try:
        async def up() -> bool:
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(f"{cfg.url('smssim')}/healthz", timeout=1)).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(up, 30, "simulator up")
        yield
    finally:
        stop_pid(pidfile, timeout=10)


@asynccontextmanager
async def notify_stack(cfg: StackConfig, clock: Callable[[], datetime] | None = None, separate_sim: bool = False,
                       instances: int = 1, **overrides: Any) -> AsyncIterator[Notify]:
    """The simulator and notify in-process; `overrides` replace settings, `clock` is notify's clock. `instances` > 1
    builds that many notify apps on one database and consumer group (the first on `cfg.url("notify")`, the others
    on ports of their own): each has its own dispatcher and campaign release, as separate processes would."""
    from notify.bootstrap import build

    await cfg.prepare()
    settings = cfg.settings("notify").model_copy(update=overrides)
    async with AsyncExitStack() as ex:
        if separate_sim:
            await ex.enter_async_context(sim_process(cfg))
        else:
            await ex.enter_async_context(InProcessServer(sim_app(), cfg.port("smssim")))
        for i in range(instances):
            app = build(settings, None, clock=clock) if clock else build(settings)
            await ex.enter_async_context(InProcessServer(app, cfg.port("notify" if i == 0 else f"notify.{i + 1}")))
        admin = await ex.enter_async_context(httpx.AsyncClient(auth=cfg.admin_auth(), timeout=30))
        yield Notify(cfg, admin)


BIRTHDAY = date(1990, 5, 17)
