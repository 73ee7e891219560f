"""DLQ redrive (issue 13, items 4 and 5) against the real broker and database.

A sale refused because a fact it needs has not arrived (its store is not registered yet: a refusal that
retrying cannot cure, so the consumer dead-letters it) is listed with its reason and original headers; once the
fact arrives an operator replays it through the normal consumer path and it is applied once, also when replayed
twice; a discarded entry is skipped by replay-since; every action names its operator in the audit.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from devstack.testing import InProcessServer, StackConfig, consume_all, produce, sql_value, wait_for
from loyalty.adapters.tables import stores
from loyalty.bootstrap import MIGRATIONS
from loyalty.config import LoyaltySettings
from loyalty.domain.program import load_books
from loyalty.service.handlers import LoyaltyHandlers
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.pos import SaleRecorded
from vipcore.errors import RuleViolation
from vipcore.runtime import ServiceRuntime
from vipcore.topics import POS_SALES

from tests.reliability.test_delivery_guarantees import record, sale_event


def loyalty_refusing_unknown_stores(cfg: StackConfig) -> tuple[ServiceRuntime, Any, LoyaltySettings]:
    """loyalty (runtime, app, settings) whose sales consumer refuses a sale of a store it does not know yet: a
    refusal that retrying cannot cure (dead-lettered), cured by a fact arriving (the store's registration)."""
    settings: LoyaltySettings = cfg.settings("loyalty")
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS)
    h = LoyaltyHandlers(load_books(settings.programs_dir), settings.default_program)

    async def on_sales_of_known_stores(tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
        """loyalty's own handler, behind a refusal cured only by a fact arriving: the store's registration."""
        for d in batch:
            if await tx.conn.scalar(sa.select(stores.c.store_id).where(stores.c.store_id == d.data.store_id)) is None:
                raise RuleViolation("L-02", "store_id", f"store {d.data.store_id} is not registered yet")
        await h.on_sales(tx, batch)

    rt.consume(POS_SALES, {SaleRecorded: on_sales_of_known_stores})
    return rt, rt.http_app(title="loyalty"), settings


async def test_dead_lettered_sale_is_fixed_replayed_and_applied_once(stack_config: StackConfig) -> None:
    cfg = stack_config
    await cfg.prepare()
    rt, app, settings = loyalty_refusing_unknown_stores(cfg)
    topic = cfg.topic_prefix + "pos.sales"
    started = datetime.now(UTC) - timedelta(seconds=5)
    kept, dropped = sale_event("M-keep", 25000, 1), sale_event("M-drop", 9900, 2)
    await produce(cfg.kafka_bootstrap, topic, [record(kept), record(dropped)])
    server = await InProcessServer(app, cfg.port("loyalty")).__aenter__()
    ops = httpx.AsyncClient(base_url=cfg.url("loyalty"), headers={"Authorization": f"Bearer {cfg.admin_token}"})
    ledger = "SELECT count(*) FROM ledger"
    try:
        assert (await ops.get("/ops/dlq", headers={"Authorization": "Bearer wrong-token-123"})).status_code == 401
        hq_cs = cfg.staff_token("CS-1", "hq_cs")
        assert (await ops.get("/ops/dlq", headers={"Authorization": f"Bearer {hq_cs}"})).status_code == 403  # O-02

        async def listed() -> list[dict[str, Any]] | None:
            r = await ops.get("/ops/dlq")
            assert r.status_code == 200, r.text
            entries: list[dict[str, Any]] = r.json()["entries"]
            return entries if len(entries) == 2 else None

        entries = await wait_for(listed, 60, "both sales dead-lettered")
        by_id = {e["id"]: e for e in entries}
        k, d = str(kept.id), str(dropped.id)
        assert set(by_id) == {k, d}
        for e in entries:
            assert e["status"] == "pending" and e["count"] == 1 and e["topic"] == topic
            assert e["consumer"] == f"loyalty.{topic}" and e["event_type"] == "pos.sale.recorded"
            assert "not registered yet" in e["reason"] and e["first_failure_at"] == e["last_failure_at"]
        shown = (await ops.get(f"/ops/dlq/{k}")).json()
        assert shown["headers"]["ce_id"] == k and "x-dlq-error" not in shown["headers"]
        assert shown["source"].startswith(f"{topic}/") and shown["actions"] == []
        assert await sql_value(cfg, "loyalty", ledger) == 0
        assert 'dlq_depth{topic="' + topic + '"} 2.0' in (await ops.get("/metrics")).text

        # the missing fact arrives; one sale is dropped on purpose, the other replayed
        async with rt.engine.begin() as conn:
            await conn.execute(stores.insert().values(store_id="XA-900", program=settings.default_program,
                                                      timezone="Asia/Shanghai"))
        out = await dev_dlq(cfg, "--operator", "ops-li", "discard", "loyalty", d, "--reason", "test sale, voided")
        assert d in out and "ops-li" in out
        r = await ops.post(f"/ops/dlq/{k}:replay", json={"operator": "ops-wang"})
        assert r.status_code == 200, r.text
        assert r.json()["already_applied"] is False and r.json()["topic"] == topic
        assert await wait_for(lambda: sql_value(cfg, "loyalty", ledger), 30, "the replayed sale applied") == 1

        async def applied() -> bool:
            return (await ops.get(f"/ops/dlq/{k}")).json()["status"] == "applied"

        await wait_for(applied, 30, "the entry seen as applied")

        # replayed twice: produced again, the inbox makes it a no-op
        r = await ops.post(f"/ops/dlq/{k}:replay", json={"operator": "ops-wang", "note": "again, to be sure"})
        assert r.status_code == 200 and r.json()["already_applied"] is True
        redriven = await consume_all(cfg.kafka_bootstrap, topic, expect=4)
        again = [x for x in redriven if dict(x.headers).get("x-redrive-id") == r.json()["redrive_id"].encode()]
        assert len(again) == 1 and again[0].key == record(kept)[0]
        assert dict(again[0].headers)["ce_id"] == k.encode() and dict(again[0].headers)["x-redriven-by"] == b"ops-wang"

        # replay-since replays nothing: one entry is applied, the other discarded
        r = await ops.post("/ops/dlq:replay", params={"since": started.isoformat()}, json={"operator": "ops-zhao"})
        assert r.status_code == 200, r.text
        assert r.json()["replayed"] == []
        assert {s["entry_id"]: s["status"] for s in r.json()["skipped"]} == {k: "applied", d: "discarded"}

        await asyncio.sleep(3.0)  # time for a wrong second application to land
        assert await sql_value(cfg, "loyalty", ledger) == 1
        assert await sql_value(cfg, "loyalty", "SELECT count(*) FROM ledger WHERE member_id = 'M-drop'") == 0
        assert await sql_value(cfg, "loyalty", "SELECT count(*) FROM inbox WHERE event_id = $1", kept.id) == 1

        # the audit: who did what, and why
        kept_actions = (await ops.get(f"/ops/dlq/{k}")).json()["actions"]
        assert [(a["action"], a["operator"], a["reason"]) for a in kept_actions] == [
            ("replay", "ops-wang", None), ("replay", "ops-wang", "again, to be sure")]
        dropped_shown = (await ops.get(f"/ops/dlq/{d}")).json()
        assert dropped_shown["status"] == "discarded"
        assert [(a["action"], a["operator"], a["reason"]) for a in dropped_shown["actions"]] == [
            ("discard", "ops-li", "test sale, voided")]
        assert (await ops.get("/ops/dlq", params={"status": "pending"})).json()["entries"] == []
        listed_by_cli = json.loads(await dev_dlq(cfg, "list", "loyalty", "--json"))
        assert {e["id"]: e["status"] for e in listed_by_cli["entries"]} == {k: "applied", d: "discarded"}
        assert 'dlq_depth{topic="' + topic + '"} 0.0' in (await ops.get("/metrics")).text

        # refusals: unknown entry, discard without a reason, discard of an applied event
        assert (await ops.get("/ops/dlq/no-such-entry")).status_code == 404
        assert (await ops.post(f"/ops/dlq/{d}:discard", json={"operator": "ops-li"})).status_code == 422
        assert (await ops.post(f"/ops/dlq/{k}:discard",
                               json={"operator": "ops-li", "reason": "late"})).status_code == 409
    finally:
        await ops.aclose()
        await server.__aexit__(None, None, None)


async def dev_dlq(cfg: StackConfig, *args: str) -> str:
    """`./dev dlq ...` (python -m devstack dlq) against the test's service; its standard output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devstack", "dlq", "--url", cfg.url("loyalty"), *args,
        env={**os.environ, "STAFF_TOKEN": cfg.admin_token, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, (out + err).decode()
    return out.decode()
