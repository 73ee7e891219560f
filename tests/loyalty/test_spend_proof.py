"""Spending needs the member present (L-07, L-11) on the real stack: a redemption or a stored-value payment without
a proof is refused naming `proof`; an SMS code (sent through notify as a transactional message, whatever the
member's marketing consent) proves one spend once; wrong answers are counted and lock; a PIN set at the desk proves
where the program says so; loyalty itself refuses a spend that carries no proof signed by members; every attempt
is audited with store and cashier."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from devstack.testing import Stack, sql_value, wait_for
from vipcore.auth import Principal, Role, TokenIssuer, new_keypair
from vipcore.proof import ProofIssuer, SpendProof

from tests.e2e.test_sale_fanout import sale
from tests.loyalty.proofs import PIN, new_code, set_pin, sms_codes

STORE = "XA-771"  # jewelry: an SMS code or the PIN
DINER = "HT-772"  # generic: the PIN only


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def errors(r: httpx.Response) -> dict:
    return dict(r.json()["errors"][0])


async def audit(stack: Stack, member_id: str) -> list[dict]:
    r = await stack.admin.get(f"{stack.url('members')}/v1/members/{member_id}/proof-audit")
    assert r.status_code == 200, r.text
    return list(reversed(r.json()["entries"]))  # oldest first


async def test_l07_sms_code_proves_one_redemption_once_wrong_answers_lock_and_loyalty_needs_the_proof(
        stack: Stack) -> None:
    key = await stack.add_store(STORE, "jewelry", region_code="029")
    mobile = f"139{uuid.uuid4().int % 10**8:08d}"
    (m,) = await stack.add_members([{"store_id": STORE, "full_name": "钱晓红", "mobile": mobile}])
    await stack.wait_directory(key, m["card_no"])
    mid, card = m["member_id"], m["card_no"]
    # the member gave no marketing consent and replied TD: a spending code is not marketing (N-03) and still goes
    await wait_for(lambda: sql_value(stack.cfg, "notify", "SELECT 1 FROM contacts WHERE member_id=$1", mid), 30,
                   "notify to know the member")
    r = await stack.admin.post(f"{stack.url('notify')}/v1/webhooks/simulator/inbound",
                               json={"from": mobile, "text": "TD"})
    assert r.status_code == 200 and r.json()["opted_out"], r.text

    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"},
                                 timeout=30) as pos:
        r = await pos.post("/v1/sales", json=sale(STORE, "P-OLD", card, 300000, occurred_at=ago(2)))
        assert r.status_code == 201, r.text  # 3,000 points, spendable now (L-14: earned before the pending day)

        async def spendable() -> bool:
            lk = (await pos.get("/v1/members/lookup", params={"card_no": card})).json()
            return bool(lk["points_available"] == 3000)

        await wait_for(spendable, 30, "spendable points")
        body = {"store_id": STORE, "member": {"card_no": card}, "points_to_cash": 500, "cashier_staff_id": "S-7"}

        # no proof: refused before anything moves, naming the rule and the field
        r = await pos.post("/v1/redemptions", json=body)
        assert r.status_code == 422 and errors(r)["rule"] == "L-07" and errors(r)["field"] == "proof", r.text
        r = await pos.post("/v1/redemptions", json={**body, "proof": {"otp": "123456"}})
        assert r.status_code == 422 and errors(r)["field"] == "proof"  # no code was sent yet

        code = await new_code(stack, pos, card, STORE, mobile, cashier="S-7")
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        r = await pos.post("/v1/redemptions", json={**body, "proof": {"otp": wrong}})
        assert r.status_code == 422 and errors(r)["field"] == "proof" and "wrong" in errors(r)["message"]
        rid = str(uuid.uuid4())
        r = await pos.post("/v1/redemptions", json={**body, "redemption_id": rid, "proof": {"otp": code}})
        assert r.status_code == 201 and r.json()["points_spent"] == 500, r.text
        again = await pos.post("/v1/redemptions", json={**body, "redemption_id": rid, "proof": {"otp": code}})
        assert again.status_code == 200 and again.json()["replayed"]  # the till's retry: no second spend
        r = await pos.post("/v1/redemptions", json={**body, "proof": {"otp": code}})
        assert r.status_code == 422 and errors(r)["field"] == "proof"  # the code is used: not for another spend

        # a threshold reward needs the ID checked at the desk, recorded with the cashier who checked (L-09)
        code = await new_code(stack, pos, card, STORE, mobile)
        kit = {"store_id": STORE, "member": {"card_no": card}, "reward_id": "care-kit", "id_verified": True}
        r = await pos.post("/v1/redemptions", json={**kit, "proof": {"otp": code}})
        assert r.status_code == 422 and errors(r)["field"] == "cashier_staff_id", r.text
        r = await pos.post("/v1/redemptions", json={**kit, "cashier_staff_id": "S-8", "proof": {"otp": code}})
        assert r.status_code == 201 and r.json()["points_spent"] == 2000, r.text

        # five wrong answers lock the member's proofs: even the right code is refused (403) while locked
        code = await new_code(stack, pos, card, STORE, mobile)
        wrong = f"{(int(code) + 7) % 10**6:06d}"
        for _ in range(5):
            r = await pos.post("/v1/redemptions", json={**body, "proof": {"otp": wrong}})
            assert r.status_code == 422 and errors(r)["field"] == "proof"
        r = await pos.post("/v1/redemptions", json={**body, "proof": {"otp": code}})
        assert r.status_code == 403 and errors(r)["field"] == "proof" and "locked" in errors(r)["message"], r.text
        r = await pos.post(f"/v1/members/{card}/proof-codes", json={"store_id": STORE})
        assert r.status_code == 403  # and no more codes are sent meanwhile
        lk = (await pos.get("/v1/members/lookup", params={"card_no": card})).json()
        assert lk["points_balance"] == 500  # 3,000 - 500 - 2,000: nothing else moved

    # the codes went out as transactional SMS at once, their bodies erased once the provider took them
    assert len(await sms_codes(stack, mobile)) == 3
    rows = await sql_value(stack.cfg, "notify", "SELECT string_agg(category || '/' || coalesce(deferred, '-') || '/' "
                                                "|| (body IS NULL)::text, ',') FROM messages WHERE member_id=$1 "
                                                "AND template='proof_code' AND status IN ('sent', 'delivered')", mid)
    assert rows == ",".join(["transactional/-/true"] * 3), rows

    # every attempt is audited with store and cashier
    outcomes = [(e["outcome"], e["cashier_staff_id"]) for e in await audit(stack, mid)]
    assert outcomes[:6] == [("no_code", "S-7"), ("sent", "S-7"), ("wrong", "S-7"), ("ok", "S-7"),
                            ("replay", "S-7"), ("no_code", "S-7")], outcomes
    assert ("id_checked", "S-8") in outcomes and [o for o, _ in outcomes].count("wrong") == 6
    assert [o for o, _ in outcomes][-3:] == ["locked", "locked", "locked"]  # 5th wrong, the right code, a new code
    assert all(e["store_id"] == STORE for e in await audit(stack, mid))
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM proof_challenges "
                                                 "WHERE code_hash LIKE '%'||$1||'%'", code) == 0  # no code in clear

    # loyalty moves nothing without members' proof: a direct call, or a proof signed by anyone else, is refused
    lo = httpx.AsyncClient(base_url=stack.url("loyalty"), auth=stack.cfg.admin_auth())  # internal: the gateway's token
    async with lo:
        red = {"store_id": STORE, "member_id": mid, "points_to_cash": 100, "redemption_id": str(uuid.uuid4())}
        r = await lo.post("/internal/redemptions", json=red)
        assert r.status_code == 422 and errors(r)["rule"] == "L-07" and errors(r)["field"] == "proof", r.text
        forged = ProofIssuer(new_keypair()[0]).issue(SpendProof(mid, "redeem", STORE, red["redemption_id"],
                                                                "points:100", "sms_code"))
        r = await lo.post("/internal/redemptions", json={**red, "proof_token": forged})
        assert r.status_code == 403 and errors(r)["field"] == "proof"
        other = ProofIssuer(stack.cfg.staff_keys[0]).issue(SpendProof(mid, "redeem", STORE, str(uuid.uuid4()),
                                                                      "points:100", "sms_code"))
        r = await lo.post("/internal/redemptions", json={**red, "proof_token": other})
        assert r.status_code == 403  # members' proof, but for another redemption
        r = await lo.post("/internal/stored-value/holds", json={"store_id": STORE, "receipt_no": "R-X",
                                                                "member_id": mid, "amount": 100})
        assert r.status_code == 422 and errors(r)["rule"] == "L-11" and errors(r)["field"] == "proof"
    assert await sql_value(stack.cfg, "loyalty", "SELECT points_balance FROM accounts WHERE member_id=$1", mid) == 500


async def test_l11_stored_value_is_spent_with_the_pin_set_at_the_desk_where_the_program_says_so(stack: Stack) -> None:
    key = await stack.add_store(DINER, "generic", region_code="029")
    (m,) = await stack.add_members([{"store_id": DINER, "full_name": "孙志远", "mobile": "13766667777"}])
    await stack.wait_directory(key, m["card_no"])
    mid, card = m["member_id"], m["card_no"]
    staff = TokenIssuer(stack.cfg.staff_keys[0]).issue(Principal("S-9", DINER, "029", Role.STAFF))
    async with httpx.AsyncClient(base_url=stack.url("loyalty"), headers={"Authorization": f"Bearer {staff}"}) as c:
        r = await c.post("/v1/stored-value/topups", json={"member_id": mid, "store_id": DINER, "pay": 100000})
        assert r.status_code == 201, r.text

    def pay(receipt: str, proof: dict | None) -> dict:
        s = sale(DINER, receipt, card, 20000, payments=[{"method": "stored_value", "amount": 20000}])
        return {**s, "cashier_staff_id": "S-11", **({"proof": proof} if proof else {})}

    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"},
                                 timeout=30) as pos:
        r = await pos.post("/v1/sales", json=pay("SV-1", None))
        assert r.status_code == 422 and errors(r)["rule"] == "L-11" and errors(r)["field"] == "proof", r.text
        r = await pos.post("/v1/sales", json=pay("SV-1", {"otp": "123456"}))
        assert r.status_code == 422 and "PIN" in errors(r)["message"]  # this program proves by PIN only
        r = await pos.post(f"/v1/members/{card}/proof-codes", json={"store_id": DINER})
        assert r.status_code == 422 and errors(r)["field"] == "proof"  # so no SMS code is sent
        r = await pos.post("/v1/sales", json=pay("SV-1", {"pin": PIN}))
        assert r.status_code == 422 and "desk" in errors(r)["message"]  # no PIN set yet

        # the PIN is set at the desk by the member's own store, stored only as a slow salted hash
        outsider = TokenIssuer(stack.cfg.staff_keys[0]).issue(Principal("S-X", "XA-999", "029", Role.STAFF))
        r = await httpx.AsyncClient(base_url=stack.url("members")).put(
            f"/v1/member-files/{mid}/pin", json={"pin": PIN}, headers={"Authorization": f"Bearer {outsider}"})
        assert r.status_code == 403
        await set_pin(stack, mid, DINER, staff_id="S-12")
        stored = await sql_value(stack.cfg, "members", "SELECT pin_hash FROM member_pins WHERE member_id=$1", mid)
        assert stored.startswith("scrypt$") and PIN not in stored

        r = await pos.post("/v1/sales", json=pay("SV-1", {"pin": "999111"}))
        assert r.status_code == 422 and "wrong PIN" in errors(r)["message"]
        r = await pos.post("/v1/sales", json=pay("SV-1", {"pin": PIN}))
        assert r.status_code == 201, r.text
        again = await pos.post("/v1/sales", json=pay("SV-1", {"pin": PIN}))
        assert again.status_code == 200  # a retry of the recorded receipt: the same sale, nothing held again

    async def spent() -> bool:
        return await sql_value(stack.cfg, "loyalty", "SELECT balance FROM stored_value WHERE member_id=$1",
                               mid) == 90000
    await wait_for(spent, 30, "the stored-value payment")
    outcomes = [(e["outcome"], e["method"], e["cashier_staff_id"]) for e in await audit(stack, mid)]
    assert outcomes == [("no_pin", "pin", "S-11"), ("pin_set", "pin", "S-12"), ("wrong_pin", "pin", "S-11"),
                        ("ok", "pin", "S-11")], outcomes
