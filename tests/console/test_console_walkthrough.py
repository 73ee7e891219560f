"""The staff console in a real browser (issue 12): Debian's chromium driven by Playwright. A store's
customer-service manager logs in, approves a pending file (M-04), finds members by card and by mobile, switches
to English; a store manager of another store sees none of them (M-07, enforced by members, shown by the console).
Screenshots go to .run/console/."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.testing import ROOT, Stack, StackConfig

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / ".run" / "console"
PASSWORD = "console-pw-2026"
# no skip when the browser is missing: a CI without chromium must fail, not pass by running nothing
assert CHROMIUM is not None, "the console tests drive Debian's chromium: ./dev and .ci/run install it (apt)"
pytestmark = pytest.mark.integration


def mobile() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


async def seed(stack: Stack) -> dict[str, Any]:
    """Two stores, their staff with logins, a member with a card and a complete file waiting for review."""
    m = stack.url("members")
    for sid, region in (("XA-901", "029"), ("SZ-901", "755"), ("HQ", "000")):
        r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": sid, "name": f"金缘珠宝 {sid}",
                                                            "region_code": region, "program": "jewelry"})
        assert r.status_code == 201, r.text
    people = [("C-REF", "XA-901", "staff"), ("C-CSM", "XA-901", "store_cs_manager"),
              ("C-GM", "XA-901", "store_manager"), ("C-GM2", "SZ-901", "store_manager"),
              ("C-HQCS", "HQ", "hq_cs"), ("C-HQADM", "HQ", "hq_admin")]
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "role": role, "position": role, "name": "王丽华", "password": PASSWORD}
        for s, st, role in people])
    assert r.status_code == 201, r.text
    carded = {"store_id": "XA-901", "full_name": "郑海燕", "mobile": mobile(), "referrer_staff_id": "C-REF"}
    r = await stack.admin.post(f"{m}/v1/members", json=[carded])
    assert r.status_code == 201, r.text
    carded |= r.json()["members"][0]
    async with httpx.AsyncClient(base_url=m, timeout=30) as c:
        tok = (await c.post("/v1/auth/login", json={"staff_id": "C-REF", "password": PASSWORD})).json()["token"]
        pending = {"full_name": "孙美琪", "mobile": mobile(), "gender": "female", "birth_date": "--03-08",
                   "address": "西安市碑林区东大街12号3单元1201室", "work_unit": "西安某贸易公司", "position": "采购",
                   "customer_class": "enterprise_institution", "account_size": "general"}
        r = await c.post("/v1/member-files", json=pending, headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 201, r.text
        pending["member_id"] = r.json()["member_id"]
    return {"carded": carded, "pending": pending}


@pytest.fixture
async def console_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members", "loyalty", "notify")) as s:
        await s.start_console()
        yield s


async def test_m04_m07_console_walkthrough(console_stack: Stack) -> None:
    from playwright.async_api import async_playwright

    stack = console_stack
    data = await seed(stack)
    url = stack.url("console")
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            ctx = await browser.new_context(viewport={"width": 820, "height": 1180}, locale="zh-CN")  # a tablet
            page = await ctx.new_page()

            async def log_in(staff_id: str, password: str = PASSWORD) -> None:
                await page.goto(f"{url}/login")
                await page.fill("input[name=staff_id]", staff_id)
                await page.fill("input[name=password]", password)
                await page.click("button[type=submit]")

            # a wrong password is refused by members, and the console says so (Chinese first)
            await page.goto(url + "/members")
            assert "/login" in page.url
            await log_in("C-CSM", "wrong-password-x")
            assert "工号或密码不正确" in await page.inner_text("[role=alert]")

            # O-02: log in; the session cookie holds the staff token, httponly and SameSite=Lax
            await log_in("C-CSM")
            cookie = next(c for c in await ctx.cookies() if c["name"] == "console_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
            await page.goto(url + "/profile")
            assert await page.inner_text("[data-field=staff_id]") == "C-CSM"
            assert "门店客服主管" in await page.inner_text("[data-field=role]")

            # M-04: the review queue shows the pending file; approving it issues the card
            await page.goto(url + "/reviews")
            row = page.locator(f"[data-review='{data['pending']['member_id']}']")
            assert await row.count() == 1
            await page.screenshot(path=str(SHOTS / "reviews-zh.png"), full_page=True)
            await row.locator("[data-approve]").click()
            await page.wait_for_selector("[data-done=approved]")
            assert await page.locator(f"[data-review='{data['pending']['member_id']}']").count() == 0

            # member search by card (htmx swaps the results in) and by mobile, then the member page
            await page.goto(url + "/members")
            await page.fill("input[name=card_no]", data["carded"]["card_no"])
            await page.click("form.row button[type=submit]")
            await page.wait_for_selector(f"[data-member='{data['carded']['member_id']}']")
            await page.goto(url + "/members")
            await page.fill("input[name=mobile]", data["pending"]["mobile"])
            await page.click("form.row button[type=submit]")
            hit = page.locator(f"[data-member='{data['pending']['member_id']}']")
            await hit.wait_for()
            await page.screenshot(path=str(SHOTS / "search-zh.png"), full_page=True)
            await page.goto(url + "/members?name=" + "郑")  # by name (prefix), as a bookmarkable URL
            assert await page.locator(f"[data-member='{data['carded']['member_id']}']").count() == 1
            await page.go_back()
            await hit.locator("a").click()
            await page.wait_for_selector("[data-file]")
            card = await page.inner_text("[data-field=card_no]")
            assert card.strip() not in ("", "—"), "approved file has its card"
            assert "孙" in await page.inner_text("[data-field=full_name]")
            await page.screenshot(path=str(SHOTS / "member-zh.png"), full_page=True)

            # language: English on request, remembered across pages
            await page.click("[data-lang-switch]")
            await page.wait_for_selector("[data-file]")
            assert "Member file" in await page.inner_text("main")
            await page.goto(url + "/members")
            assert "Member search" in await page.inner_text("h1")
            await page.screenshot(path=str(SHOTS / "search-en.png"), full_page=True)
            await page.click("[data-lang-switch]")
            assert "会员查询" in await page.inner_text("h1")

            # M-07: a store manager of another store finds nothing and is refused the file itself
            await page.click("[data-logout]")
            await page.wait_for_url("**/login*")
            await log_in("C-GM2")
            await page.goto(f"{url}/members?mobile={data['carded']['mobile']}")
            assert await page.locator("[data-empty]").count() == 1
            assert await page.locator("[data-member]").count() == 0
            resp = await page.goto(f"{url}/members/{data['carded']['member_id']}")
            assert resp is not None and resp.status == 403
            refusal = await page.inner_text("[data-refusal]")
            assert "members" in refusal and "M-07" in refusal
            await page.screenshot(path=str(SHOTS / "refused-other-store.png"), full_page=True)
            assert await page.locator("[data-nav=reviews]").count() == 0  # not a screen of the store manager

            # the store's own manager sees the member
            await page.click("[data-logout]")
            await log_in("C-GM")
            await page.goto(f"{url}/members?mobile={data['carded']['mobile']}")
            assert await page.locator(f"[data-member='{data['carded']['member_id']}']").count() == 1
        finally:
            await browser.close()


@pytest.fixture
async def office_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members", "loyalty", "credit", "notify", "gateway")) as s:
        await s.start_console()
        yield s


async def test_l02_c07_n01_adjustment_second_approver_campaign_pause_resume_aging_download(
        office_stack: Stack) -> None:
    from openpyxl import load_workbook
    from playwright.async_api import async_playwright

    stack = office_stack
    data = await seed(stack)
    member = data["carded"]["member_id"]
    url = stack.url("console")
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            ctx = await browser.new_context(viewport={"width": 820, "height": 1180}, accept_downloads=True)
            page = await ctx.new_page()

            async def log_in(staff_id: str) -> None:
                await ctx.clear_cookies()
                await page.goto(f"{url}/login")
                await page.fill("input[name=staff_id]", staff_id)
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_selector("[data-nav=profile]")

            async def request_adjustment(points: str, reason: str) -> None:
                await page.goto(f"{url}/members/{member}")
                form = page.locator("[data-adjust]")
                await form.locator("select[name=program]").select_option("jewelry")
                await form.locator("input[name=points]").fill(points)
                await form.locator("input[name=reason]").fill(reason)
                await form.locator("button[type=submit]").click()
                await page.wait_for_selector("[data-done=requested]")

            # L-02: the store's customer-service manager asks; they cannot decide (no buttons, HQ decides)
            await log_in("C-CSM")
            await request_adjustment("300", "补录：顾客生日活动积分")
            row = page.locator(f"[data-adjustment-member='{member}']")
            assert await row.count() == 1 and await row.locator("[data-approve]").count() == 0
            await page.screenshot(path=str(SHOTS / "adjustments-requested-zh.png"), full_page=True)

            # L-02: a person never approves their own request — loyalty refuses, the console shows why
            await log_in("C-HQADM")
            await request_adjustment("-50", "重复积分冲正 receipt 2026")
            own = page.locator(f"[data-adjustment-member='{member}']").filter(has_text="C-HQADM")
            await own.locator("[data-approve]").click()
            refusal = await page.inner_text("[data-refusal]")
            assert "loyalty" in refusal and "L-02" in refusal

            # the second person (HQ customer service) approves both; the points are booked
            await log_in("C-HQCS")
            await page.goto(f"{url}/adjustments")
            for _ in range(2):
                await page.locator(f"[data-adjustment-member='{member}'] [data-approve]").first.click()
                await page.wait_for_selector("[data-done=adj_approved]")
            assert await page.locator(f"[data-adjustment-member='{member}']").count() == 0
            async with httpx.AsyncClient() as c:
                r = await c.get(f"{stack.url('loyalty')}/v1/members/{member}/ledger",
                                headers={"Authorization": f"Bearer {stack.cfg.admin_token}"})
            assert sorted(e["points"] for e in r.json()["entries"]) == [-50, 300]

            # the member page's sections, each from its owning service: the ledger with cause and operator
            # (requester → approver, L-02), filtered by kind; file and card history; tiers; stored value; messages
            await page.goto(f"{url}/members/{member}")
            ledger = page.locator("[data-section=ledger]")
            await ledger.locator("[data-ledger]").wait_for()
            operators = await ledger.locator("[data-operator]").all_inner_texts()
            assert sorted(operators) == ["C-CSM → C-HQCS", "C-HQADM → C-HQCS"], operators
            assert "补录：顾客生日活动积分" in await ledger.inner_text()
            await ledger.locator("[data-ledger-kind]").select_option("earn")
            await page.locator("[data-section=ledger] [data-empty]").wait_for()  # no sale earned points yet
            history = page.locator("[data-section=history]")
            await history.locator("[data-cards]").wait_for()
            assert await history.locator(f"[data-card='{data['carded']['card_no']}']").count() == 1
            assert await history.locator("[data-event=opened]").count() == 1
            await page.locator("[data-section=tiers] [data-standing]").wait_for()
            assert "jewelry" in await page.inner_text("[data-section=tiers]")
            await page.locator("[data-section=stored_value]").wait_for()
            await page.locator("[data-section=revisits]").wait_for()
            # O-02: notify gives the message log to HQ admins only; the section says so, the page still works
            assert "notify" in await page.inner_text("[data-section=messages] [data-refusal]")
            await page.screenshot(path=str(SHOTS / "member-sections-zh.png"), full_page=True)

            # N-01: the HQ admin pauses and resumes a campaign through notify
            start = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
            r = await stack.admin.post(f"{stack.url('notify')}/v1/campaigns", json={
                "name": "中秋会员答谢", "segment": {"store_ids": ["XA-901"]}, "scheduled_at": start,
                "template_body": "中秋快乐，到店领取月饼礼盒。"})
            assert r.status_code == 201, r.text
            cid = r.json()["campaign_id"]
            await log_in("C-HQADM")
            await page.click("[data-nav=campaigns]")
            await page.locator(f"[data-campaign='{cid}'] [data-pause]").click()
            await page.wait_for_selector(f"[data-done=paused] >> xpath=//following::*[@data-campaign='{cid}']"
                                         "[@data-status='paused']")
            await page.screenshot(path=str(SHOTS / "campaigns-paused-zh.png"), full_page=True)
            await page.locator(f"[data-campaign='{cid}'] [data-resume]").click()
            await page.wait_for_selector("[data-done=resumed]")
            assert await page.get_attribute(f"[data-campaign='{cid}']", "data-status") in ("scheduled", "running")

            # CSRF: a page on another site posting the pause form in the HQ admin's browser is refused
            evil = (f'<form method="post" action="{url}/campaigns/{cid}"><input name="action" value="pause">'
                    '<button id="go" type="submit">win a prize</button></form>')
            await page.route("http://evil.test/**", lambda route: route.fulfill(body=evil, content_type="text/html"))
            await page.goto("http://evil.test/")
            async with page.expect_navigation() as nav:
                await page.click("#go")
            forged = await nav.value
            assert forged is not None and forged.status == 403
            await page.goto(f"{url}/campaigns")
            assert await page.get_attribute(f"[data-campaign='{cid}']", "data-status") in ("scheduled", "running")

            # the dashboard as HQ admin: every tile, each from its owning service
            await page.goto(f"{url}/")
            await page.wait_for_selector("[data-tile=today]")
            assert "/dashboard" in page.url
            shown = await page.eval_on_selector_all("[data-tile]", "els => els.map(e => e.dataset.tile)")
            assert shown == ["today", "reviews", "liability", "stored_value", "sms", "credit"], shown
            assert await page.locator("[data-tile] [data-refusal]").count() == 0
            assert int(await page.inner_text("[data-tile=today] [data-store='XA-901'] td:nth-child(2)")) >= 2
            assert int(await page.inner_text("[data-figure=points]")) >= 250  # the approved adjustments
            await page.screenshot(path=str(SHOTS / "dashboard-hq-admin-zh.png"), full_page=True)

            # reports: CSV in UTF-8 with a BOM and Chinese headers, XLSX that openpyxl opens
            await page.goto(f"{url}/reports/liability")
            await page.wait_for_selector("[data-report-table=liability]")
            await page.screenshot(path=str(SHOTS / "report-liability-zh.png"), full_page=True)
            async with page.expect_download() as dl:
                await page.click("[data-download=csv]")
            await (await dl.value).save_as(SHOTS / "liability.csv")
            raw = (SHOTS / "liability.csv").read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") and raw.decode("utf-8-sig").startswith("维度,项目,积分")
            assert "program,jewelry," in raw.decode("utf-8-sig")
            async with page.expect_download() as dl:
                await page.click("[data-download=xlsx]")
            await (await dl.value).save_as(SHOTS / "liability.xlsx")
            ws = load_workbook(SHOTS / "liability.xlsx")["liability"]
            assert [c.value for c in ws[1]][:3] == ["维度", "项目", "积分"]
            assert any(r[0] == "program" and r[1] == "jewelry" and isinstance(r[2], int)
                       for r in ws.iter_rows(min_row=2, values_only=True))

            # the dashboard as a store manager: only their store's day and credit; no HQ figures (O-02)
            await log_in("C-GM")
            await page.goto(f"{url}/dashboard")
            shown = await page.eval_on_selector_all("[data-tile]", "els => els.map(e => e.dataset.tile)")
            assert shown == ["today", "credit"], shown
            stores = await page.eval_on_selector_all("[data-today] [data-store]",
                                                     "els => els.map(e => e.dataset.store)")
            assert stores == ["XA-901"], stores
            await page.screenshot(path=str(SHOTS / "dashboard-store-manager-zh.png"), full_page=True)
            resp = await page.goto(f"{url}/reports/liability")  # loyalty refuses HQ reports to a store (O-02)
            assert resp is not None and resp.status == 403 and "loyalty" in await page.inner_text("[data-refusal]")

            # C-07: the aging report, and its workbook downloaded through the console opens in openpyxl
            await page.click("[data-nav=aging]")
            await page.wait_for_selector("[data-aging]")
            await page.screenshot(path=str(SHOTS / "aging-zh.png"), full_page=True)
            async with page.expect_download() as dl:
                await page.click("[data-download=xlsx]")
            download = await dl.value
            if not download.suggested_filename.endswith(".xlsx"):
                await download.save_as(SHOTS / "aging-refused.html")
                pytest.fail((SHOTS / "aging-refused.html").read_text()[-1500:])
            await download.save_as(SHOTS / "aging.xlsx")
            wb = load_workbook(SHOTS / "aging.xlsx")
            assert {"customer", "staff", "store", "region"} <= set(wb.sheetnames)

            # O-02: plain staff get no aging screen, and credit refuses the report if asked directly
            await log_in("C-REF")
            assert await page.locator("[data-nav=aging]").count() == 0
            resp = await page.goto(f"{url}/reports/aging")
            assert resp is not None and resp.status == 403 and "credit" in await page.inner_text("[data-refusal]")
            await log_in("C-CSM")  # O-02: campaigns are HQ's; notify refuses a store's manager
            assert await page.locator("[data-nav=campaigns]").count() == 0
            resp = await page.goto(f"{url}/campaigns")
            assert resp is not None and resp.status == 403 and "notify" in await page.inner_text("[data-refusal]")
        finally:
            await browser.close()


def test_screenshots_dir_is_under_run() -> None:
    assert Path(SHOTS).is_relative_to(ROOT / ".run")
