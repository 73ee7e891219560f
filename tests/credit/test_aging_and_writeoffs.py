"""C-07 aging report (JSON, CSV, XLSX) and C-06 bad-debt write-off with staff liability, on the real stack."""

from __future__ import annotations

import csv
import io
import json

from devstack.testing import Stack, consume_all, wait_for
from openpyxl import load_workbook
from vipcore.auth import Role

from .helpers import authorize, credit_sale, open_account, pos, receivables_of, staff
from .test_receivables_payments_overdue import days_ago, today


async def test_c07_aging_per_customer_staff_store_region_as_json_csv_xlsx(cstack: Stack) -> None:
    k1 = await cstack.add_store("XA-1", "generic", region_code="029")
    k2 = await cstack.add_store("SZ-1", "generic", region_code="755")
    async with staff(cstack, Role.HQ_ADMIN) as hq, staff(cstack, Role.AUDITOR) as auditor, \
            staff(cstack, Role.STORE_MANAGER, store_id="XA-1") as xa_mgr, staff(cstack, Role.STAFF) as clerk, \
            pos(cstack, k1) as t1, pos(cstack, k2) as t2:
        a = await open_account(hq, "individual")
        b = await open_account(hq, "individual", store_id="SZ-1")  # O-02: SZ-1's till serves SZ-1's buyers
        plan = [(t1, "XA-1", a, 10_000, 25), (t1, "XA-1", a, 20_000, 2), (t2, "SZ-1", b, 40_000, 60),
                (t2, "SZ-1", b, 80_000, 200)]
        for i, (till, store, cust, amount, ago) in enumerate(plan):
            h = (await authorize(till, cust, 1, amount, store)).json()
            sale = {**credit_sale(f"R-AG-{i}", cust, h["authorization_id"], amount, days_ago(cstack, ago)),
                    "store_id": store}
            assert (await till.post("/v1/sales", json=sale)).status_code == 201, i
        await receivables_of(cstack, a, 2)
        await receivables_of(cstack, b, 2)
        as_of = today(cstack).isoformat()
        # individuals: due 20 days after delivery -> 5, -18 (current), 40 and 180 days overdue
        r = (await hq.get("/v1/reports/aging", params={"as_of": as_of, "by": "customer"})).json()
        rows = {x["customer"]: x for x in r["rows"]}
        assert (rows[a]["d1_30"], rows[a]["current"], rows[a]["total"]) == (10_000, 20_000, 30_000)
        assert (rows[b]["d31_60"], rows[b]["over_90"], rows[b]["total"]) == (40_000, 80_000, 120_000)
        assert r["totals"]["total"] == 150_000
        region = (await auditor.get("/v1/reports/aging", params={"as_of": as_of, "by": "region"})).json()
        assert {x["region"]: x["total"] for x in region["rows"]} == {"029": 30_000, "755": 120_000}
        by_staff = (await hq.get("/v1/reports/aging", params={"as_of": as_of, "by": "staff"})).json()
        assert by_staff["rows"] == [{"staff": "S-OP1", "current": 20_000, "d1_30": 10_000, "d31_60": 40_000,
                                     "d61_90": 0, "over_90": 80_000, "total": 150_000}]
        own = (await xa_mgr.get("/v1/reports/aging", params={"as_of": as_of, "by": "store"})).json()
        assert [x["store"] for x in own["rows"]] == ["XA-1"]  # a store manager sees their store
        assert (await clerk.get("/v1/reports/aging")).status_code == 403
        bad = await hq.get("/v1/reports/aging", params={"by": "planet"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "by"

        got = await hq.get("/v1/reports/aging", params={"as_of": as_of, "by": "store", "format": "csv"})
        assert got.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(got.text)))
        assert {x["store"]: int(x["total"]) for x in table} == {"XA-1": 30_000, "SZ-1": 120_000}
        x = await hq.get("/v1/reports/aging", params={"as_of": as_of, "format": "xlsx"})
        wb = load_workbook(io.BytesIO(x.content))
        assert wb.sheetnames == ["customer", "staff", "store", "region"]
        assert sum(row[6].value for row in wb["region"].iter_rows(min_row=3)) == 150_000


async def test_c06_writeoff_charges_staff_in_full_and_fines_line_leader(cstack: Stack) -> None:
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    async with staff(cstack, Role.STORE_MANAGER, "S-MGR") as mgr, staff(cstack, Role.STAFF, "S-OP1") as op, \
            staff(cstack, Role.STAFF, "S-OTHER") as other, pos(cstack, key) as till:
        cust = await open_account(mgr, "small_business")
        h = (await authorize(till, cust, 3, 123_456)).json()
        sale = credit_sale("R-BAD", cust, h["authorization_id"], 123_456, days_ago(cstack, 120))
        assert (await till.post("/v1/sales", json=sale)).status_code == 201
        (rec,) = await receivables_of(cstack, cust, 1)
        paid = await op.post(f"/v1/accounts/{cust}/payments", json={"method": "transfer", "amount": 23_456})
        assert paid.status_code == 201
        req = await op.post(f"/v1/receivables/{rec['receivable_id']}/writeoffs", json={"reason": "公司注销"})
        assert req.status_code == 201 and req.json()["amount"] == 100_000
        wo = req.json()["writeoff_id"]
        again = await op.post(f"/v1/receivables/{rec['receivable_id']}/writeoffs", json={"reason": "重复"})
        assert again.status_code == 409
        assert (await op.post(f"/v1/writeoffs/{wo}/decision", json={"approve": True})).status_code == 403
        assert (await mgr.post(f"/v1/writeoffs/{wo}/decision", json={"approve": True})).status_code == 200
        mine = (await op.get("/v1/staff/S-OP1/liabilities")).json()
        assert (mine["total"], [e["kind"] for e in mine["entries"]]) == (100_000, ["charge"])
        leader = (await mgr.get("/v1/staff/S-LEAD/liabilities")).json()
        assert (leader["total"], leader["entries"][0]["kind"]) == (10_000, "fine")
        assert (await other.get("/v1/staff/S-OP1/liabilities")).status_code == 403  # O-02: own statement only
        view = (await mgr.get(f"/v1/accounts/{cust}")).json()
        assert (view["outstanding_amount"], view["outstanding_cases"]) == (0, 0)
        aging = (await mgr.get("/v1/reports/aging", params={"as_of": today(cstack).isoformat()})).json()
        assert aging["totals"]["total"] == 0

        async def approved() -> list[dict[str, object]]:
            recs = await consume_all(cstack.cfg.kafka_bootstrap, cstack.cfg.topic_prefix + "credit.events", 10**6,
                                     timeout=2)
            return [json.loads(r.value) for r in recs
                    if dict(r.headers)["ce_type"] == b"credit.writeoff.approved"]

        (ev,) = await wait_for(approved, 20, "credit.writeoff.approved")
        assert (ev["amount"], ev["responsible_staff_id"], ev["line_leader_staff_id"]) == (100_000, "S-OP1", "S-LEAD")
