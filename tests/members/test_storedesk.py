"""The read routes the console's store desk needs (issue 12), on members alone: hand-overs listed for who may read
them (M-12: HQ all, a store lead their store's, staff their own), filtered and paged; imports listed for HQ with
the operator who started each (M-19: the import records the staff id of the token)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from devstack.testing import Stack, sql_value, wait_for

from tests.members.test_member_files import login, mobile

pytestmark = pytest.mark.integration
STORE, OTHER = "SD-101", "SD-202"  # region 755 and HQ 000, as test_member_files.login expects


async def seed(stack: Stack) -> None:
    m = stack.url("members")
    for store, region in ((STORE, "755"), (OTHER, "755"), ("SD-HQ", "000")):
        r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": store, "name": f"店{store}",
                                                             "region_code": region, "program": "jewelry"})
        assert r.status_code == 201, r.text
    people = [("D-S1", STORE, "staff"), ("D-S2", STORE, "staff"), ("D-S3", STORE, "staff"),
              ("D-SM", STORE, "store_manager"), ("D-OM", OTHER, "store_manager"), ("D-HQ", "SD-HQ", "hq_cs"),
              ("D-ADM", "SD-HQ", "hq_admin"), ("D-AUD", "SD-HQ", "auditor")]
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": store, "name": f"员工{s}", "position": "customer-service representative",
         "role": role, "password": "pw-" + s + "-long"} for s, store, role in people])
    assert r.status_code == 201, r.text


async def test_m12_handovers_listed_for_who_may_read_them_filtered_and_paged(members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    added = await stack.add_members([{"store_id": STORE, "full_name": n, "mobile": mobile(),
                                      "referrer_staff_id": "D-S1"} for n in ("韩雪梅", "唐国强", "李晓红")])
    sm, om, hq, adm, aud, s2, s3 = [await login(stack, s) for s in ("D-SM", "D-OM", "D-HQ", "D-ADM", "D-AUD",
                                                                     "D-S2", "D-S3")]
    ids = []
    for m in added:  # single-member moves, one after the other (newest listed first)
        r = await sm.post("/v1/handovers", json={"from_staff_id": "D-S1", "to_staff_id": "D-S2",
                                                 "type": "same_position", "reason": "resigned",
                                                 "member_ids": [m["member_id"]]})
        assert r.status_code == 201, r.text
        ids.append(r.json()["handover_id"])
    assert (await hq.post(f"/v1/handovers/{ids[0]}/review", json={})).json()["state"] == "hq_approved"

    def listed(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        return [h["handover_id"] for h in r.json()["handovers"]]

    newest_first = ids[::-1]
    r = await sm.get("/v1/handovers", params={"limit": 2})
    assert listed(r) == newest_first[:2] and r.json()["next_before"] == newest_first[1]
    first = r.json()["handovers"][0]
    assert first | {"handover_id": ""} == {"handover_id": "", "store_id": STORE, "from_staff_id": "D-S1",
                                           "to_staff_id": "D-S2", "type": "same_position", "reason": "resigned",
                                           "state": "requested", "raised_at": first["raised_at"], "files": 1}
    r = await sm.get("/v1/handovers", params={"limit": 2, "before": newest_first[1]})
    assert listed(r) == newest_first[2:] and r.json()["next_before"] is None
    assert listed(await sm.get("/v1/handovers", params={"state": "hq_approved"})) == [ids[0]]
    assert listed(await sm.get("/v1/handovers", params={"staff_id": "D-S3"})) == []
    assert listed(await sm.get("/v1/handovers", params={"staff_id": "D-S2"})) == newest_first
    # O-02 / M-07: another store's lead sees none of them, even naming the store; staff see only their own
    assert listed(await om.get("/v1/handovers", params={"store_id": STORE})) == []
    assert listed(await s2.get("/v1/handovers")) == newest_first
    assert listed(await s3.get("/v1/handovers")) == []
    # HQ sees every store's, or one store's
    assert listed(await hq.get("/v1/handovers", params={"store_id": STORE})) == newest_first
    assert listed(await adm.get("/v1/handovers", params={"store_id": OTHER})) == []
    assert (await aud.get("/v1/handovers")).status_code == 403
    assert (await sm.get("/v1/handovers", params={"state": "lost"})).status_code == 422
    for c in (sm, om, hq, adm, aud, s2, s3):
        await c.aclose()


async def test_m19_imports_record_their_operator_and_are_listed_for_hq(members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    adm, sm = await login(stack, "D-ADM"), await login(stack, "D-SM")
    started = []
    for rows in ([("王小明", mobile())], [("赵六", mobile()), ("坏号码", "123")]):
        body = ("姓名,手机\n" + "".join(f"{n},{p}\n" for n, p in rows)).encode()
        r = await adm.post("/v1/imports", params={"store_id": STORE, "filename": "老客户.csv"}, content=body)
        assert r.status_code == 202, r.text
        started.append(r.json()["import_id"])

        async def finished(iid: str = started[-1]) -> Any:
            p = (await adm.get(f"/v1/imports/{iid}")).json()
            return p if p["status"] != "running" else None

        done = await wait_for(finished, 60, "import finished")
        assert done["started_by"] == "D-ADM"  # the operator, from the token
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM imports WHERE started_by = 'D-ADM'") == 2
    r = await adm.get("/v1/imports", params={"limit": 1})
    assert r.status_code == 200, r.text
    assert [i["import_id"] for i in r.json()["imports"]] == [started[1]] and r.json()["next_before"] == started[1]
    row = r.json()["imports"][0]
    assert (row["filename"], row["imported"], row["rejected"], row["started_by"]) == ("老客户.csv", 1, 1, "D-ADM")
    r = await adm.get("/v1/imports", params={"limit": 1, "before": started[1]})
    assert [i["import_id"] for i in r.json()["imports"]] == [started[0]] and r.json()["next_before"] is None
    assert (await adm.get("/v1/imports", params={"status": "failed"})).json()["imports"] == []
    assert (await adm.get("/v1/imports", params={"store_id": OTHER})).json()["imports"] == []
    # imports are HQ admin's (O-02): a store manager is refused the list and the upload
    assert (await sm.get("/v1/imports")).status_code == 403
    assert (await sm.post("/v1/imports", params={"store_id": STORE}, content=b"a\n")).status_code == 403
    await adm.aclose()
    await sm.aclose()


async def test_m04_review_queue_paged_oldest_first_counts_the_whole_queue(members_only: Stack) -> None:
    """M-04 at chain scale: members cuts the review queue into pages (oldest submission first) and counts the whole
    queue and its overdue files, so the console never fetches every pending file of every store."""
    stack = members_only
    await seed(stack)
    s1, hq = await login(stack, "D-S1"), await login(stack, "D-HQ")
    ids = []
    for name in ("韩雪梅", "唐国强", "李晓红", "王建国", "赵丽娟"):
        r = await s1.post("/v1/member-files", json={
            "full_name": name, "mobile": mobile(), "gender": "female", "birth_date": "--03-08",
            "address": "深圳市南山区科技园南区8栋1201室", "work_unit": "深圳某贸易公司", "position": "采购",
            "customer_class": "enterprise_institution", "account_size": "general"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["member_id"])
    # the last two were submitted 13 and 14 hours ago: the oldest, and past the 12-hour target
    for mid, hours in ((ids[3], 13), (ids[4], 14)):
        await sql_value(stack.cfg, "members", "UPDATE members SET submitted_at = now() - make_interval(hours => $2) "
                        "WHERE member_id = $1 RETURNING 1", mid, hours)
    r = await hq.get("/v1/review-queue", params={"page": 1, "limit": 2})
    assert r.status_code == 200, r.text
    q = r.json()
    assert [i["member_id"] for i in q["items"]] == [ids[4], ids[3]] and all(i["overdue"] for i in q["items"])
    assert (q["total"], q["overdue"], q["page"], q["limit"]) == (5, 2, 1, 2)
    last = (await hq.get("/v1/review-queue", params={"page": 3, "limit": 2})).json()
    assert [i["member_id"] for i in last["items"]] == [ids[2]] and last["total"] == 5
    every = (await hq.get("/v1/review-queue")).json()  # default: a page of 100
    assert [i["member_id"] for i in every["items"]] == [ids[4], ids[3], *ids[:3]]
    assert (await hq.get("/v1/review-queue", params={"limit": 501})).status_code == 422
