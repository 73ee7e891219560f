"""The store desk in a real browser (issue 12; Debian's chromium driven by Playwright), one walk-through per role
that uses it, each checked on the page AND in members' own state:

- a store manager requests a hand-over of a leaving referrer's members (M-12); HQ customer service reviews it; the
  receiving staff member accepts; HQ confirms; the receiver re-checks each file; the store manager approves one and
  sends one back, which is re-checked and approved — the record names every operator, members' table too. The
  store manager logs a revisit from the plan and adds a prospect (M-20; members records who) and opens the KPI
  report (M-21); an auditor has no hand-over screen and is refused it (O-02), a store manager is refused imports;
- an HQ admin uploads a spreadsheet of 6,000 customers, watches the progress update live (htmx poll) until done,
  downloads the rejected rows (BOM, Chinese, reasons) and sees the import listed with its operator (M-19).
Screenshots go to .run/console/ (stores-*.png)."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from devstack.testing import Stack, StackConfig, sql_value

from tests.console.test_console_walkthrough import CHROMIUM, PASSWORD, SHOTS, mobile

pytestmark = pytest.mark.integration
STORE = "XA-951"


@pytest.fixture
async def desk_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members",)) as s:
        await s.start_console()
        yield s


async def seed(stack: Stack) -> list[str]:
    """A store and HQ, their staff with logins, two members referred by a staff member who is leaving."""
    m = stack.url("members")
    for sid, region in ((STORE, "029"), ("HQ", "000")):
        r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": sid, "name": f"金缘珠宝 {sid}",
                                                            "region_code": region, "program": "jewelry"})
        assert r.status_code == 201, r.text
    people = [("D-OUT", STORE, "staff"), ("D-IN", STORE, "staff"), ("D-GM", STORE, "store_manager"),
              ("D-HQCS", "HQ", "hq_cs"), ("D-ADM", "HQ", "hq_admin"), ("D-AUD", "HQ", "auditor")]
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "role": role, "position": "store GM" if role == "store_manager" else role,
         "name": "刘晓燕", "password": PASSWORD, "started_on": "2026-06-01"} for s, st, role in people])
    assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{m}/v1/members", json=[
        {"store_id": STORE, "full_name": n, "mobile": mobile(), "referrer_staff_id": "D-OUT"}
        for n in ("韩雪梅", "唐国强")])
    assert r.status_code == 201, r.text
    return sorted(x["member_id"] for x in r.json()["members"])


async def browser_page(pw: Any) -> tuple[Any, Any]:
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    ctx = await browser.new_context(viewport={"width": 800, "height": 1280}, locale="zh-CN", accept_downloads=True)
    return browser, await ctx.new_page()


async def test_m12_m20_m21_store_manager_hq_cs_and_receiver_walk_a_handover(desk_stack: Stack) -> None:
    from playwright.async_api import async_playwright

    stack = desk_stack
    files = await seed(stack)
    url = stack.url("console")
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser, page = await browser_page(pw)
        try:
            async def log_in(staff_id: str) -> None:
                if await page.locator("[data-logout]").count():
                    await page.click("[data-logout]")
                await page.goto(f"{url}/login")
                await page.fill("input[name=staff_id]", staff_id)
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_load_state()

            async def take(selector: str) -> None:
                await page.click(selector)
                await page.wait_for_selector("[data-done=stepped]")

            # the store manager requests the hand-over from the menu's hand-over screen
            await log_in("D-GM")
            await page.click("[data-nav=handovers]")
            await page.click("[data-handover-new] summary")
            await page.fill("input[name=from_staff_id]", "D-OUT")
            await page.fill("input[name=to_staff_id]", "D-IN")
            await page.fill("input[name=reason]", "离职交接")
            await page.click("[data-request-handover]")
            await page.wait_for_selector("[data-done=handover_requested]")
            hid = page.url.split("/handovers/")[1].split("?")[0]
            assert await page.get_attribute("h1 [data-state]", "data-state") == "requested"
            assert await page.locator("[data-files] tr[data-step=waiting]").count() == 2
            assert await page.locator("form[data-step]").count() == 0  # HQ reviews, not the store manager
            # O-02: imports are HQ admin's; the store manager has no entry and is refused the page
            assert await page.locator("[data-nav=imports]").count() == 0
            r = await page.goto(f"{url}/imports")
            assert r is not None and r.status == 403

            # HQ customer service finds it in the list (filtered by state) and approves the request
            await log_in("D-HQCS")
            await page.goto(f"{url}/handovers?state=requested")
            await page.click(f"[data-handover='{hid}'] a")
            await take("form[data-step=review] [data-approve]")
            # the receiver accepts (provisional link), HQ confirms (formal link: the files move)
            await log_in("D-IN")
            await page.goto(f"{url}/handovers")
            await page.click(f"[data-handover='{hid}'] a")
            await take("form[data-step=accept] [data-approve]")
            await log_in("D-HQCS")
            await page.goto(f"{url}/handovers/{hid}")
            await take("form[data-step=confirm] [data-approve]")
            assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE referrer_staff_id = "
                                   "'D-IN'") == 2
            # the receiver re-checks each file
            await log_in("D-IN")
            await page.goto(f"{url}/handovers/{hid}")
            for m in files:
                await page.fill(f"tr[data-file='{m}'] input[name=note]", "已电话核对")
                await take(f"tr[data-file='{m}'] [data-recheck]")
            # the store manager approves one, sends one back; re-checked again, approved: the hand-over completes
            await log_in("D-GM")
            await page.goto(f"{url}/handovers/{hid}")
            assert await page.locator("tr[data-step=rechecked]").count() == 2
            await take(f"tr[data-file='{files[0]}'] [data-approve-file]")
            await page.fill(f"tr[data-file='{files[1]}'] input[name=note]", "工作单位未填")
            await take(f"tr[data-file='{files[1]}'] [data-send-back]")
            assert await page.get_attribute(f"tr[data-file='{files[1]}']", "data-step") == "to_recheck"
            await log_in("D-IN")
            await page.goto(f"{url}/handovers/{hid}")
            await take(f"tr[data-file='{files[1]}'] [data-recheck]")
            await log_in("D-GM")
            await page.goto(f"{url}/handovers/{hid}")
            await take(f"tr[data-file='{files[1]}'] [data-approve-file]")
            assert await page.get_attribute("h1 [data-state]", "data-state") == "completed"
            shown = [await x.inner_text() for x in await page.locator("[data-history] [data-by]").all()]
            assert shown == ["D-GM", "D-HQCS", "D-IN", "D-HQCS", "D-IN", "D-IN", "D-GM", "D-GM", "D-IN", "D-GM",
                             "D-GM"]
            await page.screenshot(path=str(SHOTS / "stores-handover-zh.png"), full_page=True)
            # members' own record names the same operators (the console sends none: the token does)
            by = await sql_value(stack.cfg, "members", "SELECT jsonb_agg(e->>'by') FROM handovers, "
                                 "jsonb_array_elements(history) e WHERE handover_id = $1", hid)
            assert json.loads(by) == shown
            assert await sql_value(stack.cfg, "members", "SELECT string_agg(approved_by, ',' ORDER BY member_id) "
                                   "FROM handover_files WHERE handover_id = $1", hid) == "D-GM,D-GM"
            await page.goto(f"{url}/handovers?state=completed")
            assert await page.locator(f"[data-handover='{hid}'][data-state=completed]").count() == 1

            # M-20: the plan a year and more ahead lists both files; a revisit logged is members' with its operator
            ahead = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
            await page.click("[data-nav=revisits]")
            await page.fill("input[name=on]", ahead)
            await page.click("[data-filters] button[type=submit]")
            assert await page.locator("[data-due-member]").count() == 2
            await page.fill(f"tr[data-due-member='{files[0]}'] input[name=summary]", "电话回访，对新顾问满意")
            await page.click(f"tr[data-due-member='{files[0]}'] [data-log-revisit]")
            await page.wait_for_selector("[data-done=revisit_logged]")
            assert await sql_value(stack.cfg, "members", "SELECT staff_id || ':' || summary FROM revisits "
                                   "WHERE member_id = $1", files[0]) == "D-GM:电话回访，对新顾问满意"
            # a prospect with intent H: members sets the next visit within a week and records who
            await page.click("[data-prospect-new] summary")
            await page.fill("[data-prospect-new] input[name=full_name]", "周敏")
            await page.fill("[data-prospect-new] input[name=mobile]", mobile())
            await page.select_option("[data-prospect-new] select[name=intent]", "H")
            await page.click("[data-add-prospect]")
            await page.wait_for_selector("[data-done=prospect_added]")
            assert "周" in await page.inner_text("[data-prospects]")
            assert await sql_value(stack.cfg, "members", "SELECT staff_id || ':' || intent || ':' || "
                                   "(next_visit - current_date <= 7) FROM prospects") == "D-GM:H:true"
            await page.screenshot(path=str(SHOTS / "stores-revisits-zh.png"), full_page=True)
            # M-21: the KPI report per staff member of the store (members' /v1/kpi)
            await page.click("[data-kpi-link]")
            await page.wait_for_load_state()
            text = await page.inner_text("main")
            assert "D-IN" in text and "D-GM" in text

            # O-02: an auditor has no hand-over screen and is refused it
            await log_in("D-AUD")
            assert await page.locator("[data-nav=handovers]").count() == 0
            r = await page.goto(f"{url}/handovers")
            assert r is not None and r.status == 403 and "O-02" in await page.inner_text("[role=alert]")
        finally:
            await browser.close()


def sheet(good: int) -> tuple[bytes, int]:
    """A customers' CSV (Chinese headers): `good` valid rows, then rows refused by M-02 (a bad mobile, no name)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["姓名", "手机号", "性别", "生日"])
    phones = random.sample(range(10**8), good)
    for i, n in enumerate(phones):
        w.writerow([f"客户{i:05d}", f"139{n:08d}", "女", "1985-03-08"])
    w.writerow(["坏号码", "12345", "男", ""])
    w.writerow(["", "13900000000", "男", ""])
    return out.getvalue().encode(), 2


