"""N-04 one message per cause (redelivery, a notify process SIGKILLed mid-send), N-05 retries, parking,
operator retry, delivery receipts, notify.events; N-06 masked views and body purge."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
from devstack.smssim import build_app as sim_app
from devstack.testing import InProcessServer, ServiceProcess, StackConfig, consume_all, sql_value, wait_for
from vipcore.contracts import members
from vipcore.events import Envelope

from .support import Notify, notify_stack
from .test_triggers import tier

RUN = Path(__file__).resolve().parents[2] / ".run" / "test"


async def test_n04_redelivered_event_sends_one_sms(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        await n.member("M1", "13900000041")
        env = Envelope.new(tier("M1"), source="loyalty", subject="M1")
        await n.emit(env, env)
        await n.emit(env)
        await wait_for(lambda: n.sms("13900000041"), 30, "the SMS")
        await asyncio.sleep(1.5)  # time for a (wrong) second send
        assert len(await n.sms("13900000041")) == 1
        assert await sql_value(n.cfg, "notify", "SELECT count(*) FROM messages") == 1
        assert await sql_value(n.cfg, "notify", "SELECT store_id FROM messages") == "S1"  # the log's store filter


class _NotifyProcess(ServiceProcess):
    """notify as a real process, with a short 'stuck sending' timeout."""

    def start(self) -> None:
        import sys

        from devstack.procs import spawn
        from devstack.testing import ROOT

        spawn([sys.executable, "-m", "notify"], pidfile=self.pidfile, logfile=self.logfile,
              env={**self.cfg.env("notify"), "PYTHONUNBUFFERED": "1", "SMS_STUCK_AFTER_S": "2"}, cwd=ROOT)


async def test_n04_notify_killed_between_claim_and_result_sends_once(stack_config: StackConfig) -> None:
    """The send is recorded ('sending') before the provider call; killed before the result is recorded, the
    restarted process resends with the same idempotency key: the provider keeps one message, ours ends 'sent'."""
    cfg = stack_config
    await cfg.prepare()
    home = RUN / str(os.getpid())
    home.mkdir(parents=True, exist_ok=True)
    proc = _NotifyProcess(cfg, "notify", home)
    async with InProcessServer(sim_app(), cfg.port("smssim")), httpx.AsyncClient(timeout=30) as c:
        n = Notify(cfg, c)
        await c.post(f"{n.sim}/admin/fail", json={"count": 0, "latency_ms": 3000})
        proc.start()
        try:
            await proc.wait_ready()
            await n.member("M1", "13900000051")
            await n.emit(tier("M1"))
            await wait_for(lambda: n.status_of("M1", "tier_changed"), 30, "the message")
            await wait_for(lambda: _is(n, "sending"), 30, "the claim committed")
            await asyncio.sleep(1.0)  # the request is at the provider, its answer 2 s away
            proc.kill()
            assert await n.status_of("M1", "tier_changed") == "sending"
            await c.post(f"{n.sim}/admin/fail", json={"count": 0, "latency_ms": 0})
            proc.start()
            await proc.wait_ready()
            await wait_for(lambda: _is(n, "sent"), 60, "sent after the restart")
        finally:
            proc.stop()
        assert len(await n.sms("13900000051")) == 1
        stats = await n.sim_stats()
        assert stats["accepted"] == 1 and stats["duplicates"] == 1  # the resend was recognised by its key
        hist = await sql_value(cfg, "notify", "SELECT string_agg(status, ',' ORDER BY id) FROM message_history")
        assert hist == "queued,sending,queued,sending,sent", hist


async def _is(n: Notify, status: str) -> bool:
    return await n.status_of("M1", "tier_changed") == status


async def test_n05_transient_failures_retry_with_backoff_then_park_and_an_operator_retries(
        stack_config: StackConfig) -> None:
    async with notify_stack(stack_config, sms_max_attempts=2) as n:
        await n.member("M1", "13900000061")
        await n.admin.post(f"{n.sim}/admin/fail", json={"count": 2, "status": 503})
        await n.emit(tier("M1"))
        await wait_for(lambda: _is(n, "parked"), 30, "parked after two attempts")
        parked = (await n.admin.get(f"{n.url}/v1/parked")).json()
        (p,) = parked["messages"]
        assert "after 2 attempt(s)" in p["last_error"] and "503" in p["last_error"] and p["to"] == "139****0061"
        assert not await n.sms()
        r = await n.admin.post(f"{n.url}/v1/messages/{p['message_id']}/retry")
        assert r.status_code == 200
        await wait_for(lambda: _is(n, "sent"), 30, "sent after the operator's retry")
        again = await n.admin.post(f"{n.url}/v1/messages/{p['message_id']}/retry")
        assert again.status_code == 409 and again.json()["errors"][0]["rule"] == "N-05"
        (m,) = await n.messages("M1")
        assert [h["status"] for h in m["history"]] == ["queued", "sending", "failed", "queued", "sending", "failed",
                                                        "parked", "queued", "sending", "sent"]
        assert m["history"][3]["detail"].startswith("retry in ")
        events = await consume_all(n.cfg.kafka_bootstrap, n.cfg.topic_prefix + "notify.events", expect=4)
        types = [dict(e.headers)["ce_type"].decode() for e in events]
        assert types == ["notify.message.failed", "notify.message.failed", "notify.message.parked",
                         "notify.message.sent"], types


async def test_n05_permanent_error_parks_at_once_never_dropped(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        await n.member("M1", "13900000071")
        await n.admin.post(f"{n.sim}/admin/fail", json={"count": 1, "status": 400})
        await n.emit(tier("M1"))
        await wait_for(lambda: _is(n, "parked"), 30, "parked")
        assert await sql_value(n.cfg, "notify", "SELECT attempts FROM messages") == 1


async def test_n05_delivery_receipts_update_the_status(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        await n.admin.post(f"{n.sim}/admin/receipts", json={
            "url": f"{n.url}/v1/webhooks/simulator/receipts",
            "headers": {"Authorization": f"Bearer {n.cfg.admin_token}"}})
        await n.member("M1", "13900000081")
        await n.emit(tier("M1"))
        await wait_for(lambda: _is(n, "delivered"), 30, "delivered by the receipt")
        (m,) = await n.messages("M1")
        assert m["delivered_at"] and [h["status"] for h in m["history"]][-2:] == ["sent", "delivered"]
        hook = f"{n.url}/v1/webhooks/simulator/receipts"
        again = await n.admin.post(hook, json={"message_id": m["provider_message_id"], "status": "DELIVERED"})
        assert again.status_code == 200 and again.json()["status"] == "delivered"  # a repeated receipt is a no-op
        early = await n.admin.post(hook, json={"message_id": "not-recorded-yet", "status": "DELIVERED"})
        assert early.status_code == 404  # the provider retries it until the send's outcome is recorded
        bad = await n.admin.post(f"{n.url}/v1/webhooks/simulator/receipts", json={"status": "DELIVERED"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "message_id"
        anon = await httpx.AsyncClient().post(f"{n.url}/v1/webhooks/simulator/receipts", json={})
        assert anon.status_code == 401
        events = await consume_all(n.cfg.kafka_bootstrap, n.cfg.topic_prefix + "notify.events", expect=2)
        assert [dict(e.headers)["ce_type"].decode() for e in events] == ["notify.message.sent",
                                                                         "notify.message.delivered"]


async def test_n06_numbers_masked_in_views_and_bodies_purged_after_retention(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        await n.member("M1", "13900000091")
        await n.emit(members.HandoverCompleted(handover_id="H1", store_id="S1", from_staff_id="S-1",
                                               to_staff_id="S-2", to_staff_name_enc=n.seal("李娜"),
                                               to_staff_phone_enc=n.seal("13700002222"),
                                               member_ids=["M1"]))
        await wait_for(lambda: _sent(n), 30, "sent")
        listing = (await n.admin.get(f"{n.url}/v1/messages")).text
        assert "13900000091" not in listing and "13700002222" not in listing and "139****0091" in listing
        assert (await n.admin.post(f"{n.url}/v1/admin/purge-bodies", json={"retention_days": 30})).json() == {
            "purged": 0}
        assert (await n.admin.post(f"{n.url}/v1/admin/purge-bodies", json={"retention_days": 0})).json() == {
            "purged": 1}
        (m,) = await n.messages("M1")
        assert m["body"] is None and m["body_purged"] and m["status"] == "sent"
        unauth = await httpx.AsyncClient().get(f"{n.url}/v1/messages")
        assert unauth.status_code == 401


async def _sent(n: Notify) -> bool:
    return await sql_value(n.cfg, "notify", "SELECT status FROM messages") == "sent"




async def test_n06_purge_erases_old_bodies_in_batches_and_only_finished_ones(stack_config: StackConfig,
                                                                            monkeypatch: Any) -> None:
    """At chain scale the first purge meets millions of old bodies: it erases them a batch per transaction (each
    batch its own `body_purged_at`, the transaction's time), never an unfinished (parked) message's, and a second
    run finds none."""
    import notify.service.ops as ops_module

    monkeypatch.setattr(ops_module, "PURGE_BATCH", 3)
    async with notify_stack(stack_config) as n:
        rows = ", ".join(f"('{uuid.uuid4()}', '{uuid.uuid4()}', 'points_earned', 'S', {body}, '{status}', "
                         "now() - interval '100 days')"
                         for body, status in [("'旧短信'", "sent")] * 7 + [("'旧短信'", "parked"), ("NULL", "sent")])
        await sql_value(n.cfg, "notify", "INSERT INTO messages (message_id, cause_event_id, template, sender, body, "
                        f"status, created_at) VALUES {rows}")
        r = await n.admin.post(f"{n.url}/v1/admin/purge-bodies", json={"retention_days": 90})
        assert r.json() == {"purged": 7}
        assert await sql_value(n.cfg, "notify", "SELECT count(DISTINCT body_purged_at) FROM messages "
                               "WHERE status = 'sent' AND body_purged_at IS NOT NULL") == 3  # 3 + 3 + 1
        assert await sql_value(n.cfg, "notify", "SELECT body FROM messages WHERE status = 'parked'") == "旧短信"
        r = await n.admin.post(f"{n.url}/v1/admin/purge-bodies", json={"retention_days": 90})
        assert r.json() == {"purged": 0}
