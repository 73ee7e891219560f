"""Opening balances through the console in a real browser (issue 12, M-19 → L-02): an HQ admin reads the opening
columns on the import screen, uploads customers with their old system's points and tier, watches the import finish,
and finds on the member page's ledger the `opening` entry with its cause (import and row) and operator — checked on
the page AND in loyalty's own ledger; a row with a bad opening balance is refused naming the field and the rule.
Screenshots: .run/console/opening-ledger-zh.png, opening-import-columns-en.png."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.testing import Stack, StackConfig, sql_value, wait_for

from tests.console.test_console_stores import STORE, browser_page, seed
from tests.console.test_console_walkthrough import PASSWORD, SHOTS, mobile

pytestmark = pytest.mark.integration


@pytest.fixture
async def opening_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members", "loyalty")) as s:
        await s.start_console()
        yield s


async def upload_as_hq_admin(page: Any, url: str, filename: str, text: str) -> tuple[str, str, list[list[str]]]:
    """Log in as the HQ admin, read the import screen's column help, upload `text` as a CSV to STORE, wait until the
    import is done with one row imported and one refused: the column help, the import id, the rejected-rows file."""
    await page.goto(f"{url}/login")
    await page.fill("input[name=staff_id]", "D-ADM")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.click("[data-nav=imports]")
    columns = await page.inner_text("[data-import-columns]")
    await page.fill("#upload input[name=store_id]", STORE)
    await page.set_input_files("#upload input[name=file]", files=[
        {"name": filename, "mimeType": "text/csv", "buffer": text.encode()}])
    await page.click("[data-upload-send]")
    await page.wait_for_url("**/imports/I*")
    import_id = page.url.rsplit("/", 1)[1]
    await page.wait_for_selector("[data-import-progress][data-status=done]", timeout=60_000)
    assert (await page.inner_text("[data-imported]"), await page.inner_text("[data-rejected]")) == ("1", "1")
    async with page.expect_download() as dl:
        await page.click("[data-rejected-download]")
    rows = list(csv.reader(io.StringIO(Path(await (await dl.value).path()).read_text("utf-8-sig"))))
    return str(columns), import_id, rows


async def test_m19_l02_hq_admin_imports_opening_balances_and_reads_them_on_the_ledger(opening_stack: Stack) -> None:
    from playwright.async_api import async_playwright

    stack = opening_stack
    await seed(stack)
    url = stack.url("console")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerows([["姓名", "手机号", "期初积分", "期初等级"], ["周美玲", mobile(), "2,400", "vip"],
                 ["吴国华", mobile(), "-10", ""]])
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser, page = await browser_page(pw)
        try:
            columns, import_id, rows = await upload_as_hq_admin(page, url, "老系统积分.csv", out.getvalue())
            assert "期初积分" in columns and "期初等级" in columns and "10,000,000" in columns
            assert rows[1][0] == "3" and rows[1][1] == ("opening_points: must be a whole number of points from 0 "
                                                        "to 10000000 (M-19)") and rows[1][2] == "吴国华"
            member = await sql_value(stack.cfg, "members", "SELECT member_id FROM members WHERE full_name = '周美玲'")
            assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE full_name = '吴国华'") == 0

            async def opened() -> Any:  # loyalty has taken the opening from members.events
                async with httpx.AsyncClient() as c:
                    r = await c.get(f"{stack.url('loyalty')}/v1/members/{member}/ledger",
                                    headers={"Authorization": f"Bearer {stack.cfg.admin_token}"})
                return r.json()["entries"] if r.status_code == 200 and r.json()["entries"] else None

            (entry,) = await wait_for(opened, 30, "the opening entry in loyalty's ledger")
            assert (entry["kind"], entry["points"], entry["detail"]["operator"]) == ("opening", 2400, "D-ADM")
            await page.goto(f"{url}/members/{member}")
            ledger = page.locator("[data-section=ledger]")
            row = ledger.locator("[data-kind=opening]")
            await row.wait_for()
            text = await row.inner_text()
            assert "期初积分" in text and "2400" in text and f"import {import_id} row 2" in text
            assert await row.locator("[data-operator]").inner_text() == f"D-ADM @ store {STORE}"
            await page.locator("[data-section=tiers] [data-standing]").wait_for()
            assert "vip" in await page.inner_text("[data-section=tiers]")
            await page.screenshot(path=str(SHOTS / "opening-ledger-zh.png"), full_page=True)
            await page.goto(f"{url}/imports")
            await page.click("[data-lang-switch]")
            assert "opening_points" in await page.inner_text("[data-import-columns]")
            await page.screenshot(path=str(SHOTS / "opening-import-columns-en.png"), full_page=True)
        finally:
            await browser.close()
