"""Stored value at the POS (L-11) on the real stack: a sale paying with stored value is held against the
member's balance before it is accepted, two terminals spending at once never overdraw, a hold whose sale never
arrives is released after its expiry, and a refund gives the stored value back."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from devstack.testing import Stack, sql_value, wait_for
from loyalty.domain.program import load_books
from loyalty.service.stored_value import StoredValueDesk
from vipcore.auth import Principal, Role, TokenIssuer
from vipcore.contracts.pos import Payment, SaleLine, SaleRecorded
from vipcore.db import make_engine
from vipcore.proof import ProofIssuer, SpendProof

from tests.credit.helpers import emit
from tests.e2e.test_sale_fanout import sale
from tests.loyalty.proofs import PIN, set_pin

HELD = "SELECT held FROM stored_value WHERE member_id=$1"
BALANCE = "SELECT balance FROM stored_value WHERE member_id=$1"


def sv_sale(receipt: str, card: str, amount: int, cash: int = 0, terminal: str = "T1") -> dict:
    pays = ([{"method": "cash", "amount": cash}] if cash else []) + [{"method": "stored_value", "amount": amount}]
    return {**sale("HT-001", receipt, card, amount + cash, payments=pays, terminal_id=terminal),
            "proof": {"pin": PIN}}  # L-11: generic stores prove the member by the PIN set at the desk


async def test_l11_stored_value_payments_are_held_against_the_balance_and_never_overdraw(stack: Stack) -> None:
    key = await stack.add_store("HT-001", "generic", region_code="029")
    (m,) = await stack.add_members([{"store_id": "HT-001", "full_name": "周海燕", "mobile": "13755556666"}])
    await stack.wait_directory(key, m["card_no"])
    mid, card = m["member_id"], m["card_no"]
    await set_pin(stack, mid, "HT-001")
    staff = TokenIssuer(stack.cfg.staff_keys[0]).issue(Principal("S-9", "HT-001", "029", Role.STAFF))
    async with httpx.AsyncClient(base_url=stack.url("loyalty"), headers={"Authorization": f"Bearer {staff}"}) as c:
        r = await c.post("/v1/stored-value/topups", json={"member_id": mid, "store_id": "HT-001", "pay": 100000})
        assert r.status_code == 201 and r.json()["balance_after"] == 110000  # pay 1,000 get 1,100

    # each payment's PIN is checked with scrypt (L-11): ten at once take a few seconds on a busy machine
    pos = httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"}, timeout=30)
    async with pos:
        # more than the balance: refused at the till, naming the stored-value payment and the rule
        r = await pos.post("/v1/sales", json=sv_sale("R-BIG", card, 120000, cash=5000))
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "payments[1].amount" and r.json()["errors"][0]["rule"] == "L-11"
        r = await pos.post("/v1/sales", json={**sv_sale("R-ANON", card, 100), "member": None})
        assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "L-11"  # only a member's money
        # the receipt's coupons are refused (C-09) after its stored value was held: the hold is given back at once
        r = await pos.post("/v1/sales", json={**sale("HT-001", "R-CPN", card, 30100, payments=[
            {"method": "stored_value", "amount": 30000},
            {"method": "coupon", "amount": 100, "coupon_numbers": ["NO-SUCH-1"]}]), "proof": {"pin": PIN}})
        assert r.status_code == 422 and r.json()["errors"][0]["rule"].startswith("C-"), r.text
        assert await sql_value(stack.cfg, "loyalty", HELD, mid) == 0

        # two terminals, ten 300-yuan payments at once against 1,100 yuan: exactly three are accepted
        answers = await asyncio.gather(*[
            pos.post("/v1/sales", json=sv_sale(f"R-C{i}", card, 30000, terminal=f"T{i % 2 + 1}"))
            for i in range(10)])
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] * 3 + [422] * 7, [a.text for a in answers]
        assert all(a.json()["errors"][0]["field"] == "payments[0].amount" for a in answers if a.status_code == 422)
        ok = [i for i, a in enumerate(answers) if a.status_code == 201]

        async def settled() -> bool:
            return (await sql_value(stack.cfg, "loyalty", BALANCE, mid) == 20000
                    and await sql_value(stack.cfg, "loyalty", HELD, mid) == 0)

        await wait_for(settled, 30, "three captured payments")
        again = await pos.post("/v1/sales", json=sv_sale(f"R-C{ok[0]}", card, 30000, terminal=f"T{ok[0] % 2 + 1}"))
        assert again.status_code == 200  # a POS retry: no second hold, no second spend

        # a hold whose sale never arrives keeps the money aside until it expires, then gives it back
        async with httpx.AsyncClient(base_url=stack.url("loyalty"), auth=stack.cfg.admin_auth()) as lo:
            token = ProofIssuer(stack.cfg.staff_keys[0]).issue(  # as members signs it after the member's PIN
                SpendProof(mid, "stored_value", "HT-001", "R-GHOST", "fen:15000", "pin"))
            r = await lo.post("/internal/stored-value/holds", json={
                "store_id": "HT-001", "receipt_no": "R-GHOST", "member_id": mid, "amount": 15000,
                "proof_token": token})
            assert r.status_code == 201, r.text
        r = await pos.post("/v1/sales", json=sv_sale("R-AFTER", card, 10000))
        assert r.status_code == 422  # 200 yuan balance, 150 held by the missing sale
        engine = make_engine(stack.cfg.db_url("loyalty"), pool_size=1)
        try:
            desk = StoredValueDesk(engine, load_books(stack.cfg.settings("loyalty").programs_dir),
                                   lambda: datetime.now(UTC))
            assert await desk.release_expired(datetime.now(UTC) + timedelta(minutes=5)) == 0  # not yet
            assert await desk.release_expired(datetime.now(UTC) + timedelta(minutes=31)) == 1
        finally:
            await engine.dispose()
        assert await sql_value(stack.cfg, "loyalty", HELD, mid) == 0
        r = await pos.post("/v1/sales", json=sv_sale("R-AFTER", card, 10000))
        assert r.status_code == 201, r.text
        await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", BALANCE, mid), 10000), 30, "R-AFTER captured")

        # a refund returns the stored value its receipt paid, line by line, never more
        refund = {"store_id": "HT-001", "receipt_no": f"F-{uuid.uuid4().hex[:8]}", "original_receipt_no": f"R-C{ok[0]}",
                  "occurred_at": "2026-11-22T13:00:00+08:00", "lines": [{"line_no": 1, "qty": 1, "paid": 30000}]}
        r = await pos.post("/v1/refunds", json=refund)
        assert r.status_code == 201, r.text
        await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", BALANCE, mid), 40000), 30, "the refund")
    kinds = await sql_value(stack.cfg, "loyalty", "SELECT string_agg(kind || ':' || amount, ',' ORDER BY id) "
                                                  "FROM stored_value_ledger WHERE member_id=$1", mid)
    assert kinds == ("topup:110000,spend:-30000,spend:-30000,spend:-30000,spend:-10000,refund:30000"), kinds

    # R-03: the money report reconciles the period to the fen and owes 400 yuan at the member's store and region
    today = datetime.now(UTC).date()
    period = {"since": min(date(2026, 11, 1), today - timedelta(days=1)).isoformat(),
              "until": (max(today, date(2026, 11, 23)) + timedelta(days=1)).isoformat()}
    async with httpx.AsyncClient(base_url=stack.url("loyalty"),
                                 headers={"Authorization": f"Bearer {stack.cfg.admin_token}"}) as lo:
        rep = (await lo.get("/v1/reports/stored-value", params=period)).json()
        assert rep["programs"]["generic"] == {"opening": 0, "top_ups": 100000, "bonus": 10000, "spend": 100000,
                                              "refunds": 30000, "closing": 40000, "imported": 0, "reconciled": True}
        assert rep["outstanding"] == {"program": {"generic": 40000}, "store": {"HT-001": 40000},
                                      "region": {"029": 40000}}
        assert rep["ledger_matches_balances"] == {"generic": True}
        r = await lo.get("/v1/reports/stored-value", params={**period, "format": "csv"})
        assert r.headers["content-type"].startswith("text/csv")
        assert "program,generic,0,100000,10000,0,100000,30000,40000,True,40000" in r.text
        r = await lo.get("/v1/reports/stored-value", params={"since": "2026-11-02", "until": "2026-11-01"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "until"
        st = (await lo.get(f"/v1/members/{mid}/stored-value-ledger")).json()
        assert st["balances"] == {"generic": {"balance": 40000, "held": 0, "available": 40000}}
        assert [(e["kind"], e["amount"], e["receipt_no"]) for e in st["entries"]][:2] == [
            ("refund", 30000, f"R-C{ok[0]}"), ("spend", -10000, "R-AFTER")]

    # L-11: only a receipt the member proved at the till moves value. A sale event paying with stored value that
    # never had a hold (written to the topic by anything but the gateway's checkout) takes nothing: a shortfall.
    ghost = SaleRecorded(sale_id=str(uuid.uuid4()), store_id="HT-001", terminal_id="T9", receipt_no="R-NOHOLD",
                         occurred_at=datetime.now(UTC), member_id=mid, member_status="active", card_status="active",
                         lines=[SaleLine(line_no=1, sku="X", qty=1, unit_price=5000, paid=5000)],
                         payments=[Payment(method="stored_value", amount=5000)])
    await emit(stack, ghost, subject=mid)
    row = await wait_for(lambda: sql_value(stack.cfg, "loyalty", "SELECT amount || ':' || shortfall FROM "
                                           "stored_value_ledger WHERE receipt_no='R-NOHOLD'"), 30, "R-NOHOLD booked")
    assert row == "0:5000", row
    assert await sql_value(stack.cfg, "loyalty", BALANCE, mid) == 40000  # nothing taken


async def _eq(value: object, want: int) -> bool:
    return bool(await value == want)  # type: ignore[misc]
