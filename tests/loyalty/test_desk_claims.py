"""Issue 12's service routes on the real stack: a threshold reward claimed at the desk of the staff member's store
(L-09: listed when reached, ID checked by the logged-in staff member, member proven present by SMS code, L-07;
points deducted once, the ledger and members' proof audit naming that staff member; O-02 store scoping), the program
viewer (HQ roles), today's sales per store counting every receipt (gateway, O-02) and today's message counts
(notify)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from devstack.testing import Stack, sql_value, wait_for

from tests.e2e.test_sale_fanout import sale
from tests.loyalty.proofs import sms_codes

STORE, OTHER = "XA-781", "XA-782"  # jewelry: care-kit (2,000 points) is claimed at the desk with ID


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def bearer(stack: Stack, staff_id: str, role: str, store: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.cfg.staff_token(staff_id, role, store)}"}


async def test_l09_desk_claim_lists_proves_deducts_once_and_names_the_staff_member(stack: Stack) -> None:
    key = await stack.add_store(STORE, "jewelry", region_code="029")
    await stack.add_store(OTHER, "jewelry", region_code="029")
    mobile = f"139{uuid.uuid4().int % 10**8:08d}"
    (m, poor) = await stack.add_members([{"store_id": STORE, "full_name": "钱晓红", "mobile": mobile},
                                         {"store_id": STORE, "full_name": "孙文华",
                                          "mobile": f"138{uuid.uuid4().int % 10**8:08d}"}])
    await stack.wait_directory(key, m["card_no"])
    mid, card = m["member_id"], m["card_no"]
    desk = bearer(stack, "S-DESK-1", "staff", STORE)
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"},
                                 timeout=30) as pos:
        r = await pos.post("/v1/sales", json=sale(STORE, "D-OLD", card, 300000, occurred_at=ago(2)))
        assert r.status_code == 201, r.text  # 3,000 points, spendable now
        r = await pos.post("/v1/sales", json=sale(STORE, "D-POOR", poor["card_no"], 50000, occurred_at=ago(2)))
        assert r.status_code == 201, r.text  # 500 points: below the threshold

        async def spendable() -> bool:
            lk = (await pos.get("/v1/members/lookup", params={"card_no": card})).json()
            return bool(lk["points_available"] == 3000)

        await wait_for(spendable, 30, "spendable points")

    lo = httpx.AsyncClient(base_url=stack.url("loyalty"), timeout=30)
    gw = httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30)
    async with lo, gw:
        # listed (L-09): the store's members who reached the reward; a store's staff see their own store only
        r = await lo.get("/v1/desk/rewards", params={"store_id": STORE}, headers=desk)
        assert r.status_code == 200, r.text
        got = r.json()
        assert [w["id"] for w in got["rewards"]] == ["care-kit"] and got["program"] == "jewelry"
        assert [x["member_id"] for x in got["members"]] == [mid] and got["members"][0]["reached"] == ["care-kit"]
        r = await lo.get("/v1/desk/rewards", params={"store_id": OTHER}, headers=desk)
        assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-02"
        r = await lo.get("/v1/desk/rewards", params={"store_id": STORE, "reward_id": "bracelet"}, headers=desk)
        assert r.status_code == 422  # not a desk-claim reward of the program

        # the code goes to the member's registered mobile, asked by the desk's staff member
        r = await gw.post("/v1/desk/proof-codes", json={"card_no": card}, headers=desk)
        assert r.status_code == 201, r.text
        code = (await wait_for(lambda: sms_codes(stack, mobile), 30, "the code's SMS"))[-1]
        claim = {"claim_id": str(uuid.uuid4()), "card_no": card, "reward_id": "care-kit", "id_checked": False,
                 "proof": {"otp": code}}
        r = await gw.post("/v1/desk/claims", json=claim, headers=desk)
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-09", r.text  # no ID check: refused
        r = await gw.post("/v1/desk/claims", json={**claim, "id_checked": True},
                          headers=bearer(stack, "H-1", "hq_admin"))
        assert r.status_code == 403  # HQ has no desk (O-02)
        r = await gw.post("/v1/desk/claims", json={**claim, "id_checked": True, "proof": {"otp": "000000"}
                                                   if code != "000000" else {"otp": "111111"}}, headers=desk)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "proof"  # wrong code (L-07)
        r = await gw.post("/v1/desk/claims", json={**claim, "id_checked": True}, headers=desk)
        assert r.status_code == 201, r.text
        assert (r.json()["points_spent"], r.json()["balance_after"], r.json()["handed_out_by"]) == \
            (2000, 1000, "S-DESK-1")
        again = await gw.post("/v1/desk/claims", json={**claim, "id_checked": True}, headers=desk)
        assert again.status_code == 200 and again.json()["replayed"]  # a double submit claims once

        # the ledger names the staff member who checked the ID; members audited the ID check with them
        r = await stack.admin.get(f"{stack.url('loyalty')}/v1/members/{mid}/ledger", params={"kind": "redeem"})
        (entry,) = r.json()["entries"]
        assert entry["points"] == -2000 and entry["operator"] == f"S-DESK-1 @ store {STORE}", entry
        r = await stack.admin.get(f"{stack.url('members')}/v1/members/{mid}/proof-audit")
        outcomes = [(e["outcome"], e["cashier_staff_id"]) for e in r.json()["entries"]]
        assert ("id_checked", "S-DESK-1") in outcomes and ("sent", "S-DESK-1") in outcomes, outcomes
        assert await sql_value(stack.cfg, "loyalty", "SELECT points_balance FROM accounts WHERE member_id=$1",
                               mid) == 1000

        # now below the threshold: no longer listed
        r = await lo.get("/v1/desk/rewards", params={"store_id": STORE}, headers=desk)
        assert r.json()["members"] == []


async def test_program_viewer_is_hqs_every_version_with_tiers_and_rules(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url("loyalty"), timeout=30) as lo:
        r = await lo.get("/v1/programs", headers=bearer(stack, "H-2", "hq_cs"))
        assert r.status_code == 200, r.text
        ids = {p["id"]: p for p in r.json()["programs"]}
        assert {"jewelry", "cosmetics", "dental"} <= set(ids)
        r = await lo.get("/v1/programs/jewelry", headers=bearer(stack, "H-2", "hq_cs"))
        assert r.status_code == 200, r.text
        versions = r.json()["versions"]
        assert len(versions) == ids["jewelry"]["versions"] and sum(v["in_force"] for v in versions) == 1
        now = next(v for v in versions if v["in_force"])
        assert now["version"] == ids["jewelry"]["current_version"] and now["tiers"][0]["single_receipt_min"] is None
        assert any(w["desk_claim"] for w in now["redemption"]["catalogue"]) and now["earn"]["points_per_yuan"] >= 1
        for role, store in (("staff", STORE), ("store_manager", STORE), ("auditor", None)):
            r = await lo.get("/v1/programs", headers=bearer(stack, "X-1", role, store))
            assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-02", role
        r = await lo.get("/v1/programs/nope", headers=bearer(stack, "H-2", "hq_admin"))
        assert r.status_code == 404


async def test_today_sales_count_every_receipt_per_store_and_messages_count_today(stack: Stack) -> None:
    a, b = "XA-791", "XA-792"
    key_a = await stack.add_store(a, "jewelry", region_code="029")
    key_b = await stack.add_store(b, "jewelry", region_code="029")
    mobile = f"137{uuid.uuid4().int % 10**8:08d}"
    (m,) = await stack.add_members([{"store_id": a, "full_name": "李建国", "mobile": mobile}])
    await stack.wait_directory(key_a, m["card_no"])
    for key, store, card, n in ((key_a, a, m["card_no"], 1), (key_a, a, None, 2), (key_b, b, None, 3)):
        async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"},
                                     timeout=30) as pos:
            r = await pos.post("/v1/sales", json=sale(store, f"T-{n}", card, 10000 * n))
            assert r.status_code == 201, r.text
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30) as gw:
        r = await gw.get("/v1/stats/sales-today", headers=bearer(stack, "H-1", "hq_admin"))
        assert r.status_code == 200, r.text
        by = {x["store_id"]: x for x in r.json()["stores"]}
        assert (by[a]["sales"], by[a]["member_sales"], by[a]["amount"]) == (2, 1, 30000)  # a non-member's too
        assert (by[b]["sales"], by[b]["member_sales"]) == (1, 0)
        r = await gw.get("/v1/stats/sales-today", headers=bearer(stack, "SM-1", "store_manager", b))
        assert [x["store_id"] for x in r.json()["stores"]] == [b]  # O-02: a store's manager sees their store
        r = await gw.get("/v1/stats/sales-today", headers=bearer(stack, "S-1", "staff", b))
        assert r.status_code == 403
    async with httpx.AsyncClient(base_url=stack.url("notify"), timeout=30) as no:
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        r = await no.get("/v1/message-counts", params={"since": future}, headers=bearer(stack, "H-1", "hq_admin"))
        assert r.status_code == 200 and r.json()["counts"] == {}, r.text  # nothing created tomorrow yet
        since = datetime.now(UTC) - timedelta(days=1)
        sql = "SELECT count(*) FROM messages WHERE created_at >= $1"
        before = await sql_value(stack.cfg, "notify", sql, since)
        r = await no.get("/v1/message-counts", params={"since": since.isoformat()},
                         headers=bearer(stack, "H-1", "hq_admin"))
        after = await sql_value(stack.cfg, "notify", sql, since)
        assert before <= sum(r.json()["counts"].values()) <= after, (before, r.json(), after)
        r = await no.get("/v1/message-counts", params={"since": ago(1)},
                         headers=bearer(stack, "SM-1", "store_manager", b))
        assert r.status_code == 403
