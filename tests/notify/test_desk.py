"""What notify gives the console's screens (issue 12): every staff action audited with the operator of the token
(O-02), the message log and parked queue paged and filtered, one member's preferences and the opted-out members
(N-03), the template catalog and previews (N-02)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from devstack.testing import StackConfig

from .support import Notify, notify_stack
from .test_campaigns import NOON, seed


def as_staff(n: Notify, staff_id: str, role: str = "hq_admin") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=n.url, timeout=30,
                             headers={"Authorization": f"Bearer {n.cfg.staff_token(staff_id, role)}"})


async def put_messages(cfg: StackConfig, rows: list[dict[str, Any]]) -> None:
    """Messages straight into notify's table (what the dispatcher would have left there)."""
    conn = await asyncpg.connect(cfg.db_url("notify").replace("+asyncpg", ""))
    try:
        for r in rows:
            await conn.execute(
                "INSERT INTO messages (message_id, cause_event_id, template, recipient, member_id, store_id, sender,"
                " body, category, status, last_error, created_at, updated_at) VALUES ($1, $2, $8, $3, $3, $9,"
                " '金缘珠宝', $4, 'service', $5, $6, $7, $7)",
                r["id"], uuid.uuid4(), r["member_id"], "【金缘珠宝】您好 13912345678", r["status"],
                "provider said 400" if r["status"] == "parked" else None, r["at"], r.get("template", "tier_changed"),
                r.get("store_id"))
    finally:
        await conn.close()


