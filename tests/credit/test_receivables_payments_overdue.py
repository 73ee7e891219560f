"""C-03, C-05, C-07, C-04 on the real stack: due dates, payments and cheques, the daily overdue run."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from devstack.testing import Stack, consume_all
from vipcore.auth import Role
from vipcore.pii import Keyring

from .helpers import authorize, credit_sale, open_account, pos, receivables_of, staff

SH = ZoneInfo("Asia/Shanghai")


def today(stack: Stack) -> date:
    return stack.clock.now.astimezone(SH).date()  # type: ignore[attr-defined,no-any-return]


def tally_day(stack: Stack) -> date:
    """C-09: the day whose 17:00 tally holds a sale made now (after 17:00 local it is tomorrow's), so a test reads
    the right tally whatever the hour CI runs it."""
    local = stack.clock.now.astimezone(SH)  # type: ignore[attr-defined]
    return local.date() + timedelta(days=1 if local.hour >= 17 else 0)


def days_ago(stack: Stack, n: int) -> str:
    return (stack.clock.now - timedelta(days=n)).astimezone(SH).isoformat()  # type: ignore[attr-defined]


async def daily(stack: Stack, day: date) -> dict[str, Any]:
    r = await stack.admin.post(f"{stack.url('credit')}/admin/daily-runs", json={"date": day.isoformat()})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def two_invoices(stack: Stack, mgr: httpx.AsyncClient, till: httpx.AsyncClient,
                       cls: str = "individual") -> tuple[str, list[dict[str, Any]]]:
    """An individual with 100,000 fen delivered 25 days ago (overdue) and 50,000 delivered 2 days ago."""
    cust = await open_account(mgr, cls)
    for receipt, cases, amount, ago in (("R-OLD", 2, 100_000, 25), ("R-NEW", 1, 50_000, 2)):
        a = (await authorize(till, cust, cases, amount)).json()
        sale = credit_sale(f"{receipt}-{cust}", cust, a["authorization_id"], amount, days_ago(stack, ago))
        assert (await till.post("/v1/sales", json=sale)).status_code == 201
    return cust, await receivables_of(stack, cust, 2)


async def credit_events(stack: Stack, etype: str, n: int) -> list[dict[str, Any]]:
    recs = await consume_all(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "credit.events", 10**6, timeout=3)
    return [json.loads(r.value) for r in recs if dict(r.headers)["ce_type"].decode() == etype]


async def test_c03_due_dates_by_class_in_store_time(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        _, (old, new) = await two_invoices(cstack, mgr, till)
        assert old["due_date"] == (today(cstack) - timedelta(days=5)).isoformat()
        assert new["due_date"] == (today(cstack) + timedelta(days=18)).isoformat()
        gov = await open_account(mgr, "government")
        a = (await authorize(till, gov, 1, 1000)).json()
        # 23:30 UTC on 31 March is already 1 April in Xi'an: due the 10th of May, not of April
        sale = credit_sale("R-GOV", gov, a["authorization_id"], 1000, "2026-03-31T23:30:00+00:00")
        assert (await till.post("/v1/sales", json=sale)).status_code == 201
        (rec,) = await receivables_of(cstack, gov, 1)
        assert rec["due_date"] == "2026-05-10"


async def test_c07_daily_run_reminds_flags_and_blocks_authorisation_once_per_day(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, pos(cstack, key) as till:
        cust, (old, _) = await two_invoices(cstack, mgr, till)
        assert (await authorize(till, cust, 1, 1)).status_code == 201  # not flagged until the day is run
        cstack.clock.advance(days=1)  # type: ignore[attr-defined]
        d1 = today(cstack)
        first = await daily(cstack, d1)
        assert (first["overdue_invoices"], first["reminders"], first["already_ran"]) == (1, 1, False)
        again = await daily(cstack, d1)
        assert (again["reminders"], again["already_ran"]) == (1, True)
        refused = await authorize(till, cust, 1, 1)
        assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "C-04"
        assert (await daily(cstack, d1 + timedelta(days=1)))["reminders"] == 0  # weekly after the first
        assert (await daily(cstack, d1 + timedelta(days=7)))["reminders"] == 1
        (ev, ev2) = await credit_events(cstack, "credit.invoice.overdue", 2)
        assert ev["receivable_id"] == old["receivable_id"] and ev["days_overdue"] == 6
        assert (ev["amount_due"], ev["responsible_staff_id"]) == (100_000, "S-OP1")
        assert "13912345678" not in str(ev)  # sealed: only holders of the events key read it
        assert Keyring.parse(cstack.cfg.event_pii_keys).decrypt(ev["customer_mobile_enc"]) == "13912345678"
        assert ev2["days_overdue"] == 13


async def test_c05_payments_oldest_first_cheque_pending_bounce_reopens(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, staff(cstack, Role.STAFF) as clerk, \
            pos(cstack, key) as till:
        cust, (old, new) = await two_invoices(cstack, mgr, till)
        await daily(cstack, today(cstack) + timedelta(days=1))
        assert (await authorize(till, cust, 1, 1)).status_code == 422  # C-04 overdue
        cash = await clerk.post(f"/v1/accounts/{cust}/payments", json={"method": "cash", "amount": 60_000})
        assert cash.status_code == 201 and cash.json()["allocated"] == {old["receivable_id"]: 60_000}
        assert (await authorize(till, cust, 1, 1)).status_code == 422  # 40,000 still overdue
        cheque = await clerk.post(f"/v1/accounts/{cust}/payments",
                                  json={"method": "cheque", "amount": 90_000, "reference": "CHQ-778"})
        c = cheque.json()
        assert (c["status"], c["allocated"]) == ("pending", {old["receivable_id"]: 40_000,
                                                             new["receivable_id"]: 50_000})
        assert c["clears_on"] == (today(cstack) + timedelta(days=3)).isoformat()
        assert (await authorize(till, cust, 1, 1)).status_code == 201  # settled: flag off
        assert (await clerk.post(f"/v1/payments/{c['payment_id']}/bounce")).status_code == 403  # O-02
        assert (await mgr.post(f"/v1/payments/{c['payment_id']}/bounce")).json()["status"] == "bounced"
        reopened = (await mgr.get(f"/v1/accounts/{cust}")).json()
        assert reopened["outstanding_amount"] == 90_000 + 1 and reopened["overdue"] is True
        assert (await authorize(till, cust, 1, 1)).status_code == 422
        assert (await mgr.post(f"/v1/payments/{c['payment_id']}/clearing")).status_code == 409  # bounced already
        named = await clerk.post(f"/v1/accounts/{cust}/payments", json={
            "method": "cheque", "amount": 50_000, "receivable_id": new["receivable_id"]})
        assert named.json()["allocated"] == {new["receivable_id"]: 50_000}
        too_much = await clerk.post(f"/v1/accounts/{cust}/payments", json={"method": "wire", "amount": 10**9})
        assert too_much.status_code == 422 and too_much.json()["errors"][0]["rule"] == "C-05"
        bad = await clerk.post(f"/v1/accounts/{cust}/payments", json={"method": "bitcoin", "amount": 1})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "method"
        run = await daily(cstack, today(cstack) + timedelta(days=3))  # the cheque's third day
        assert run["cheques_cleared"] == 1
        assert (await mgr.post(f"/v1/payments/{named.json()['payment_id']}/bounce")).status_code == 409
        (ev, *_) = await credit_events(cstack, "credit.payment.received", 1)
        assert ev["method"] == "cash" and ev["allocated"] == {old["receivable_id"]: 60_000}


async def test_c03_extension_by_approved_application_lifts_overdue(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER) as mgr, staff(cstack, Role.STAFF) as clerk, \
            pos(cstack, key) as till:
        cust, (old, _) = await two_invoices(cstack, mgr, till)
        await daily(cstack, today(cstack) + timedelta(days=1))
        cstack.clock.advance(days=1)  # type: ignore[attr-defined]
        early = await clerk.post(f"/v1/receivables/{old['receivable_id']}/extensions", json={
            "new_due_date": "2020-01-01", "reason": "财务审批延迟"})
        assert early.status_code == 422 and early.json()["errors"][0]["rule"] == "C-03"
        ext = await clerk.post(f"/v1/receivables/{old['receivable_id']}/extensions", json={
            "new_due_date": (today(cstack) + timedelta(days=10)).isoformat(), "reason": "财务审批延迟"})
        assert ext.status_code == 201
        assert (await authorize(till, cust, 1, 1)).status_code == 422  # pending: still overdue
        ext_id = ext.json()["extension_id"]
        assert (await mgr.post(f"/v1/extensions/{ext_id}/decision", json={"approve": True})).status_code == 200
        assert (await authorize(till, cust, 1, 1)).status_code == 201
