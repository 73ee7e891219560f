"""M-17 on PostgreSQL: card numbers of a region have no gaps and no duplicates under concurrent issue."""

from __future__ import annotations

import asyncio

from devstack.testing import Stack

from tests.members.test_member_files import STORE, complete, login, mobile, setup


async def test_m17_concurrent_issue_has_no_gaps_or_duplicates(stack: Stack) -> None:
    await setup(stack, mobile())
    s1, cs = await login(stack, "S1"), await login(stack, "CS1")
    names = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴芳", "徐明", "孙丽"]
    ids = []
    for n in names:
        r = await s1.post("/v1/member-files", json=complete(n, mobile()))
        assert r.status_code == 201, r.text
        ids.append(r.json()["member_id"])
    # approvals (each its own transaction) race with bulk registrations and a failing bulk (rolled back)
    approvals = [cs.post(f"/v1/member-files/{m}/review", json={"decision": "approve"}) for m in ids]
    bulk = [stack.admin.post(f"{stack.url('members')}/v1/members", json=[
        {"store_id": STORE, "full_name": f"批量{i}{j}", "mobile": mobile()} for j in range(3)]) for i in range(4)]
    dup = mobile()
    failing = stack.admin.post(f"{stack.url('members')}/v1/members", json=[
        {"store_id": STORE, "full_name": "重复甲", "mobile": dup}, {"store_id": STORE, "full_name": "重复乙",
                                                                   "mobile": dup}])
    results = await asyncio.gather(*approvals, *bulk, failing)
    assert [r.status_code for r in results] == [200] * len(ids) + [201] * 4 + [409]
    numbers = [r.json()["card_no"] for r in results[:len(ids)]]
    numbers += [m["card_no"] for r in results[len(ids):-1] for m in r.json()["members"]]
    assert len(set(numbers)) == len(numbers) == len(ids) + 12
    assert sorted(int(n[3:]) for n in numbers) == list(range(1, len(numbers) + 1))  # no gap, the rollback gave back
    await s1.aclose()
    await cs.aclose()