async def audit(c: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    r = await c.get("/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


async def test_o02_every_staff_action_is_audited_with_the_operator_of_the_token(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config, clock=lambda: NOON) as n:
        await seed(n.cfg, 6)
        parked = uuid.uuid4()
        await put_messages(n.cfg, [{"id": parked, "member_id": "M000001", "status": "parked",
                                    "at": datetime.now(UTC)}])
        async with as_staff(n, "MKT-7") as c:
            r = await c.put("/v1/templates/tier_changed/en", json={"body": "Dear {{ display_name }}: "
                                                                           "{{ to_tier_name }}"})
            assert r.status_code == 200, r.text
            r = await c.put("/v1/members/M000002/preferences", json={"marketing_consent": False})
            assert r.status_code == 200, r.text
            r = await c.put("/v1/members/M000002/preferences", json={"marketing_consent": True,
                                                                     "operator": "someone-else"})
            assert r.status_code == 422  # who acts is never a field of the body
            r = await c.post("/v1/campaigns", json={"name": "冬季", "segment": {"store_ids": ["S1"]},
                                                     "template_body": "{{ display_name }}，冬季新品到店。",
                                                     "scheduled_at": (NOON + timedelta(days=1)).isoformat()})
            assert r.status_code == 201, r.text
            cid = r.json()["campaign_id"]
            assert (await c.post(f"/v1/campaigns/{cid}/pause")).json()["status"] == "paused"
            assert (await c.post(f"/v1/campaigns/{cid}/resume")).json()["status"] == "scheduled"
            assert (await c.post(f"/v1/messages/{parked}/retry")).json()["status"] == "queued"
            entries = await audit(c)
            assert [(e["operator"], e["action"], e["subject"]) for e in entries] == [
                ("MKT-7", "message.retried", str(parked)), ("MKT-7", "campaign.resumed", cid),
                ("MKT-7", "campaign.paused", cid), ("MKT-7", "campaign.created", cid),
                ("MKT-7", "preferences.changed", "M000002"), ("MKT-7", "template.saved", "tier_changed/en")]
            assert entries[4]["detail"] == {"marketing_consent": False}
            assert entries[1]["detail"] == {"status_before": "paused"}
            # paged by id, filtered by subject and action
            first = (await c.get("/v1/audit", params={"limit": 4})).json()
            rest = await audit(c, limit=4, before=first["next_before"])
            assert [e["id"] for e in first["entries"] + rest] == [e["id"] for e in entries]
            assert [e["action"] for e in await audit(c, subject=cid, action="campaign.paused")] == ["campaign.paused"]
            history = (await c.get(f"/v1/messages/{parked}")).json()["history"]
            assert "operator retry by MKT-7" in [h["detail"] for h in history]
        async with as_staff(n, "SM-1", "store_manager") as c:  # O-02: only HQ admins act through notify
            for method, path, body in (("GET", "/v1/audit", None), ("GET", "/v1/templates/catalog", None),
                                       ("GET", "/v1/opted-out", None), ("PUT", "/v1/members/M000002/preferences",
                                                                        {"marketing_consent": True}),
                                       ("POST", f"/v1/campaigns/{cid}/pause", None)):
                r = await c.request(method, path, json=body)
                assert r.status_code == 403, (path, r.text)
        async with as_staff(n, "MKT-7") as c:
            assert len(await audit(c)) == 6  # the refusals changed nothing


async def test_message_log_and_parked_queue_page_and_filter(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        t0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
        rows = [{"id": uuid.uuid4(), "member_id": f"M{i % 2}", "status": "parked" if i % 3 == 0 else "sent",
                 "at": t0 + timedelta(minutes=i)} for i in range(9)]
        await put_messages(n.cfg, rows)
        newest_first = [str(r["id"]) for r in sorted(rows, key=lambda r: r["at"], reverse=True)]
        seen: list[str] = []
        before = None
        while True:
            page = (await n.admin.get(f"{n.url}/v1/messages", params={"limit": 4, "counts": before is None, **(
                {"before": before} if before else {})})).json()
            seen += [m["message_id"] for m in page["messages"]]
            # counted when asked (the first page), not on every page
            assert page["counts"] == ({"parked": 3, "sent": 6} if before is None else None)
            before = page["next_before"]
            if before is None:
                break
        assert seen == newest_first
        assert all(m["body"] == "【金缘珠宝】您好 139****5678" for m in page["messages"])  # N-06
        got = (await n.admin.get(f"{n.url}/v1/messages", params={
            "member_id": "M1", "status": "sent", "since": (t0 + timedelta(minutes=2)).isoformat(),
            "until": (t0 + timedelta(minutes=7)).isoformat()})).json()["messages"]
        assert [m["message_id"] for m in got] == [str(rows[i]["id"]) for i in (5,)]
        assert (await n.admin.get(f"{n.url}/v1/messages", params={"since": "2026-12-01T02:00"})).status_code == 422
        p1 = (await n.admin.get(f"{n.url}/v1/parked", params={"limit": 2})).json()
        p2 = (await n.admin.get(f"{n.url}/v1/parked", params={"limit": 2, "after": p1["next_after"]})).json()
        assert p1["count"] == p2["count"] == 3 and p2["next_after"] is None
        assert [m["message_id"] for m in p1["messages"] + p2["messages"]] == [str(rows[i]["id"]) for i in (0, 3, 6)]


async def test_message_log_filters_by_store_and_template_and_counts_under_the_filters(
        stack_config: StackConfig, monkeypatch: Any) -> None:
    """Issue 12 item 5: the log's filters (store, template, status, member, dates) page newest first by
    (created_at, message_id) — ties on the time included — and the counts are the filter's, per status (the
    status filter left out), over the filter's newest COUNT_CAP at most, saying when they were capped."""
    from notify.adapters import reports

    async with notify_stack(stack_config) as n:
        t0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
        rows = [{"id": uuid.uuid4(), "member_id": f"M{i % 3}", "store_id": ("S1", "S2")[i % 2],
                 "template": ("tier_changed", "points_expiring")[(i // 2) % 2],
                 "status": ("sent", "delivered", "parked")[i % 3], "at": t0 + timedelta(minutes=i // 4)}
                for i in range(40)]  # four messages per minute: ties on created_at
        await put_messages(n.cfg, rows)

        async def pages(**params: Any) -> tuple[list[str], dict[str, Any]]:
            seen: list[str] = []
            first: dict[str, Any] = {}
            before = None
            while True:
                r = await n.admin.get(f"{n.url}/v1/messages", params={
                    "limit": 3, **params, **({"before": before} if before else {"counts": True})})
                assert r.status_code == 200, r.text
                page = r.json()
                first = first or page
                seen += [m["message_id"] for m in page["messages"]]
                before = page["next_before"]
                if before is None:
                    return seen, first

        def expect(keep: Any) -> list[str]:
            return [str(r["id"]) for r in sorted((r for r in rows if keep(r)), key=lambda r: (r["at"], r["id"]),
                                                  reverse=True)]

        def counted(keep: Any) -> dict[str, int]:
            out: dict[str, int] = {}
            for r in rows:
                if keep(r):
                    out[r["status"]] = out.get(r["status"], 0) + 1
            return out

        since, until = t0 + timedelta(minutes=2), t0 + timedelta(minutes=7)
        cases = [({}, lambda r: True),
                 ({"store_id": "S2"}, lambda r: r["store_id"] == "S2"),
                 ({"template": "points_expiring"}, lambda r: r["template"] == "points_expiring"),
                 ({"store_id": "S1", "template": "tier_changed", "since": since.isoformat(),
                   "until": until.isoformat()},
                  lambda r: r["store_id"] == "S1" and r["template"] == "tier_changed" and since <= r["at"] < until),
                 ({"member_id": "M2", "store_id": "S1"}, lambda r: r["member_id"] == "M2" and r["store_id"] == "S1")]
        for params, keep in cases:
            seen, first = await pages(**params)
            assert seen == expect(keep), params
            assert first["counts"] == counted(keep) and first["counts_capped"] is False, params
            # a status chosen: its messages listed; the counts still every status of the other filters
            seen, first = await pages(**params, status="parked")
            assert seen == expect(lambda r, keep=keep: keep(r) and r["status"] == "parked"), params
            assert first["counts"] == counted(keep), params
        assert {m["store_id"] for m in (await n.admin.get(f"{n.url}/v1/messages", params={
            "store_id": "S2"})).json()["messages"]} == {"S2"}

        monkeypatch.setattr(reports, "COUNT_CAP", 7)  # a long log: the newest 7 of the filter counted, and said so
        page = (await n.admin.get(f"{n.url}/v1/messages", params={"store_id": "S1", "counts": True})).json()
        newest7 = expect(lambda r: r["store_id"] == "S1")[:7]
        assert page["counts_capped"] is True
        assert page["counts"] == counted(lambda r: str(r["id"]) in newest7)
        page = (await n.admin.get(f"{n.url}/v1/messages", params={
            "store_id": "S1", "since": (t0 + timedelta(minutes=7)).isoformat(), "counts": True})).json()
        assert page["counts_capped"] is False and sum(page["counts"].values()) == 6


async def test_n03_preferences_and_the_opted_out_members(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        await seed(n.cfg, 5)
        conn = await asyncpg.connect(n.cfg.db_url("notify").replace("+asyncpg", ""))
        try:
            for i, mid in enumerate(("M000001", "M000003", "M000004")):
                await conn.execute("UPDATE contacts SET marketing_consent=false, opted_out_at=$2 WHERE member_id=$1",
                                   mid, datetime(2026, 12, 1, tzinfo=UTC) + timedelta(hours=i))
        finally:
            await conn.close()
        r = await n.admin.get(f"{n.url}/v1/members/M000003/preferences")
        assert r.status_code == 200 and r.json()["marketing_consent"] is False and r.json()["opted_out_at"]
        assert "mobile" not in str(r.json())  # N-06
        assert (await n.admin.get(f"{n.url}/v1/members/NOPE/preferences")).status_code == 404
        p1 = (await n.admin.get(f"{n.url}/v1/opted-out", params={"limit": 2})).json()
        p2 = (await n.admin.get(f"{n.url}/v1/opted-out", params={"limit": 2, "after": p1["next_after"]})).json()
        assert p1["count"] == 3 and [m["member_id"] for m in p1["members"] + p2["members"]] == [
            "M000004", "M000003", "M000001"]
        only_s2 = (await n.admin.get(f"{n.url}/v1/opted-out", params={"store_id": "S2"})).json()["members"]
        assert [m["member_id"] for m in only_s2] == ["M000003", "M000001"]
        # consent given again clears the opt-out: off the list
        assert (await n.admin.put(f"{n.url}/v1/members/M000003/preferences",
                                  json={"marketing_consent": True})).status_code == 200
        after = (await n.admin.get(f"{n.url}/v1/opted-out")).json()
        assert after["count"] == 2 and "M000003" not in [m["member_id"] for m in after["members"]]


async def test_n02_template_catalog_and_preview(stack_config: StackConfig) -> None:
    async with notify_stack(stack_config) as n:
        cat = (await n.admin.get(f"{n.url}/v1/templates/catalog")).json()["templates"]
        tier = next(t for t in cat if t["key"] == "tier_changed" and t["language"] == "zh-CN")
        assert "to_tier_name" in tier["variables"] and tier["default_body"].startswith("尊敬的") and tier["saved"] == []
        assert next(t for t in cat if t["key"] == "birthday")["category"] == "marketing"
        await n.admin.put(f"{n.url}/v1/templates/campaign.winter/zh-CN", json={"body": "{{ display_name }}，冬季上新"})
        cat = (await n.admin.get(f"{n.url}/v1/templates/catalog")).json()["templates"]
        winter = next(t for t in cat if t["key"] == "campaign.winter" and t["language"] == "zh-CN")
        assert winter["saved"][0]["body"] == "{{ display_name }}，冬季上新"
        assert winter["source"] == "a campaign recipient"

        async def preview(key: str, body: str, lang: str = "zh-CN", **fields: str) -> httpx.Response:
            return await n.admin.post(f"{n.url}/v1/templates/{key}/{lang}/preview",
                                      json={"body": body, "fields": fields})

        r = await preview("tier_changed", tier["default_body"], to_tier_name="金卡会员")
        assert r.status_code == 200, r.text
        assert r.json()["text"] == "【金缘珠宝】尊敬的王*明，恭喜您成为金卡会员，即日起可享会员专属礼遇。"
        assert r.json()["encoding"] == "UCS-2" and r.json()["segments"] == 1
        r = await preview("points_expiring", "{{ points }}分于{{ expires_on.strftime('%m-%d') }}到期", points="300")
        assert r.status_code == 200 and r.json()["text"] == "【金缘珠宝】300分于12-24到期", r.text
        r = await preview("campaign.winter", "{{ display_name }}，冬季上新", display_name="李*华")
        assert r.json()["text"] == "【金缘珠宝】李*华，冬季上新退订回TD"  # marketing: the opt-out hint (N-03)
        for key, body, fields, field in (("tier_changed", "{{ points_balance }}", {}, "points_balance"),
                                         ("large_earn", "{{ points }}", {"points": "many"}, "fields.points"),
                                         ("large_earn", "{{ points }}", {"iban": "x"}, "fields.iban"),
                                         ("tier_changed", "{{ display_name.nope() }}", {}, "body"),
                                         ("no_such", "x", {}, "key")):
            r = await preview(key, body, **fields)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (key, r.text)
