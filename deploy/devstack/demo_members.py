"""Demo part two: member files a person can look at — several states, a pending review, a blacklisted phone,
a lost card and a hand-over in progress — created through the members staff API as staff would."""

from __future__ import annotations

import random
from typing import Any

import httpx
from rich.console import Console

from .testing import StackConfig

console = Console()
STORE = "XA-001"
PASSWORD = "demo-password-2026"
ADDRESS = "西安市碑林区东大街{}号{}单元{}室"


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


async def _login(c: httpx.AsyncClient, url: str, staff_id: str) -> dict[str, str]:
    r = await c.post(f"{url}/v1/auth/login", json={"staff_id": staff_id, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def load_member_files(cfg: StackConfig, admin: httpx.AsyncClient, seed: int = 7) -> dict[str, Any]:
    """Staff with logins, then files in every state; returns what was made (for the demo summary file)."""
    rng = random.Random(seed)
    url = cfg.url("members")
    r = await admin.post(f"{url}/v1/stores", json={"store_id": "HQ", "name": "总部", "region_code": "000",
                                                   "program": "generic"})
    r.raise_for_status()
    people = [("D-REF-1", STORE, "staff", "sales_assistant", "张晓燕"), ("D-REF-2", STORE, "staff",
              "customer_service_rep", "李文静"), ("D-CSM", STORE, "store_cs_manager", "customer_service_manager",
              "王丽华"), ("D-GM", STORE, "store_manager", "store_gm", "赵建国"),
              ("D-HQCS", "HQ", "hq_cs", "hq_customer_service", "陈佳"), ("D-AUD", "HQ", "auditor", "auditor", "周敏")]
    leaders = {"D-REF-1": "D-CSM", "D-REF-2": "D-CSM", "D-CSM": "D-GM"}  # C-06: named on receivables
    r = await admin.post(f"{url}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "role": role, "position": pos, "name": n, "password": PASSWORD,
         "mobile": f"1710000{i:04d}", **({"line_leader_staff_id": leaders[s]} if s in leaders else {})}
        for i, (s, st, role, pos, n) in enumerate(people)])
    r.raise_for_status()
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        ref1, ref2, csm, hq = [await _login(c, url, s) for s in ("D-REF-1", "D-REF-2", "D-CSM", "D-HQCS")]
        made: dict[str, Any] = {"staff_password": PASSWORD, "staff": [p[0] for p in people]}

        async def new_file(h: dict[str, str], name: str, complete: bool = True) -> str:
            body: dict[str, Any] = {"full_name": name, "mobile": _mobile(rng), "gender": "female",
                                    "birth_date": f"--{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"}
            if complete:
                addr = ADDRESS.format(rng.randrange(1, 300), rng.randrange(1, 6), rng.randrange(101, 2000))
                body |= {"address": addr,
                         "work_unit": "西安某贸易公司", "position": "采购", "customer_class": "enterprise_institution",
                         "account_size": "general"}
            resp = await c.post("/v1/member-files", json=body, headers=h)
            if resp.status_code in (409, 422) and resp.json()["errors"][0]["rule"] in ("M-06", "M-16"):
                return ""  # the demo ran before on this database (file exists, or its phone was blacklisted)
            resp.raise_for_status()
            return str(resp.json()["member_id"])

        pending = await new_file(ref1, "孙美琪")
        made["pending_review"] = pending
        made["incomplete"] = await new_file(ref1, "吴秀兰", complete=False)
        approved = [await new_file(ref1, n) for n in ("郑海燕", "冯雪梅", "韩志强")]
        for m in filter(None, approved):
            (await c.post(f"/v1/member-files/{m}/review", json={"decision": "approve"}, headers=csm)).raise_for_status()
        made["active"] = approved
        rejected = await new_file(ref2, "蒋欣怡")
        if rejected:
            (await c.post(f"/v1/member-files/{rejected}/review", json={"decision": "reject",
                                                                   "note": "工作单位需写全称"}, headers=csm))
        made["rejected"] = rejected
        if approved[0]:
            lost = (await c.post(f"/v1/member-files/{approved[0]}/card:report-lost", headers=ref1)).json()
            made["lost_card"] = lost
        phone = _mobile(rng)
        r = await c.post("/v1/blacklist", json={"mobile": phone, "full_name": "钱某某", "reason": "多次恶意退货"},
                         headers=csm)
        made["blacklisted_phone"] = phone if r.status_code == 201 else None
        if approved[2]:
            await c.post("/v1/blacklist", json={"mobile": (await c.get(f"/v1/member-files/{approved[2]}",
                                                                        headers=ref1)).json()["mobile"],
                                                "full_name": "韩志强", "reason": "辱骂店员"}, headers=csm)
        h = await c.post("/v1/handovers", json={"from_staff_id": "D-REF-2", "to_staff_id": "D-REF-1",
                                                "type": "same_position", "reason": "调岗"}, headers=csm)
        if h.status_code == 201:
            hid = h.json()["handover_id"]
            (await c.post(f"/v1/handovers/{hid}/review", json={}, headers=hq)).raise_for_status()
            made["handover_in_progress"] = hid  # waiting for the receiver to accept
    console.print(f"[green]✓[/] member files: pending review {made['pending_review'] or '-'}, "
                  f"blacklisted phone {made['blacklisted_phone'] or '-'}, hand-over {made.get('handover_in_progress')}"
                  f" (staff password {PASSWORD})")
    return made
