"""The console's ops page in a real browser (issue 13, item 4; Debian's chromium driven by Playwright). An HQ
customer-service person is refused the page (O-02); an HQ admin opens it and sees every service's instances with
their readiness (services that are not running shown as unavailable, not as an error), a sale loyalty dead-lettered
(its store was not registered yet), inspects it, and — once the store is registered — replays it: loyalty applies it
once and the audit names the admin who is logged in. No trace viewer is configured here, and the page says so.
Screenshots go to .run/console/."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from devstack.testing import InProcessServer, Stack, StackConfig, produce, sql_value, wait_for
from loyalty.adapters.tables import stores

from tests.console.test_console_walkthrough import CHROMIUM, PASSWORD, SHOTS
from tests.reliability.test_delivery_guarantees import record, sale_event
from tests.reliability.test_dlq_redrive import loyalty_refusing_unknown_stores

pytestmark = pytest.mark.integration


@pytest.fixture
async def ops_stack(stack_config: StackConfig) -> Any:
    """members (logins) and a loyalty that dead-letters sales of unknown stores, and the console."""
    async with Stack(stack_config, services=("members",)) as s:
        rt, app, _ = loyalty_refusing_unknown_stores(stack_config)
        await s._exit.enter_async_context(InProcessServer(app, stack_config.port("loyalty")))
        await s.start_console()
        yield s, rt


async def seed_staff(stack: Stack) -> None:
    m = stack.url("members")
    r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": "HQ", "name": "总部", "region_code": "000",
                                                        "program": "jewelry"})
    assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": "HQ", "role": role, "position": role, "name": "李运维", "password": PASSWORD}
        for s, role in (("O-ADM", "hq_admin"), ("O-HQCS", "hq_cs"))])
    assert r.status_code == 201, r.text


async def test_ops_page_instances_dead_letter_replayed_once(ops_stack: tuple[Stack, Any]) -> None:
    from playwright.async_api import async_playwright

    stack, rt = ops_stack
    cfg = stack.cfg
    await seed_staff(stack)
    sale = sale_event("M-OPS-1", 25000, 1)  # store XA-900: not registered in loyalty yet
    await produce(cfg.kafka_bootstrap, cfg.topic_prefix + "pos.sales", [record(sale)])
    eid = str(sale.id)
    url = stack.url("console")
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            ctx = await browser.new_context(viewport={"width": 1024, "height": 1366}, locale="zh-CN")
            page = await ctx.new_page()

            async def log_in(staff_id: str) -> None:
                await page.goto(f"{url}/login")
                await page.fill("input[name=staff_id]", staff_id)
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_load_state()

            # O-02: HQ customer service has no ops entry in the menu and is refused the page
            await log_in("O-HQCS")
            assert await page.locator("[data-nav=ops]").count() == 0
            r = await page.goto(f"{url}/ops")
            assert r is not None and r.status == 403
            assert "O-02" in await page.inner_text("[role=alert]")
            await page.click("[data-logout]")

            # the HQ admin opens it from the menu: every service's instances, loyalty's dead letter
            await log_in("O-ADM")
            await page.click("[data-nav=ops]")
            assert await page.inner_text("h1") == "运维监控"
            for svc in ("members", "loyalty"):
                row = page.locator(f"[data-instances] tr[data-service={svc}][data-state=up]")
                assert await row.count() == 1, svc
                assert "database: ok" in await row.inner_text() and "kafka: ok" in await row.inner_text()
            # gateway, credit and notify are not running in this test: shown unavailable, the page still works
            assert await page.locator("[data-instances] tr[data-service=gateway] [data-refusal='503']").count() == 1
            assert await page.locator("[data-no-viewer]").count() == 1

            async def dead_lettered() -> bool:
                await page.goto(f"{url}/ops")
                pending = page.locator(f"[data-dlq=loyalty] tr[data-entry='{eid}'][data-status=pending]")
                return await pending.count() == 1

            await wait_for(dead_lettered, 60, "the sale dead-lettered and shown", interval=1.0)
            depth = page.locator(f"[data-dlq=loyalty] [data-depth='{cfg.topic_prefix}pos.sales']")
            assert (await depth.inner_text()).endswith(": 1")
            await page.screenshot(path=str(SHOTS / "ops-zh.png"), full_page=True)

            # inspect: the reason, the original headers and body
            await page.click(f"[data-dlq=loyalty] tr[data-entry='{eid}'] [data-inspect]")
            await page.wait_for_selector(f"[data-entry='{eid}'][data-status=pending]")
            main = await page.inner_text("main")
            assert "not registered yet" in main and "ce_id" in main and "M-OPS-1" in main

            # the missing fact arrives; the admin replays the event; loyalty applies it once
            async with rt.engine.begin() as conn:
                await conn.execute(stores.insert().values(store_id="XA-900", program=rt.settings.default_program,
                                                          timezone="Asia/Shanghai"))
            await page.fill("input[name=note]", "门店已登记")
            await page.click("[data-replay]")
            await page.wait_for_selector("[data-done=replayed]")

            async def applied() -> bool:
                await page.reload()
                return await page.locator(f"[data-entry='{eid}'][data-status=applied]").count() == 1

            await wait_for(applied, 30, "the replayed sale applied", interval=1.0)
            assert await page.locator("[data-replay]").count() == 0  # applied: nothing left to do
            audit = page.locator("[data-audit] tr[data-action=replay]")
            assert await audit.count() == 1
            assert await audit.locator("[data-operator]").inner_text() == "O-ADM"  # the logged-in person
            assert "门店已登记" in await audit.inner_text()
            await page.screenshot(path=str(SHOTS / "ops-entry-zh.png"), full_page=True)

            # replayed once more through the owning service: still applied once (the inbox)
            async with httpx.AsyncClient(base_url=stack.url("loyalty"), timeout=30,
                                         headers={"Authorization": f"Bearer {cfg.admin_token}"}) as ops:
                r = await ops.post(f"/ops/dlq/{eid}:replay", json={"operator": "O-ADM"})
                assert r.status_code == 200 and r.json()["already_applied"] is True
            await asyncio.sleep(2.0)
            ledger = "SELECT count(*) FROM ledger WHERE member_id = 'M-OPS-1'"
            assert await sql_value(cfg, "loyalty", ledger) == 1

            # the page in English; the entry is no longer pending
            await page.goto(f"{url}/ops")
            await page.click("[data-lang-switch]")
            assert await page.inner_text("h1") == "Operations"
            assert await page.locator(f"[data-dlq=loyalty] tr[data-entry='{eid}'][data-status=applied]").count() == 1
            assert "No trace viewer configured" in await page.inner_text("[data-errors]")
            await page.screenshot(path=str(SHOTS / "ops-en.png"), full_page=True)
        finally:
            await browser.close()
