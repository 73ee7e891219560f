"""Opening stored value in an import, end to end (M-19 → L-11): members stores each row's prepaid balance (yuan →
fen) with its file and announces it on members.member.registered; loyalty writes ONE `opening` stored-value entry
with the import, row and operator as its cause — once, even when the event is redelivered or the member is announced
again — and the member's statement, the stored-value report (its own `imported` column, no top-up) and the balance
include it; it is then spent at the till under L-11 (a hold proven by the member's PIN). A row with a bad opening
value is refused with the field and the rule, and nothing is written for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from devstack.testing import Stack, sql_value, wait_for
from vipcore.auth import Principal, Role, TokenIssuer

from tests.e2e.test_sale_fanout import sale
from tests.loyalty.proofs import PIN, set_pin
from tests.members.test_import_openings import announce_again, run_import
from tests.members.test_member_files import mobile

STORE = "HT-071"  # a generic-program store: the member proves a stored-value payment with a PIN (L-11)
SV_RULE = "opening_stored_value: must be an amount in yuan from 0 to 1000000.00 with at most 2 decimals (M-19, L-11)"
BALANCE = "SELECT balance FROM stored_value WHERE member_id=$1"


async def test_m19_l11_import_with_opening_stored_value_is_owed_once_reported_and_spendable(stack: Stack) -> None:
    key = await stack.add_store(STORE, "generic", region_code="029")
    issuer = TokenIssuer(stack.cfg.staff_keys[0])

    def staff(sid: str, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(Principal(sid, STORE, '029', role))}"}

    a, b, plain, three, big, neg = (mobile() for _ in range(6))
    csv = "\n".join([
        "姓名,手机,期初积分,期初储值",
        f"王建国,{a},,\"1,234.50\"",   # row 2: stored value only
        f"李秀英,{b},300,88",          # row 3: points and stored value
        f"赵丽华,{plain},,",           # row 4: no opening at all
        f"刘德明,{three},,12.345",     # row 5: three decimals
        f"陈志强,{big},100,2000000",   # row 6: above the maximum (its good points are not written either)
        f"杨建华,{neg},,-1",           # row 7: negative
    ]).encode("utf-8-sig")
    iid, p, rejected = await run_import(stack, STORE, staff("H-9", Role.HQ_ADMIN), "老系统储值.csv", csv)
    assert (p["imported"], p["rejected"], p["started_by"]) == (3, 3, "H-9")
    assert set(rejected) == {"5", "6", "7"} and all(SV_RULE in rejected[n] for n in rejected)
    # nothing written for a refused row: no file, no opening
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE full_name IN "
                           "('刘德明', '陈志强', '杨建华')") == 0
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM import_openings WHERE import_id=$1", iid) == 2
    ids = {n: await sql_value(stack.cfg, "members", "SELECT member_id FROM members WHERE full_name=$1", n)
           for n in ("王建国", "李秀英", "赵丽华")}
    assert await sql_value(stack.cfg, "members", "SELECT stored_value FROM import_openings WHERE member_id=$1",
                           ids["王建国"]) == 123450

    auditor = staff("A-1", Role.AUDITOR)
    async with httpx.AsyncClient(base_url=stack.url("loyalty")) as c:
        async def statement(member_id: str) -> Any:
            r = await c.get(f"/v1/members/{member_id}/stored-value-ledger", headers=auditor)
            return r.json() if r.status_code == 200 and r.json()["entries"] else None

        wang = await wait_for(lambda: statement(ids["王建国"]), 30, "loyalty to take the opening stored value")
        (e,) = wang["entries"]
        assert (e["kind"], e["amount"], e["paid"], e["bonus"], e["staff_id"], e["store_id"]) == (
            "opening", 123450, 0, 0, "H-9", STORE)  # owed, nothing paid, the import's operator
        assert e["detail"]["reason"] == f"opening balance (M-19): import {iid} row 2"
        assert (e["detail"]["import_id"], e["detail"]["row_no"], e["detail"]["operator"]) == (iid, 2, "H-9")
        assert wang["balances"] == {"generic": {"balance": 123450, "held": 0, "available": 123450}}
        # a row with stored value only writes no points entry; one with both writes one of each
        assert (await c.get(f"/v1/members/{ids['王建国']}/ledger", headers=auditor)).json()["entries"] == []
        li = await wait_for(lambda: statement(ids["李秀英"]), 30, "the second opening")
        assert [(x["kind"], x["amount"]) for x in li["entries"]] == [("opening", 8800)]
        points = (await c.get(f"/v1/members/{ids['李秀英']}/ledger", headers=auditor)).json()["entries"]
        assert [(x["kind"], x["points"]) for x in points] == [("opening", 300)]

        # the same event redelivered, then the same member announced again under a new event id: applied once
        announced = await announce_again(stack, ids["王建国"])
        assert announced.opening is not None and announced.opening.stored_value == 123450
        assert [(x["kind"], x["amount"]) for x in (await statement(ids["王建国"]))["entries"]] == [("opening", 123450)]
        assert await sql_value(stack.cfg, "loyalty", BALANCE, ids["王建国"]) == 123450
        assert await statement(ids["赵丽华"]) is None  # imported without an opening: no stored value

        # the report: the imported balances are owed (outstanding, closing) but no top-up of the period
        today = datetime.now(UTC).date()
        period = {"since": (today - timedelta(days=1)).isoformat(), "until": (today + timedelta(days=1)).isoformat()}
        admin = {"Authorization": f"Bearer {stack.cfg.admin_token}"}
        rep = (await c.get("/v1/reports/stored-value", params=period, headers=admin)).json()
        g = rep["programs"]["generic"]
        assert (g["opening"], g["top_ups"], g["bonus"], g["imported"], g["spend"], g["closing"], g["reconciled"]) == (
            0, 0, 0, 132250, 0, 132250, True)
        assert rep["outstanding"]["program"]["generic"] == 132250 and rep["outstanding"]["store"][STORE] == 132250
        assert rep["ledger_matches_balances"] == {"generic": True}

    # spent at the till like any stored value: the member proves presence (L-11), never more than the balance
    wang_id = ids["王建国"]
    card = await sql_value(stack.cfg, "members", "SELECT card_no FROM members WHERE member_id=$1", wang_id)
    await set_pin(stack, wang_id, STORE)
    await stack.wait_directory(key, card)
    now = datetime.now(UTC).isoformat()

    def sv_sale(receipt: str, amount: int, proof: dict[str, str] | None) -> dict[str, Any]:
        return {**sale(STORE, receipt, card, amount, payments=[{"method": "stored_value", "amount": amount}]),
                "occurred_at": now, **({"proof": proof} if proof else {})}

    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"},
                                 timeout=30) as pos:
        r = await pos.post("/v1/sales", json=sv_sale("R-NOPROOF", 10000, None))
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-11", r.text  # no proof, no spend
        r = await pos.post("/v1/sales", json=sv_sale("R-TOOBIG", 123451, {"pin": PIN}))
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-11", r.text
        r = await pos.post("/v1/sales", json=sv_sale("R-OPEN-1", 100000, {"pin": PIN}))
        assert r.status_code == 201, r.text

    async def spent() -> Any:
        return await sql_value(stack.cfg, "loyalty", BALANCE, wang_id) == 23450 or None

    await wait_for(spent, 30, "the sale to spend the imported balance")
    async with httpx.AsyncClient(base_url=stack.url("loyalty"), headers=admin) as c:
        g = (await c.get("/v1/reports/stored-value", params=period)).json()["programs"]["generic"]
        assert (g["imported"], g["spend"], g["closing"], g["reconciled"]) == (132250, 100000, 32250, True)
