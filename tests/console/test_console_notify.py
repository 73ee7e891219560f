"""The notify screens in a real browser (issue 12, N-*): marketing (the HQ admin role) gives two members marketing
consent, builds a campaign whose recipient count follows the segment as it is edited, watches its counts and live
progress, pauses and resumes it; retries the message the provider refused (parked); edits a template and previews
it. Each step is checked on the page AND in notify (its counts, message state and operator audit). HQ customer
service gets no notify screen and notify refuses it (O-02). Screenshots go to .run/console/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from devstack.testing import ROOT, Stack, StackConfig, sql_value, wait_for

from tests.console.browser import tablet

SHOTS = ROOT / ".run" / "console"
PASSWORD = "console-pw-2026"
STORE = "NT-901"
pytestmark = pytest.mark.integration


def daytime_zone() -> str:
    """A time zone where it is about noon now: marketing is not held for quiet hours (N-03) whenever CI runs."""
    offset = (12 - datetime.now(UTC).hour + 12) % 24 - 12  # -12..+11 hours from UTC
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def mobile() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


async def seed(stack: Stack) -> list[str]:
    """A store at daytime, its staff, HQ's marketing admin and customer service, three members (in notify too)."""
    m = stack.url("members")
    r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": STORE, "name": "金缘珠宝 南通店",
                                                        "region_code": "513", "timezone": daytime_zone(),
                                                        "program": "jewelry"})
    assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "role": role, "position": role, "name": "王丽华", "password": PASSWORD}
        for s, st, role in (("N-REF", STORE, "staff"), ("N-MKT", STORE, "hq_admin"), ("N-HQCS", STORE, "hq_cs"))])
    assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{m}/v1/members", json=[
        {"store_id": STORE, "full_name": name, "mobile": mobile(), "referrer_staff_id": "N-REF"}
        for name in ("郑海燕", "孙美琪", "李晓华")])
    assert r.status_code == 201, r.text
    ids = [x["member_id"] for x in r.json()["members"]]
    await wait_for(lambda: _contacts(stack, 3), 30, "notify knows the three members")
    return ids


async def _contacts(stack: Stack, n: int) -> bool:
    return await sql_value(stack.cfg, "notify", "SELECT count(*) FROM contacts WHERE store_id=$1", STORE) == n


