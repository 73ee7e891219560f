"""Loyalty through the POS API and the back office, on the real stack: member prices (L-06), redemption (L-07,
L-09, L-14), eligibility (M-04, M-17), adjustments with a second approver (L-02, M-18), jobs (L-08, L-10), R-03."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from devstack.testing import Stack, consume_all, produce, sql_value, wait_for
from loyalty.domain.account import add_months
from vipcore.auth import Principal, Role, TokenIssuer
from vipcore.contracts.pos import SaleRecorded
from vipcore.events import Envelope

from tests.e2e.test_sale_fanout import sale
from tests.loyalty.proofs import PIN, set_pin

RING = [{"line_no": 1, "sku": "R-001", "qty": 1, "unit_price": 98800}]


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def test_l06_l07_member_prices_and_redemption_at_the_pos(stack: Stack) -> None:
    key = await stack.add_store("XA-401", "jewelry", region_code="029")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    born = date(1990, today.month, min(today.day, 28))
    mobile = f"135{uuid.uuid4().int % 10**8:08d}"
    (m,) = await stack.add_members([{"store_id": "XA-401", "full_name": "林晓梅", "mobile": mobile,
                                     "birthday": born.isoformat()}])
    await stack.wait_directory(key, m["card_no"])
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as c:
        async def quote(member: dict, id_verified: bool) -> dict:
            r = await c.post("/v1/quotes", json={"store_id": "XA-401", "member": member,
                                                 "id_verified": id_verified, "lines": RING})
            assert r.status_code == 200, r.text
            return dict(r.json())

        by_card = {"card_no": m["card_no"]}
        if today.day <= 28:
            async def birthday_price() -> dict | None:
                q = await quote(by_card, True)
                return q if q["benefit"] == "birthday" else None

            q = await wait_for(birthday_price, 30, "the member's birthday known to loyalty")
            assert q["lines"][0]["member_price"] == 83980 and q["member_total"] == 83980  # 8.5折 with ID
            q = await quote(by_card, False)
            assert q["benefit"] is None and q["member_total"] == 98800  # no ID, no registered mobile
            q = await quote({"mobile": mobile, "name": "林晓梅"}, False)
            assert q["benefit"] == "birthday"  # the registered mobile is proof enough (L-06)

        # Two days ago: one receipt of 988 yuan -> VIP (L-04); today: 100 yuan, pending until tomorrow (L-14)
        old = sale("XA-401", "P1", m["card_no"], 98800, occurred_at=ago(2))
        assert (await c.post("/v1/sales", json=old)).status_code == 201
        assert (await c.post("/v1/sales", json=sale("XA-401", "P2", m["card_no"], 10000,
                                                    occurred_at=ago(0)))).status_code == 201

        async def balance() -> int | None:
            lk = (await c.get("/v1/members/lookup", params={"card_no": m["card_no"]})).json()
            ok = lk["points_balance"] == 988 + 100 and lk["points_available"] == 988 and lk["tier"] == "vip"
            return lk if ok else None

        await wait_for(balance, 30, "points and tier")  # jewelry VIPs earn at 1x
        await set_pin(stack, m["member_id"], "XA-401")  # the member proves presence with a PIN (L-07)
        body = {"store_id": "XA-401", "member": by_card, "points_to_cash": 1000, "proof": {"pin": PIN}}
        r = await c.post("/v1/redemptions", json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-14", r.text  # same-day points
        rid = str(uuid.uuid4())
        r = await c.post("/v1/redemptions", json={**body, "points_to_cash": 900, "redemption_id": rid})
        assert r.status_code == 201, r.text
        assert r.json()["points_spent"] == 900 and r.json()["cash_value"] == 900 and r.json()["balance_after"] == 188
        again = await c.post("/v1/redemptions", json={**body, "points_to_cash": 900, "redemption_id": rid})
        assert again.status_code == 200 and again.json()["points_spent"] == 900  # no second spend
        r = await c.post("/v1/redemptions", json={**body, "points_to_cash": 5000})
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-07"  # insufficient balance
        r = await c.post("/v1/redemptions", json={**body, "points_to_cash": 150})
        assert r.status_code == 422 and "multiples" in r.json()["errors"][0]["message"]
        r = await c.post("/v1/redemptions", json={"store_id": "XA-401", "member": by_card, "reward_id": "care-kit",
                                                  "proof": {"pin": PIN}})
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-09"  # desk claim needs ID
        r = await c.post("/v1/redemptions", json={"store_id": "XA-401", "member": by_card, "reward_id": "nope",
                                                  "proof": {"pin": PIN}})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reward_id"
        r = await c.post("/v1/redemptions", json={**body, "reward_id": "care-kit"})
        assert r.status_code == 422  # one of reward or money
    async with httpx.AsyncClient() as c:
        st = (await c.get(f"{stack.url('loyalty')}/v1/members/{m['member_id']}/ledger",
                          headers={"Authorization": f"Bearer {stack.cfg.admin_token}"})).json()
    assert [e["kind"] for e in st["entries"]] == ["redeem", "earn", "earn"]
    assert st["entries"][0]["cause_event_id"] == rid and st["entries"][0]["detail"]["cash_value"] == 900
    events = await consume_all(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "loyalty.events", 4)
    types = [dict(r.headers)["ce_type"].decode() for r in events]
    assert types.count("loyalty.points.earned") == 2 and types.count("loyalty.points.redeemed") == 1
    assert "loyalty.tier.changed" in types


async def test_m04_m17_l02_r03_eligibility_adjustments_jobs_and_reports(stack: Stack) -> None:
    key = await stack.add_store("XA-402", "jewelry", region_code="029")
    (m,) = await stack.add_members([{"store_id": "XA-402", "full_name": "韩立新", "mobile": "13911112222",
                                     "birthday": "1985-06-15"}])
    await stack.wait_directory(key, m["card_no"])
    mid = m["member_id"]
    sold_at = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=3)

    def event(n: int, status: str | None, card: str | None, paid: int) -> tuple[bytes, bytes, list]:
        data = SaleRecorded(sale_id=str(uuid.uuid4()), store_id="XA-402", terminal_id="T1", receipt_no=f"E{n}",
                            occurred_at=sold_at, member_id=mid, member_status=status,
                            card_status=card, lines=[{"line_no": 1, "sku": "S", "qty": 1, "unit_price": paid,
                                                      "paid": paid}], payments=[{"method": "cash", "amount": paid}])
        env = Envelope.new(data, source="gateway", subject=mid)
        return mid.encode(), env.body(), env.kafka_headers()

    await produce(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "pos.sales", [
        event(1, "pending_review", "active", 50000),  # not approved (M-04)
        event(2, "active", "expired", 50000),         # expired card (M-17)
        event(3, "blacklisted", "active", 50000),
        event(4, "active", "active", 70000),          # earns 700, VIP (L-04)
    ])
    q = "SELECT coalesce(sum(points), 0) FROM ledger WHERE member_id=$1"
    assert await wait_for(lambda: _is(sql_value(stack.cfg, "loyalty", q, mid), 700), 30, "the eligible sale")
    assert await sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM ledger WHERE member_id=$1", mid) == 1

    issuer = TokenIssuer(stack.cfg.staff_keys[0])

    def staff(sid: str, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(Principal(sid, 'XA-402', '029', role))}"}

    lo = stack.url("loyalty")
    async with httpx.AsyncClient(base_url=lo) as c:
        body = {"member_id": mid, "program": "jewelry", "points": 500, "reason": "补积分 receipt E9 (M-18)",
                "receipt_no": "E9"}
        r = await c.post("/v1/adjustments", json=body, headers=staff("S-1", Role.STAFF))
        assert r.status_code == 403  # O-02: a referrer cannot ask for points
        r = await c.post("/v1/adjustments", json=body)
        assert r.status_code == 401
        r = await c.post("/v1/adjustments", json=body, headers=staff("S-2", Role.STORE_CS_MANAGER))
        adj = r.json()["adjustment_id"]
        assert r.status_code == 201
        r = await c.post(f"/v1/adjustments/{adj}/approve", headers=staff("S-2", Role.STORE_CS_MANAGER))
        assert r.status_code == 403
        r = await c.post("/v1/adjustments", json=body, headers=staff("H-1", Role.HQ_CS))
        own = r.json()["adjustment_id"]
        r = await c.post(f"/v1/adjustments/{own}/approve", headers=staff("H-1", Role.HQ_CS))
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-02"  # a second person approves
        r = await c.post(f"/v1/adjustments/{adj}/approve", headers=staff("H-1", Role.HQ_CS))
        assert r.status_code == 200 and r.json()["balance_after"] == 1200
        r = await c.post(f"/v1/adjustments/{adj}/approve", headers=staff("H-2", Role.HQ_CS))
        assert r.status_code == 422  # decided once

        # the member page's statements (console): operator of each entry, one kind, paging back, tiers with reasons
        r = await c.get(f"/v1/members/{mid}/ledger", headers=staff("S-3", Role.STORE_MANAGER))
        assert r.status_code == 403  # O-02: statements are HQ's and the auditors'
        auditor = staff("A-1", Role.AUDITOR)
        st = (await c.get(f"/v1/members/{mid}/ledger", headers=auditor)).json()
        assert [(e["kind"], e["operator"]) for e in st["entries"]] == [("adjust", "S-2 → H-1"),
                                                                     ("earn", "store XA-402")]
        r = await c.get(f"/v1/members/{mid}/ledger", params={"before": st["entries"][0]["id"], "limit": 5},
                        headers=auditor)
        assert [e["kind"] for e in r.json()["entries"]] == ["earn"]
        r = await c.get(f"/v1/members/{mid}/ledger", params={"kind": "adjust"}, headers=auditor)
        assert [e["points"] for e in r.json()["entries"]] == [500]
        r = await c.get(f"/v1/members/{mid}/ledger", params={"kind": "bogus"}, headers=auditor)
        assert r.status_code == 422
        tiers = (await c.get(f"/v1/members/{mid}/tiers", headers=staff("H-3", Role.HQ_CS))).json()
        assert [(a["program"], a["tier"], a["points_balance"]) for a in tiers["accounts"]] == [("jewelry", "vip", 1200)]
        (up,) = tiers["changes"]
        assert up["to_tier"] == "vip" and up["from_tier"] != "vip" and up["reason"].startswith("L-04")
        r = await c.get(f"/v1/members/{mid}/tiers", headers=staff("S-3", Role.STORE_CS_MANAGER))
        assert r.status_code == 403

        c.headers["Authorization"] = f"Bearer {stack.cfg.admin_token}"
        rep = (await c.get("/v1/reports/liability")).json()
        assert rep["program"]["jewelry"] == {"points": 1200, "value": 1200}  # 100 points = 1 yuan
        assert rep["store"]["XA-402"]["points"] == 1200 and rep["region"]["029"]["points"] == 1200
        csv = (await c.get("/v1/reports/liability", params={"format": "csv"})).text
        assert csv.splitlines()[0] == "scope,key,points,value" and "program,jewelry,1200,1200" in csv
        today = datetime.now(UTC).date()
        mv = (await c.get("/v1/reports/movements", params={"since": (today - timedelta(days=5)).isoformat(),
                                                         "until": (today + timedelta(days=1)).isoformat()})).json()
        assert mv["programs"]["jewelry"]["earn"]["points"] == 700
        assert mv["programs"]["jewelry"]["adjust"]["points"] == 500

        warn_on = (add_months(sold_at, 12) - timedelta(days=30)).date().isoformat()  # L-16: 30 days ahead
        r = (await c.post("/admin/jobs/expiry", params={"on": warn_on})).json()
        assert r == {"points_expired": 0, "notices": 1, "already_ran": False}
        later = (today + timedelta(days=400)).isoformat()
        r = (await c.post("/admin/jobs/expiry", params={"on": later})).json()
        assert r == {"points_expired": 700, "notices": 0, "already_ran": False}  # adjustments never expire
        r = (await c.post("/admin/jobs/expiry", params={"on": later})).json()
        assert r["already_ran"] is True and r["points_expired"] == 700
        assert await sql_value(stack.cfg, "loyalty", "SELECT points_balance FROM accounts WHERE member_id=$1",
                               mid) == 500
        r = (await c.post("/admin/jobs/birthday", params={"on": "2027-06-15", "tz": "Asia/Shanghai"})).json()
        assert r["birthdays"] == 1
        r = await c.post("/admin/jobs/nope", params={"on": later})
        assert r.status_code == 404
        warn = (date(today.year + 3, 1, 1) - timedelta(days=30)).isoformat()
        r = (await c.post("/admin/jobs/downgrade_notice", params={"on": warn})).json()
        assert r["notices"] == 1 and "jewelry" in r["programs"]  # L-16: 30 days before the run
        r = (await c.post("/admin/jobs/downgrade", params={"on": f"{today.year + 3}-01-01"})).json()
        assert r["tier_changes"] == 1 and "jewelry" in r["programs"]  # VIP, then 2 years below the line (L-05)

    async with httpx.AsyncClient(base_url=lo) as c:  # L-11: top up with a bonus, spend at the POS
        r = await c.post("/v1/stored-value/topups", json={"member_id": mid, "store_id": "XA-402", "pay": 100000},
                         headers=staff("S-3", Role.STAFF))
        assert r.status_code == 201 and r.json()["credited"] == 100000  # jewelry has no bonus table
        r = await c.post("/v1/stored-value/topups", json={"member_id": mid, "store_id": "XA-999", "pay": 100},
                         headers=staff("S-3", Role.STAFF))
        assert r.status_code == 403  # a store's staff top up in their own store
    await set_pin(stack, mid, "XA-402")
    sv = {**sale("XA-402", "SV1", m["card_no"], 30000, payments=[{"method": "stored_value", "amount": 30000}]),
          "proof": {"pin": PIN}}  # L-11: the member proves presence
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}) as c:
        assert (await c.post("/v1/sales", json=sv)).status_code == 201

    async def sv_balance() -> int:
        async with httpx.AsyncClient(base_url=lo) as c:
            r = await c.get(f"/v1/stored-value/{mid}", params={"store_id": "XA-402"},
                            headers=staff("S-3", Role.STAFF))
        return int(r.json()["balance"])

    assert await wait_for(lambda: _is(sv_balance(), 70000), 30, "the stored-value payment")
    events = await consume_all(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "loyalty.events", 7)
    types = [dict(e.headers)["ce_type"].decode() for e in events]
    assert {"loyalty.points.earned", "loyalty.points.expiring", "loyalty.points.expired", "loyalty.birthday",
            "loyalty.tier.changed", "loyalty.tier.downgrade_notice"} <= set(types)


async def _is(value: object, want: int) -> bool:
    return bool(await value == want)  # type: ignore[misc]
