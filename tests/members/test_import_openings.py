"""Opening balances in an import, end to end (M-19 → L-02): members stores each row's opening with its file and
announces it on members.member.registered; loyalty writes ONE `opening` ledger entry with the import, row and
operator as its cause — once, even when the event is redelivered or the member is announced again — and the balance,
the tier history and the points liability include it. A row with a bad opening value is refused with the field and
the rule, and nothing is written for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from devstack.testing import Stack, consume_all, produce, sql_value, wait_for
from vipcore.auth import Principal, Role, TokenIssuer
from vipcore.contracts.members import MemberRegistered
from vipcore.events import Envelope, decode

from tests.members.test_member_files import STORE, mobile, setup

MAX = "opening_points: must be a whole number of points from 0 to 10000000 (M-19)"


async def run_import(stack: Stack, store: str, auth: dict[str, str], filename: str, body: bytes
                     ) -> tuple[str, dict[str, Any], dict[str, str]]:
    """POST an import, wait until it is no longer running: its id, its progress, and the rejected-rows report's
    lines by row number."""
    async with httpx.AsyncClient(base_url=stack.url("members"), headers=auth) as c:
        r = await c.post("/v1/imports", params={"store_id": store, "filename": filename}, content=body)
        assert r.status_code == 202, r.text
        iid = r.json()["import_id"]

        async def finished() -> Any:
            p = (await c.get(f"/v1/imports/{iid}")).json()
            return p if p["status"] != "running" else None

        p = await wait_for(finished, 60, "import finished")
        report = (await c.get(f"/v1/imports/{iid}/rejected.csv")).text.splitlines()
    return iid, p, {line.split(",")[0]: line for line in report[1:]}


async def announce_again(stack: Stack, member_id: str) -> MemberRegistered:
    """The member's registration redelivered as it was, then re-sent under a new event id; returns once loyalty has
    read the re-sent one (same key, same partition: after the redelivered one). The registration as announced."""
    topic = stack.cfg.topic_prefix + "members.events"
    records = await consume_all(stack.cfg.kafka_bootstrap, topic, 10**6, timeout=5)
    (orig,) = [rec for rec in records if dict(rec.headers).get("ce_subject") == member_id.encode()
               and dict(rec.headers)["ce_type"] == MemberRegistered.TYPE.encode()]
    env = decode(orig.headers, orig.value)
    assert isinstance(env.data, MemberRegistered) and env.data.opening is not None
    again = Envelope.new(env.data, source="members", subject=env.subject, id=uuid.uuid4())
    await produce(stack.cfg.kafka_bootstrap, topic, [(orig.key, orig.value, list(orig.headers)),
                                                     (orig.key, again.body(), again.kafka_headers())])

    async def seen() -> Any:
        return await sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM inbox WHERE event_id=$1", again.id) or None

    await wait_for(seen, 30, "loyalty to read the re-sent registration")
    return env.data


async def test_m19_l02_import_with_opening_balances_reaches_the_ledger_once(stack: Stack) -> None:
    await setup(stack, mobile())  # store XA-501 runs the jewelry program (tiers normal, vip)
    issuer = TokenIssuer(stack.cfg.staff_keys[0])

    def staff(sid: str, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(Principal(sid, STORE, '755', role))}"}

    a, b, plain, neg, frac, tier = (mobile() for _ in range(6))  # no phone of a refused row is on file after
    csv = "\n".join([
        "姓名,手机,期初积分,期初等级",
        f"王建国,{a},\"1,200\",vip",   # row 2: points and the program's tier
        f"李秀英,{b},300,",           # row 3: points only
        f"赵丽华,{plain},,",          # row 4: no opening at all
        f"刘德明,{neg},-5,",          # row 5: negative
        f"陈志强,{frac},12.5,",       # row 6: not whole
        f"杨建华,{tier},10,gold",     # row 7: not a tier of jewelry
    ]).encode("utf-8-sig")
    iid, p, rejected = await run_import(stack, STORE, staff("H-9", Role.HQ_ADMIN), "老系统.csv", csv)
    assert (p["imported"], p["rejected"], p["started_by"]) == (3, 3, "H-9")
    assert set(rejected) == {"5", "6", "7"}
    assert MAX in rejected["5"] and MAX in rejected["6"]  # the field and the rule, per row
    assert "opening_tier: 'gold' is not a tier of program jewelry (normal, vip) (L-04)" in rejected["7"]
    # nothing written for a refused row: no file, no opening
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE full_name IN "
                           "('刘德明', '陈志强', '杨建华')") == 0
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM import_openings WHERE import_id=$1", iid) == 2
    ids = {n: await sql_value(stack.cfg, "members", "SELECT member_id FROM members WHERE full_name=$1", n)
           for n in ("王建国", "李秀英", "赵丽华")}
    assert await sql_value(stack.cfg, "members", "SELECT points FROM import_openings WHERE member_id=$1",
                           ids["王建国"]) == 1200

    lo = stack.url("loyalty")
    auditor = staff("A-1", Role.AUDITOR)
    async with httpx.AsyncClient(base_url=lo) as c:
        async def standing(member_id: str) -> Any:
            r = await c.get(f"/v1/members/{member_id}/tiers", headers=auditor)
            return r.json() if r.status_code == 200 and r.json()["accounts"] else None

        wang = await wait_for(lambda: standing(ids["王建国"]), 30, "loyalty to take the opening balance")
        assert [(x["program"], x["tier"], x["points_balance"], x["tier_spend"]) for x in wang["accounts"]] == [
            ("jewelry", "vip", 1200, 0)]  # the balance includes it; no sale spend behind it (L-04)
        (up,) = wang["changes"]
        assert (up["from_tier"], up["to_tier"]) == ("normal", "vip") and up["reason"].startswith("M-19")
        li = await wait_for(lambda: standing(ids["李秀英"]), 30, "the second opening")
        assert [(x["tier"], x["points_balance"]) for x in li["accounts"]] == [("normal", 300)]
        st = (await c.get(f"/v1/members/{ids['王建国']}/ledger", headers=auditor)).json()
        (e,) = st["entries"]
        assert (e["kind"], e["points"], e["spend"], e["operator"]) == ("opening", 1200, 0, f"H-9 @ store {STORE}")
        assert e["detail"]["reason"] == f"opening balance (M-19): import {iid} row 2"
        assert (e["detail"]["import_id"], e["detail"]["row_no"], e["detail"]["operator"]) == (iid, 2, "H-9")
        assert (await c.get(f"/v1/members/{ids['王建国']}/ledger", params={"kind": "opening"},
                            headers=auditor)).json()["entries"][0]["id"] == e["id"]

        # the same event redelivered, then the same member announced again under a new event id: applied once
        await announce_again(stack, ids["王建国"])
        st = (await c.get(f"/v1/members/{ids['王建国']}/ledger", headers=auditor)).json()
        assert [(x["kind"], x["points"]) for x in st["entries"]] == [("opening", 1200)]
        assert await sql_value(stack.cfg, "loyalty", "SELECT points_balance FROM accounts WHERE member_id=$1",
                               ids["王建国"]) == 1200
        assert await sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM tier_changes WHERE member_id=$1",
                               ids["王建国"]) == 1
        # a file imported without an opening has no opening entry
        assert (await c.get(f"/v1/members/{ids['赵丽华']}/ledger", headers=auditor)).json()["entries"] == []

        # the points liability and the movements include the opening balances
        c.headers["Authorization"] = f"Bearer {stack.cfg.admin_token}"
        rep = (await c.get("/v1/reports/liability")).json()
        assert rep["program"]["jewelry"] == {"points": 1500, "value": 1500}  # 100 points = 1 yuan
        assert rep["store"][STORE]["points"] == 1500
        today = datetime.now(UTC).date()
        mv = (await c.get("/v1/reports/movements", params={"since": (today - timedelta(days=1)).isoformat(),
                                                         "until": (today + timedelta(days=1)).isoformat()})).json()
        assert mv["programs"]["jewelry"]["opening"] == {"entries": 2, "points": 1500}
