"""The loyalty screens in a real browser (issue 12): Debian's chromium driven by Playwright. HQ customer service
reads the program viewer (tiers, earn rules, catalogue, versions) and has no desk; a store's staff member at the
redemption desk (L-09) finds the member listed as having reached the threshold reward, texts the member a code
(L-07), is refused without the ID check, then hands the reward out: loyalty deducted the points once and its ledger
names this staff member, members audited the ID check with them. Screenshots go to .run/console/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from devstack.testing import ROOT, Stack, StackConfig, sql_value, wait_for

from tests.console.browser import tablet
from tests.e2e.test_sale_fanout import sale
from tests.loyalty.proofs import sms_codes

SHOTS = ROOT / ".run" / "console"
PASSWORD = "console-pw-2026"
STORE = "XA-911"
pytestmark = pytest.mark.integration


async def seed(stack: Stack) -> dict[str, Any]:
    """A jewelry store, its desk staff member and HQ customer service with logins, and a member with 3,000 points
    spendable (earned two days ago): past care-kit's 2,000-point threshold (L-09)."""
    key = await stack.add_store(STORE, "jewelry", region_code="029")
    r = await stack.admin.post(f"{stack.url('members')}/v1/stores", json={
        "store_id": "HQ", "name": "总部", "region_code": "000", "program": "jewelry"})
    assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "role": role, "position": role, "name": "王丽华", "password": PASSWORD}
        for s, st, role in (("C-DESK", STORE, "staff"), ("C-HQCS-L", "HQ", "hq_cs"))])
    assert r.status_code == 201, r.text
    mobile = f"139{uuid.uuid4().int % 10**8:08d}"
    (m,) = await stack.add_members([{"store_id": STORE, "full_name": "钱晓红", "mobile": mobile}])
    await stack.wait_directory(key, m["card_no"])
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"},
                                 timeout=30) as pos:
        occurred = (datetime.now(UTC) - timedelta(days=2)).isoformat()
        r = await pos.post("/v1/sales", json=sale(STORE, "W-1", m["card_no"], 300000, occurred_at=occurred))
        assert r.status_code == 201, r.text

        async def spendable() -> bool:
            lk = (await pos.get("/v1/members/lookup", params={"card_no": m["card_no"]})).json()
            return bool(lk["points_available"] == 3000)

        await wait_for(spendable, 60, "spendable points")
    return {**m, "mobile": mobile}


@pytest.fixture
async def console_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members", "loyalty", "notify", "gateway")) as s:
        await s.start_console()
        yield s


async def test_l09_program_viewer_and_redemption_desk_walkthrough(console_stack: Stack) -> None:
    stack = console_stack
    m = await seed(stack)
    url = stack.url("console")
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with tablet(url, PASSWORD, settle=None) as tab:
        page, log_in = tab.page, tab.log_in
        # HQ customer service: the program viewer, no desk (O-02)
        await log_in("C-HQCS-L")
        assert await page.locator("[data-nav=programs]").count() == 1
        assert await page.locator("[data-nav=desk]").count() == 0
        await page.goto(url + "/programs")
        await page.click("[data-program=jewelry] a")
        await page.wait_for_selector("[data-tiers]")
        assert await page.locator("[data-in-force]").count() == 1
        assert "贵宾" in await page.inner_text("[data-tiers]") or await page.locator("[data-tier]").count() >= 2
        assert "首饰护理套装" in await page.inner_text("[data-catalogue]")
        assert "每元" in await page.inner_text("[data-earn]")
        await page.screenshot(path=str(SHOTS / "programs-jewelry-zh.png"), full_page=True)
        r = await page.goto(url + "/desk")
        assert r is not None and r.status == 403 and "O-02" in await page.inner_text("[role=alert]")

        # the store's staff member at the desk: the member is listed as having reached the reward (L-09)
        await log_in("C-DESK")
        assert await page.locator("[data-nav=desk]").count() == 1
        assert await page.locator("[data-nav=programs]").count() == 0
        await page.click("[data-nav=desk]")
        await page.wait_for_selector(f"[data-ready-member='{m['member_id']}']")
        await page.fill("[data-code-card]", m["card_no"])
        await page.click("[data-send-code]")
        await page.wait_for_selector("[data-done=code_sent]")
        code = (await wait_for(lambda: sms_codes(stack, m["mobile"]), 30, "the code's SMS"))[-1]

        # no ID check: the gateway refuses naming L-09, nothing deducted
        assert await page.input_value("[data-claim-card]") == m["card_no"]
        await page.fill("[data-claim-otp]", code)
        await page.click("[data-claim-submit]")
        alert = await page.inner_text("[role=alert]")
        assert "L-09" in alert, alert
        await page.go_back()

        # ID checked, the member's code: handed out, 2,000 points deducted (once)
        await page.reload()
        await page.fill("[data-claim-card]", m["card_no"])
        await page.fill("[data-claim-otp]", code)
        await page.check("[data-claim-id-checked]")
        await page.click("[data-claim-submit]")
        await page.wait_for_selector("[data-done=claimed]")
        assert (await page.inner_text("[data-balance-after]")).strip() == "1000"
        await page.screenshot(path=str(SHOTS / "desk-claimed-zh.png"), full_page=True)
        assert await page.locator(f"[data-ready-member='{m['member_id']}']").count() == 0  # below it now
        await page.click("[data-lang-switch]")
        assert "Redemption desk" in await page.inner_text("h1")

    # the owning services' state and audit: the ledger names the staff member, members audited the ID check
    r = await stack.admin.get(f"{stack.url('loyalty')}/v1/members/{m['member_id']}/ledger", params={"kind": "redeem"})
    (entry,) = r.json()["entries"]
    assert entry["points"] == -2000 and entry["operator"] == f"C-DESK @ store {STORE}", entry
    r = await stack.admin.get(f"{stack.url('members')}/v1/members/{m['member_id']}/proof-audit")
    outcomes = [(e["outcome"], e["cashier_staff_id"]) for e in r.json()["entries"]]
    assert ("id_checked", "C-DESK") in outcomes and ("sent", "C-DESK") in outcomes, outcomes
    assert await sql_value(stack.cfg, "loyalty", "SELECT points_balance FROM accounts WHERE member_id=$1",
                           m["member_id"]) == 1000
