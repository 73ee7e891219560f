"""Every instance of a service on its ops route (issue 13, item 4): two loyalty processes share one port
(SO_REUSEPORT), so neither can be reached by URL; each writes its heartbeat into loyalty's database and either one
answers `GET /ops/status` with both — their readiness checks, the lag of the partitions they hold, the outbox
backlog. One is killed (SIGKILL): it shows as gone while the other stays up; the other stops cleanly: its row says
stopped. Only an hq_admin staff token may read it (O-02)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.testing import ServiceProcess, StackConfig, produce, sql_value, wait_for

from tests.reliability.test_delivery_guarantees import record, sale_event

RUN = Path(__file__).resolve().parents[2] / ".run" / "test"
pytestmark = pytest.mark.integration


def pid_of(p: ServiceProcess) -> int:
    return int(p.pidfile.read_text().strip())


async def test_two_instances_one_killed_is_shown_gone(stack_config: StackConfig) -> None:
    cfg = stack_config
    await cfg.prepare()
    a = ServiceProcess(cfg, "loyalty", RUN, instance=1)
    b = ServiceProcess(cfg, "loyalty", RUN, instance=2)
    for p in (a, b):
        p.extra_env |= {"HEARTBEAT_S": "1", "INSTANCE_GONE_AFTER_S": "4"}
    ops = httpx.AsyncClient(base_url=cfg.url("loyalty"), headers={"Authorization": f"Bearer {cfg.admin_token}"},
                            timeout=10)
    topic = cfg.topic_prefix + "pos.sales"
    group = f"loyalty.{topic}"
    try:
        a.start()
        await a.wait_ready()
        b.start()
        await wait_for(lambda: _count(cfg), 60, "both heartbeats", interval=0.3)
        await produce(cfg.kafka_bootstrap, topic, [record(sale_event(f"M-OPS-{i}", 1000 + i, i)) for i in range(5)])

        async def both_up_with_lag() -> dict[str, Any] | None:
            r = await ops.get("/ops/status")
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            live = [i for i in body["instances"] if i["state"] == "up"]
            lagging = [x for i in live for x in i["lag"] if x["group"] == group]
            return body if len(live) == 2 and lagging else None

        body = await wait_for(both_up_with_lag, 60, "both instances up, the consumed partitions' lag reported")
        assert body["service"] == "loyalty" and body["gone_after_s"] == 4.0
        by_pid = {i["pid"]: i for i in body["instances"]}
        assert set(by_pid) == {pid_of(a), pid_of(b)}  # two processes, one port
        assert body["answered_by"] in {i["instance_id"] for i in body["instances"]}
        for i in body["instances"]:
            assert i["checks"] == {"database": "ok", "kafka": "ok"} and i["seen_ago_s"] < 4
            assert i["instance_id"].split(":")[1] == str(i["pid"])
        lag = [x for i in body["instances"] for x in i["lag"]]
        assert all(x["topic"] == topic and x["offsets"] >= 0 for x in lag if x["group"] == group)
        held = [x["partition"] for x in lag if x["group"] == group]
        assert len(held) == len(set(held))  # a partition is held by one instance
        assert body["outbox"]["backlog"] >= 0 and body["outbox"]["oldest_age_s"] >= 0

        # O-02: only an hq_admin staff token
        assert (await ops.get("/ops/status", headers={"Authorization": ""})).status_code == 401
        hq_cs = cfg.staff_token("CS-1", "hq_cs")
        assert (await ops.get("/ops/status", headers={"Authorization": f"Bearer {hq_cs}"})).status_code == 403

        killed = pid_of(a)
        a.kill()

        async def shown_gone() -> dict[str, Any] | None:
            try:
                r = await ops.get("/ops/status")  # the kernel sends every new connection to the survivor
            except httpx.HTTPError:
                return None
            states = {i["pid"]: i["state"] for i in r.json()["instances"]}
            return r.json() if states.get(killed) == "gone" and states.get(pid_of(b)) == "up" else None

        body = await wait_for(shown_gone, 30, "the killed instance shown gone, the other up")
        gone = next(i for i in body["instances"] if i["pid"] == killed)
        assert gone["seen_ago_s"] > 4 and body["answered_by"].split(":")[1] == str(pid_of(b))

        survivor = pid_of(b)
        b.stop()  # a clean stop marks the row stopped
        assert await sql_value(cfg, "loyalty", "SELECT stopped_at IS NOT NULL FROM service_instances WHERE pid = $1",
                               survivor) is True
        assert await sql_value(cfg, "loyalty", "SELECT stopped_at IS NULL FROM service_instances WHERE pid = $1",
                               killed) is True
    finally:
        await ops.aclose()
        a.kill()
        b.kill()


async def _count(cfg: StackConfig) -> bool:
    try:
        return bool(await sql_value(cfg, "loyalty", "SELECT count(*) FROM service_instances "
                                                    "WHERE last_seen > now() - interval '3 seconds'") == 2)
    except Exception:  # noqa: BLE001 - not migrated yet
        return False
