"""C-07 / N-01: the overdue reminder reaches the responsible staff member too — credit keeps a staff directory from
members.staff.changed (mobile encrypted at rest) and names the mobile on credit.invoice.overdue; C-06: the
directory's line leader is fined when the account names none."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from devstack.testing import Stack, sql_value, wait_for
from vipcore.auth import Role
from vipcore.contracts.members import StaffChanged
from vipcore.pii import Keyring

from .helpers import authorize, credit_sale, emit, open_account, pos, receivables_of, staff
from .test_receivables_payments_overdue import credit_events, daily, days_ago, today

STAFF_MOBILE, CUSTOMER_MOBILE = "13700001111", "13912345678"


def opened(stack: Stack, token: str | None) -> str | None:
    """A sealed event field opened with the events key (what notify does)."""
    return Keyring.parse(stack.cfg.event_pii_keys).decrypt(token) if token else None


def operator(stack: Stack, **kw: Any) -> StaffChanged:
    seal = Keyring.parse(stack.cfg.event_pii_keys).encrypt
    return StaffChanged(**{"staff_id": "S-OP1", "store_id": "XA-1", "region_code": "029", "display_name": "李*",
                           "name_enc": seal("李娜"), "position": "sales assistant", "role": "staff",
                           "mobile_enc": seal(STAFF_MOBILE),
                           "line_leader_staff_id": "S-LEAD2", "active": True, **kw})


async def sms_to(stack: Stack, to: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{stack.url('smssim')}/v1/messages", params={"to": to})
    return list(r.json()["messages"])


async def test_c07_overdue_invoice_sends_sms_to_customer_and_responsible_staff_member(nstack: Stack) -> None:
    key = await nstack.add_store("XA-1", "generic", region_code="029")
    await emit(nstack, operator(nstack), subject="S-OP1")
    select_mobile = "SELECT mobile_enc FROM staff_directory WHERE staff_id='S-OP1'"
    stored = await wait_for(lambda: sql_value(nstack.cfg, "credit", select_mobile), 30, "the staff directory")
    assert STAFF_MOBILE not in stored  # N-06: encrypted at rest
    async with staff(nstack, Role.STORE_MANAGER) as mgr, pos(nstack, key) as till:
        cust = await open_account(mgr, "individual", line_leader_staff_id=None)
        at_rest = await sql_value(nstack.cfg, "credit", "SELECT contact_mobile FROM credit_accounts WHERE "
                                  "customer_id=$1", cust)
        assert CUSTOMER_MOBILE not in at_rest  # N-06: the customer's mobile is encrypted too
        a = (await authorize(till, cust, 1, 100_000)).json()
        sale = credit_sale(f"R-OD-{cust}", cust, a["authorization_id"], 100_000, days_ago(nstack, 25))
        assert (await till.post("/v1/sales", json=sale)).status_code == 201
        (rec,) = await receivables_of(nstack, cust, 1)
        assert rec["line_leader_staff_id"] == "S-LEAD2"  # C-06: from the staff directory
        run = await daily(nstack, today(nstack) + timedelta(days=1))
        assert run["reminders"] == 1
        (ev,) = await credit_events(nstack, "credit.invoice.overdue", 1)
        assert (ev["responsible_staff_id"], opened(nstack, ev["responsible_staff_mobile_enc"])) == ("S-OP1",
                                                                                                 STAFF_MOBILE)
        cust_sms = await wait_for(lambda: sms_to(nstack, CUSTOMER_MOBILE), 60, "the customer's reminder SMS")
        staff_sms = await wait_for(lambda: sms_to(nstack, STAFF_MOBILE), 60, "the staff member's reminder SMS")
        assert len(cust_sms) == 1 and len(staff_sms) == 1
        assert "1000.00" in staff_sms[0]["body"] and "请跟进收款" in staff_sms[0]["body"]
        # C-06: writing the debt off fines the directory's line leader 10%
        wo = (await mgr.post(f"/v1/receivables/{rec['receivable_id']}/writeoffs", json={"reason": "客户失联"})).json()
        async with staff(nstack, Role.HQ_ADMIN) as hq:
            assert (await hq.post(f"/v1/writeoffs/{wo['writeoff_id']}/decision", json={"approve": True})).is_success
            fines = (await hq.get("/v1/staff/S-LEAD2/liabilities")).json()
        assert [(e["kind"], e["amount"]) for e in fines["entries"]] == [("fine", 10_000)]


async def test_c07_staff_member_who_left_gets_no_reminder_sms_but_the_customer_does(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    await emit(cstack, operator(cstack), subject="S-OP1")
    await emit(cstack, operator(cstack, active=False, position="left"), subject="S-OP1")
    await wait_for(lambda: sql_value(cstack.cfg, "credit", "SELECT 1 FROM staff_directory WHERE staff_id='S-OP1' "
                                     "AND NOT active"), 30, "the staff member's departure")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        cust = await open_account(mgr, "individual")
        a = (await authorize(till, cust, 1, 5_000)).json()
        sale = credit_sale(f"R-OD2-{cust}", cust, a["authorization_id"], 5_000, days_ago(cstack, 30))
        assert (await till.post("/v1/sales", json=sale)).status_code == 201
        await receivables_of(cstack, cust, 1)
        assert (await daily(cstack, today(cstack)))["reminders"] == 1
        (ev,) = await credit_events(cstack, "credit.invoice.overdue", 1)
        assert ev["responsible_staff_mobile_enc"] is None
        assert opened(cstack, ev["customer_mobile_enc"]) == CUSTOMER_MOBILE
