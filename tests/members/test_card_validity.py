"""M-17 on the real stack: card validity is the program's setting (1 or 2 years) — HQ's setting for the program,
else the program document's — for cards issued on approval and on bulk registration; the daily run expires each
card when its own validity ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from devstack.testing import Stack, sql_value
from members.domain.cards import valid_until

from tests.members.test_member_files import complete, login, mobile, setup


async def test_m17_card_expires_after_its_programs_validity_one_or_two_years(stack: Stack) -> None:
    await setup(stack, mobile())  # STORE runs the jewelry program
    await stack.add_store("GZ-702", "cosmetics", region_code="020")  # its document: card valid 24 months
    url = stack.url("members") + "/v1/programs"
    assert (await stack.admin.get(f"{url}/cosmetics/card-validity")).json() == {
        "program": "cosmetics", "validity_years": 2, "source": "program_document"}
    assert (await stack.admin.get(f"{url}/jewelry/card-validity")).json()["source"] == "default"
    r = await stack.admin.put(f"{url}/jewelry/card-validity", json={"validity_years": 3})
    assert r.status_code == 422  # 1 or 2 years
    r = await stack.admin.put(f"{url}/jewelry/card-validity", json={"validity_years": 1})
    assert r.json() == {"program": "jewelry", "validity_years": 1, "source": "hq_setting"}

    s1, cs = await login(stack, "S1"), await login(stack, "CS1")
    mid = (await s1.post("/v1/member-files", json=complete("秦雅琴", mobile()))).json()["member_id"]
    one = (await cs.post(f"/v1/member-files/{mid}/review", json={"decision": "approve"})).json()["card_no"]
    (two,) = await stack.add_members([{"store_id": "GZ-702", "full_name": "梁思远", "mobile": mobile()}])
    today = datetime.now(UTC).date()

    async def until(card_no: str) -> date:
        return date.fromisoformat(str(await sql_value(stack.cfg, "members",
                                                      "SELECT valid_until FROM cards WHERE card_no=$1", card_no)))

    assert await until(one) == valid_until(today, 1)
    assert await until(two["card_no"]) == valid_until(today, 2)

    async def daily(day: date) -> dict[str, Any]:
        r = await stack.admin.post(stack.url("members") + "/v1/admin/daily", json={"date": day.isoformat()})
        return dict(r.json())

    async def status(card_no: str) -> str:
        return str(await sql_value(stack.cfg, "members", "SELECT status FROM cards WHERE card_no=$1", card_no))

    assert (await daily(await until(one)))["expired"] == 0  # valid through its last day
    assert (await daily(await until(one) + timedelta(days=1)))["expired"] == 1
    assert (await status(one), await status(two["card_no"])) == ("expired", "active")  # 1-year program
    assert (await daily(await until(two["card_no"]) + timedelta(days=1)))["expired"] == 1
    assert await status(two["card_no"]) == "expired"  # 2-year program
    for c in (s1, cs):
        await c.aclose()