async def notify_get(stack: Stack, path: str, **params: Any) -> Any:
    r = await stack.admin.get(f"{stack.url('notify')}{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
async def notify_console(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members", "notify")) as s:
        await s.start_console()
        yield s


async def test_n01_n02_n03_n05_marketing_builds_watches_pauses_a_campaign_retries_parked_and_edits_a_template(
        notify_console: Stack) -> None:
    stack = notify_console
    members = await seed(stack)
    url = stack.url("console")
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with tablet(url, PASSWORD) as tab:
        page, log_in = tab.page, tab.log_in
        await log_in("N-MKT")
        await page.click("[data-nav=sms]")
        await page.wait_for_selector("[data-notify-tabs]")

        # N-03: marketing consent for two of the three members, through notify (audited with the operator)
        for mid in members[:2]:
            await page.goto(f"{url}/sms/consent")
            await page.fill("[data-member-id]", mid)
            await page.click("[data-find-member]")
            await page.locator(f"[data-preferences='{mid}'][data-consent=no]").wait_for()
            await page.select_option("[data-set-consent]", "yes")
            await page.click("[data-save-consent]")
            await page.locator(f"[data-done=n_saved] >> xpath=//following::*[@data-preferences='{mid}']"
                               "[@data-consent='yes']").wait_for()
        await page.screenshot(path=str(SHOTS / "notify-consent-zh.png"), full_page=True)
        assert (await notify_get(stack, f"/v1/members/{members[0]}/preferences"))["marketing_consent"] is True

        # N-01: the builder's recipient count follows the segment as it is edited (htmx → notify's preview)
        await page.click("[data-new-campaign]")
        count = page.locator("[data-count]")
        await page.fill("[data-seg=store_ids]", STORE)
        await page.locator("[data-count][data-recipients='2']").wait_for()  # consent only (the default): two
        assert await count.get_attribute("data-with-consent") == "2"
        await page.uncheck("[data-seg=consent_only]")
        await page.locator("[data-count][data-recipients='3']").wait_for()  # everyone; one will be suppressed
        await page.fill("[data-seg=tiers]", "no-such-tier")
        await page.locator("[data-count][data-recipients='0']").wait_for()
        await page.fill("[data-seg=tiers]", "")
        await page.locator("[data-count][data-recipients='3']").wait_for()
        await page.fill("[data-name]", "冬季新品品鉴会")
        await page.fill("[data-body]", "尊敬的{{ display_name }}，冬季新品品鉴会本周六举行。")
        await page.locator("[data-sample]").filter(has_text="退订回TD").wait_for()  # N-03 hint, 【brand】 first
        assert (await page.inner_text("[data-sample]")).split("\n")[-1].startswith("【金缘珠宝】尊敬的")
        await page.fill("[data-rate]", "1")
        await page.screenshot(path=str(SHOTS / "notify-builder-zh.png"), full_page=True)
        # N-05: the provider refuses the first message for good: it is parked, never lost
        r = await stack.admin.post(f"{stack.url('smssim')}/admin/fail", json={"count": 1, "status": 400})
        assert r.status_code == 200
        await page.click("[data-create]")
        await page.wait_for_selector("[data-done=n_created]")
        cid = page.url.split("/campaigns/")[1].split("?")[0]
        assert await page.locator("[data-progress][hx-trigger='every 1s']").count() == 1

        # pause and resume from the campaign's page; then its live progress runs until notify says done
        await page.click("[data-pause]")
        await page.wait_for_selector("[data-done=paused]")
        assert (await notify_get(stack, f"/v1/campaigns/{cid}"))["status"] == "paused"
        await page.click("[data-resume]")
        await page.wait_for_selector("[data-done=resumed]")
        await page.locator("[data-progress][data-status=done]").wait_for(timeout=60_000)  # polled, then stops
        assert await page.locator("[data-progress]").get_attribute("data-percent") == "100"
        assert await page.locator("[data-progress][hx-trigger]").count() == 0
        assert await page.locator("[data-pause], [data-resume]").count() == 0  # a finished campaign: no buttons
        assert await page.inner_text("[data-count-sent]") == "1"
        assert await page.inner_text("[data-count-failed]") == "1"
        await page.screenshot(path=str(SHOTS / "notify-campaign-progress-zh.png"), full_page=True)
        c = await notify_get(stack, f"/v1/campaigns/{cid}")
        assert c["status"] == "done" and c["recipients"] == 3
        assert (c["counts"]["sent"], c["counts"]["failed"], c["counts"]["suppressed"]["consent"]) == (1, 1, 1)
        await page.goto(f"{url}/campaigns?status=done")
        assert await page.get_attribute(f"[data-campaign='{cid}']", "data-status") == "done"

        # N-05: the parked message, with its reason; retried by the operator and sent
        await page.click("text=" + "发送失败待处理")
        row = page.locator("[data-parked] [data-message]")
        assert await row.count() == 1
        parked = await row.get_attribute("data-message")
        assert "400" in await row.inner_text()
        assert "139****" in await row.inner_text()  # N-06: masked
        await page.screenshot(path=str(SHOTS / "notify-parked-zh.png"), full_page=True)
        await row.locator("[data-retry]").click()
        await page.wait_for_selector("[data-done=n_retried]")

        async def sent() -> bool:
            return (await notify_get(stack, f"/v1/messages/{parked}"))["status"] in ("sent", "delivered")

        await wait_for(sent, 30, "the retried message is sent")
        history = (await notify_get(stack, f"/v1/messages/{parked}"))["history"]
        assert "operator retry by N-MKT" in [h["detail"] for h in history]
        # the message log, filtered by status at notify
        await page.goto(f"{url}/sms?status=sent")
        assert await page.locator(f"[data-message='{parked}'][data-status=sent]").count() == 1
        assert await page.locator("[data-message][data-status=parked]").count() == 0

        # N-02: edit a template, preview it with sample fields (refused when it reads what the event lacks)
        await page.goto(f"{url}/sms/templates?key=tier_changed&language=zh-CN")
        await page.click("[data-template='tier_changed/zh-CN'] [data-edit]")
        await page.fill("[data-body]", "恭喜{{ display_name }}升级为{{ to_tier_name }}，积分{{ points_balance }}")
        await page.fill("[data-fields]", "display_name=李*华\nto_tier_name=金卡会员")
        await page.click("[data-preview]")
        refusal = page.locator("#preview [data-refusal]")
        await refusal.wait_for()
        assert "N-02" in await refusal.inner_text() and "points_balance" in await refusal.inner_text()
        await page.fill("[data-body]", "恭喜{{ display_name }}升级为{{ to_tier_name }}，专属礼遇即日生效。")
        await page.click("[data-preview]")
        text = page.locator("#preview [data-preview-text]")
        await text.wait_for()
        assert await text.inner_text() == "【金缘珠宝】恭喜李*华升级为金卡会员，专属礼遇即日生效。"
        await page.screenshot(path=str(SHOTS / "notify-template-preview-zh.png"), full_page=True)
        await page.click("[data-save]")
        await page.wait_for_selector("[data-done=n_saved]")
        saved = [t for t in (await notify_get(stack, "/v1/templates"))["templates"]
                 if (t["key"], t["language"]) == ("tier_changed", "zh-CN")]
        assert [t["body"] for t in saved] == ["恭喜{{ display_name }}升级为{{ to_tier_name }}，专属礼遇即日生效。"]

        # O-02: every action above is in notify's audit with the operator of the token
        audit = (await notify_get(stack, "/v1/audit"))["entries"]
        assert [(e["operator"], e["action"]) for e in audit] == [
            ("N-MKT", "template.saved"), ("N-MKT", "message.retried"), ("N-MKT", "campaign.resumed"),
            ("N-MKT", "campaign.paused"), ("N-MKT", "campaign.created"), ("N-MKT", "preferences.changed"),
            ("N-MKT", "preferences.changed")]
        await page.goto(f"{url}/sms/audit?subject={cid}")
        assert await page.locator("[data-audit-entry]").count() == 3
        assert set(await page.locator("[data-operator]").all_inner_texts()) == {"N-MKT"}

        # English on request
        await page.click("[data-lang-switch]")
        assert "Operator audit" in await page.inner_text("h1")
        await page.click("[data-lang-switch]")

        # O-02: HQ customer service gets no notify screen, and notify refuses it
        await log_in("N-HQCS")
        assert await page.locator("[data-nav=sms]").count() == 0
        resp = await page.goto(f"{url}/sms/parked")
        assert resp is not None and resp.status == 403
        refusal_text = await page.inner_text("[data-refusal]")
        assert "notify" in refusal_text and "O-02" in refusal_text