async def test_m19_hq_admin_uploads_watches_progress_and_downloads_rejected_rows(desk_stack: Stack) -> None:
    from playwright.async_api import async_playwright

    stack = desk_stack
    await seed(stack)
    url = stack.url("console")
    content, bad = sheet(6000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser, page = await browser_page(pw)
        try:
            await page.goto(f"{url}/login")
            await page.fill("input[name=staff_id]", "D-ADM")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.click("[data-nav=imports]")
            await page.fill("#upload input[name=store_id]", STORE)
            await page.set_input_files("#upload input[name=file]", files=[
                {"name": "老客户名单.csv", "mimeType": "text/csv", "buffer": content}])
            await page.click("[data-upload-send]")
            await page.wait_for_url("**/imports/I*")
            import_id = page.url.rsplit("/", 1)[1]
            # live progress: the page was served while members was still working, and htmx updates it in place
            first = await page.get_attribute("[data-import-progress]", "data-status")
            assert first == "running", "6,000 rows should take members more than a moment"
            await page.screenshot(path=str(SHOTS / "stores-import-running-zh.png"), full_page=True)
            await page.wait_for_selector("[data-import-progress][data-status=done]", timeout=120_000)
            assert await page.inner_text("[data-imported]") == "6000"
            assert await page.inner_text("[data-rejected]") == str(bad)
            assert await page.inner_text("[data-processed]") == "6002"
            await page.screenshot(path=str(SHOTS / "stores-import-done-zh.png"), full_page=True)
            async with page.expect_download() as dl:
                await page.click("[data-rejected-download]")
            raw = Path(await (await dl.value).path()).read_bytes()
            assert raw.startswith("\ufeff".encode())  # Excel shows the Chinese
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
            assert rows[0] == ["row", "reasons", "full_name", "mobile"] and len(rows) == 1 + bad
            assert rows[1][0] == "6002" and "M-02" in rows[1][1] and rows[1][2] == "坏号码"
            # members recorded the operator; the list shows it, filtered by store
            assert await sql_value(stack.cfg, "members", "SELECT started_by FROM imports WHERE import_id = $1",
                                   import_id) == "D-ADM"
            assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE store_id = $1 AND "
                                   "referrer_staff_id IS NULL", STORE) == 6000
            await page.goto(f"{url}/imports?store_id={STORE}&status=done")
            row = page.locator(f"[data-import='{import_id}']")
            assert await row.count() == 1 and "D-ADM" in await row.inner_text()
            await page.click("[data-lang-switch]")
            assert "Started by" in await page.inner_text("[data-imports]")
            await page.screenshot(path=str(SHOTS / "stores-imports-en.png"), full_page=True)
        finally:
            await browser.close()
