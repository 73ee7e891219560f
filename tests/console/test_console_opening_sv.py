"""Opening stored value through the console in a real browser (issue 12, M-19 → L-11): an HQ admin reads the opening
stored-value column on the import screen, uploads customers with their old system's prepaid balance, watches the
import finish, and finds on the member page's stored value statement the `opening` entry labelled 期初储值 with its
cause (import and row) and operator — checked on the page AND in loyalty's stored-value ledger; the stored-value
report shows the balance as imported, not as a top-up; a row with a bad amount is refused naming the field and rule.
Screenshots: .run/console/opening-stored-value-zh.png, opening-stored-value-report-en.png."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from devstack.testing import Stack, StackConfig, sql_value, wait_for

from tests.console.test_console_opening import upload_as_hq_admin
from tests.console.test_console_stores import browser_page, seed
from tests.console.test_console_walkthrough import SHOTS, mobile

pytestmark = pytest.mark.integration

SV_RULE = "opening_stored_value: must be an amount in yuan from 0 to 1000000.00 with at most 2 decimals (M-19, L-11)"


@pytest.fixture
async def opening_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members", "loyalty")) as s:
        await s.start_console()
        yield s


async def test_m19_l11_hq_admin_imports_opening_stored_value_and_reads_it_on_the_statement(
        opening_stack: Stack) -> None:
    from playwright.async_api import async_playwright

    stack = opening_stack
    await seed(stack)
    url = stack.url("console")
    out = io.StringIO()
    csv.writer(out).writerows([["姓名", "手机号", "期初储值"], ["周美玲", mobile(), "2,000.50"],
                               ["吴国华", mobile(), "12.345"]])
    today = datetime.now(UTC).date()
    period = f"since={(today - timedelta(days=1)).isoformat()}&until={(today + timedelta(days=1)).isoformat()}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser, page = await browser_page(pw)
        try:
            columns, import_id, rows = await upload_as_hq_admin(page, url, "老系统储值.csv", out.getvalue())
            assert "期初储值" in columns and "1,000,000.00" in columns
            assert rows[1][0] == "3" and rows[1][1] == SV_RULE and rows[1][2] == "吴国华"
            assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE full_name = '吴国华'") == 0
            member = await sql_value(stack.cfg, "members", "SELECT member_id FROM members WHERE full_name = '周美玲'")

            async def opened() -> Any:  # loyalty has taken the opening stored value from members.events
                async with httpx.AsyncClient() as c:
                    r = await c.get(f"{stack.url('loyalty')}/v1/members/{member}/stored-value-ledger",
                                    headers={"Authorization": f"Bearer {stack.cfg.admin_token}"})
                return r.json()["entries"] if r.status_code == 200 and r.json()["entries"] else None

            (entry,) = await wait_for(opened, 30, "the opening entry in loyalty's stored-value ledger")
            assert (entry["kind"], entry["amount"], entry["paid"], entry["staff_id"]) == ("opening", 200050, 0,
                                                                                           "D-ADM")
            await page.goto(f"{url}/members/{member}")
            statement = page.locator("[data-section=stored_value]")
            row = statement.locator("[data-kind=opening]")
            await row.wait_for()
            text = await row.inner_text()
            assert "期初储值" in text and "2000.50" in text and f"import {import_id} row 2" in text
            assert await row.locator("[data-operator]").inner_text() == "D-ADM"
            assert "2000.50" in await statement.locator("[data-balances]").inner_text()
            await page.screenshot(path=str(SHOTS / "opening-stored-value-zh.png"), full_page=True)

            await page.goto(f"{url}/reports/stored_value?{period}")
            assert "不是本期充值" in await page.inner_text("[data-imported-note]")
            table = page.locator("[data-report-table=stored_value]")
            head = [h.strip() for h in await table.locator("thead th").all_inner_texts()]
            cells = [c.strip() for c in await table.locator("tbody tr").last.locator("td").all_inner_texts()]
            got = dict(zip(head, cells, strict=True))
            assert (got["导入期初（元）"], got["充值（元）"], got["期末（元）"]) == ("2000.5", "0.0", "2000.5"), got
            await page.click("[data-lang-switch]")
            assert "no top-up" in await page.inner_text("[data-imported-note]")
            await page.screenshot(path=str(SHOTS / "opening-stored-value-report-en.png"), full_page=True)
        finally:
            await browser.close()
