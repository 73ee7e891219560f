"""The demo's member files (deploy/devstack/demo_members.py) load on a real stack and can be seen: several states,
a pending review, a blacklisted phone flagged at the POS, a hand-over waiting for the receiver."""

from __future__ import annotations

from typing import Any

import httpx
from devstack.demo_members import load_member_files
from devstack.testing import Stack, sql_value, wait_for


async def test_demo_loads_member_files_in_every_state(stack: Stack) -> None:
    key = await stack.add_store("XA-001", "jewelry", region_code="029")
    made = await load_member_files(stack.cfg, stack.admin)
    states = {await sql_value(stack.cfg, "members", "SELECT status FROM members WHERE member_id=$1", m)
              for m in [made["pending_review"], made["incomplete"], made["rejected"], *made["active"]]}
    assert states == {"pending_review", "incomplete", "rejected", "active", "blacklisted"}
    assert await sql_value(stack.cfg, "members", "SELECT state FROM handovers WHERE handover_id=$1",
                           made["handover_in_progress"]) == "hq_approved"
    # the demo's staff have a work mobile and a line leader, published to the staff directory (C-06, C-07)
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM staff WHERE mobile_enc IS NOT NULL") == 6
    assert await sql_value(stack.cfg, "members", "SELECT line_leader_staff_id FROM staff WHERE staff_id='D-REF-1'") \
        == "D-CSM"
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM outbox WHERE headers->>'ce_type' = "
                           "'members.staff.changed'") == 6

    async def flagged() -> Any:
        async with httpx.AsyncClient(base_url=stack.url("gateway"),
                                     headers={"Authorization": f"Bearer {key}"}) as g:
            r = await g.get("/v1/members/lookup", params={"mobile": made["blacklisted_phone"]})
        return r.status_code == 200 and r.json()["blacklisted"]["store_id"] == "XA-001"

    await wait_for(flagged, 30, "the blacklisted phone flagged at the POS")
    again = await load_member_files(stack.cfg, stack.admin)  # a second demo run on the same database works
    assert again["pending_review"] == ""
