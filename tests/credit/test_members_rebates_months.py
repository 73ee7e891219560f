"""M-14 -> C-01/C-02: an account for a member takes the member file's class; C-08: purchases paid without credit
count toward a bulk buyer's rebate tier; C-08: a closed month keeps its reconciliation, a later bounce is booked
in the month it happens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.testing import Stack, sql_value, wait_for
from vipcore.auth import Role
from vipcore.contracts.members import MemberRegistered, MemberUpdated

from .helpers import authorize, credit_sale, draw_coupons, emit, open_account, pos, receivables_of, staff
from .test_coupons_and_rebates import sale_body
from .test_receivables_payments_overdue import days_ago, today

CARD = "75500901"


def member(member_id: str, cls: str | None, card_no: str = CARD) -> MemberRegistered:
    return MemberRegistered(member_id=member_id, store_id="XA-1", referrer_staff_id=None, display_name="赵*国",
                            name_index="n-" + member_id, mobile_index="m-" + member_id, mobile_enc="e1:sealed",
                            card_no=card_no, card_status="active", status="active", birthday=None,
                            customer_class=cls)


def changed(member_id: str, cls: str) -> MemberUpdated:
    return MemberUpdated(member_id=member_id, store_id="XA-1", display_name="赵*国", name_index="n-" + member_id,
                         mobile_index="m-" + member_id, mobile_enc="e1:sealed", referrer_staff_id=None, birthday=None,
                         customer_class=cls)


async def class_known(stack: Stack, member_id: str, cls: str) -> None:
    await wait_for(lambda: sql_value(stack.cfg, "credit", "SELECT 1 FROM member_classes WHERE member_id=$1 AND "
                                     "customer_class=$2", member_id, cls), 30, f"{member_id} is {cls}")


def member_account(member_id: str, **kw: Any) -> dict[str, Any]:
    return {"name": "赵建国", "store_id": "XA-1", "responsible_staff_id": "S-OP1", "limit_amount": 10_000_000,
            "member_id": member_id, **kw}


async def test_m14_account_for_a_member_takes_the_member_files_class(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    await emit(cstack, member("M-SOE", "state_owned"), member("M-IND", "individual", "75500902"), subject="m")
    await class_known(cstack, "M-SOE", "soe")
    await class_known(cstack, "M-IND", "individual")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        made = await mgr.post("/v1/accounts", json=member_account("M-SOE", customer_id="CR-SOE"))
        assert made.status_code == 201, made.text
        assert (made.json()["customer_class"], made.json()["limit_cases"]) == ("soe", 10)  # C-02 by class
        assert (await mgr.post("/v1/accounts", json=member_account("M-SOE"))).status_code == 409
        other = await mgr.post("/v1/accounts", json=member_account("M-IND", customer_class="government"))
        assert other.status_code == 422 and other.json()["errors"][0]["rule"] == "M-14"
        unknown = await mgr.post("/v1/accounts", json=member_account("M-NOFILE"))
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "customer_class"
        # the file's class changes: the account follows (terms C-03, case limit capped C-02)
        await emit(cstack, changed("M-SOE", "individual"), subject="m")

        async def reclassed() -> Any:
            a = (await mgr.get("/v1/accounts/CR-SOE")).json()
            return a if a["customer_class"] == "individual" else None

        acct = await wait_for(reclassed, 30, "the account's class to follow the member file")
        assert acct["limit_cases"] == 5
        a = (await authorize(till, "CR-SOE", 1, 1000)).json()
        sale = credit_sale("R-M14", "CR-SOE", a["authorization_id"], 1000, "2026-02-15T12:00:00+08:00")
        assert (await till.post("/v1/sales", json=sale)).status_code == 201
        (rec,) = await receivables_of(cstack, "CR-SOE", 1)
        assert rec["due_date"] == "2026-03-07"  # 20 days: an individual's terms, not the 10th of March


def paid_sale(receipt: str, amounts: list[int], payments: list[dict[str, Any]], at: str,
              card: str | None = None) -> dict[str, Any]:
    lines = [{"line_no": i, "sku": "BAIJIU-6", "qty": 1, "unit_price": a, "paid": a}
             for i, a in enumerate(amounts, start=1)]
    return {"store_id": "XA-1", "terminal_id": "T1", "receipt_no": receipt, "occurred_at": at, "lines": lines,
            "payments": payments, **({"member": {"card_no": card}} if card else {})}


async def test_c08_cash_and_transfer_purchases_count_toward_the_rebate_tier(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    await emit(cstack, member("M-BUY", "group_company"), subject="m")
    await class_known(cstack, "M-BUY", "group_company")
    await wait_for(lambda: sql_value(cstack.cfg, "gateway", "SELECT member_id FROM member_directory WHERE "
                                     "card_no=$1", CARD), 30, "the gateway to know the member's card")
    at = days_ago(cstack, 1)
    async with staff(cstack, Role.STORE_MANAGER) as mgr, staff(cstack, Role.STORE_CS_MANAGER) as office, \
            staff(cstack, Role.HQ_ADMIN) as fin, pos(cstack, key) as till:
        big = await open_account(mgr, "group_company")
        by_card = (await mgr.post("/v1/accounts", json=member_account("M-BUY"))).json()["customer_id"]
        h = (await authorize(till, big, 1, 2_000_000)).json()
        sales = [credit_sale("R-RB-CR", big, h["authorization_id"], 2_000_000, at),
                 # cash naming the buyer (no authorisation needed): 3,000,000 + 500,000, the 500,000 refunded below
                 paid_sale("R-RB-CASH", [3_000_000, 500_000],
                           [{"method": "cash", "amount": 3_500_000, "credit_customer_id": big}], at),
                 # the member's account: a transfer by the member's card
                 paid_sale("R-RB-CARD", [1_200_000], [{"method": "transfer", "amount": 1_200_000}], at, card=CARD),
                 paid_sale("R-RB-ANON", [9_000_000], [{"method": "cash", "amount": 9_000_000}], at)]  # nobody's
        for s in sales:
            assert (await till.post("/v1/sales", json=s)).status_code == 201
        refund = await till.post("/v1/refunds", json={"store_id": "XA-1", "receipt_no": "RF-RB",
                                                      "original_receipt_no": "R-RB-CASH", "occurred_at": at,
                                                      "lines": [{"line_no": 2, "qty": 1, "paid": 500_000}]})
        assert refund.status_code == 201
        await receivables_of(cstack, big, 1)
        await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT 1 FROM purchases WHERE refunded=500000"),
                       30, "the refund to reduce the cash purchase")
        await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT 1 FROM purchases WHERE customer_id=$1",
                                         by_card), 30, "the card purchase")
        await fin.put("/v1/rebate-tiers", json={"tiers": [{"min_purchases": 1_000_000, "rate_bp": 100},
                                                           {"min_purchases": 5_000_000, "rate_bp": 300}]})
        d = today(cstack)
        run = (await office.post("/v1/rebate-runs", json={"start": (d - timedelta(days=7)).isoformat(),
                                                           "end": d.isoformat()})).json()["rebates"]
        got = sorted((x["customer_id"], x["purchases"], x["rate_bp"], x["amount"]) for x in run)
        # credit alone (2,000,000) would reach only the 1% tier; with 3,000,000 cash the 3% tier
        assert got == sorted([(big, 5_000_000, 300, 150_000), (by_card, 1_200_000, 100, 12_000)])


async def test_c08_closed_month_keeps_its_report_and_a_later_bounce_is_booked_in_its_own_month(
        cstack: Stack) -> None:
    await cstack.add_store("XA-1", "generic", region_code="029")
    clock = cstack.clock  # type: ignore[attr-defined]
    clock.now = datetime(2026, 10, 30, 2, 0, tzinfo=UTC)  # 10:00 on 30 October in Xi'an
    async with staff(cstack, Role.HQ_ADMIN, "S-FIN") as fin, staff(cstack, Role.STAFF) as clerk, \
            staff(cstack, Role.STORE_MANAGER) as mgr:
        mc = await draw_coupons(cstack, fin, "MC-", 50_000, 4, "2027-06-30")
        chq = (await clerk.post("/v1/coupon-sales", json=sale_body([mc[0], mc[1]], "cheque"))).json()
        early = await fin.post("/v1/reconciliation-closes", json={"month": "2026-10"})
        assert early.status_code == 422 and early.json()["errors"][0]["rule"] == "C-08"
        clock.now = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # 1 November: October is over

        async def report(month: str) -> dict[str, Any]:
            return dict((await mgr.get("/v1/reports/coupon-reconciliation", params={"month": month})).json())

        def figures(r: dict[str, Any]) -> tuple[int, ...]:
            return tuple(r[k] for k in ("opening", "issued", "sold", "returned", "rebates", "closing"))

        october = await report("2026-10")
        assert figures(october) == (0, 200_000, 100_000, 0, 0, 100_000) and october["balanced"]
        assert (await clerk.post("/v1/reconciliation-closes", json={"month": "2026-10"})).status_code == 403
        closed = await fin.post("/v1/reconciliation-closes", json={"month": "2026-10"})
        assert closed.status_code == 201 and figures(closed.json()) == figures(october)
        assert (await fin.post("/v1/reconciliation-closes", json={"month": "2026-10"})).status_code == 409
        bounced = await mgr.post(f"/v1/coupon-sales/{chq['coupon_sale_id']}/bounce")
        assert bounced.json()["cheque_status"] == "bounced"
        after = await report("2026-10")
        assert figures(after) == figures(october) and after["closed"]["by"] == "S-FIN"
        november = await report("2026-11")
        assert figures(november) == (100_000, 0, 0, 100_000, 0, 200_000)
        assert november["stock_on_hand"] == 200_000 and november["balanced"] is True
