"""The member-file screens in a real browser (issue 12; Debian's chromium driven by Playwright), one day's work per
role, each checked on the page AND in members' state and audit:
- staff (the referrer): edits a file from the member page; the change sends it back to review (M-13);
- the store's customer-service manager: sees what changed and approves it on the member page; merges a duplicate
  by agreement keeping one referrer (M-06); blacklists a phone (M-16); asks for a file's deletion (M-15);
- HQ customer service: decides the deletion (M-15), reads the blacklist for every store (M-16);
- the store manager: finds a phone flagged with the listing store, sees the change record, may not merge (O-02).
And the gaps closed later (second walk-through): another store's CS manager gets no lift form for a listing and
members refuses a forced lift (O-02, store_id); HQ customer service rejects a deletion request with its note (M-15)
and lifts another store's listing; the listing store's CS manager lifts its listing with the reason (M-16: the file
active again, the entry kept with who and why, the lookup no longer flagged), reads HQ's note with the time against
the 12-hour target, and logs out — the session's refresh token then renews nothing at members (O-03).
Screenshots go to .run/console/files-*.png."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from devstack.testing import Stack, StackConfig, sql_value

from tests.console.browser import tablet
from tests.console.test_console_walkthrough import PASSWORD, SHOTS, mobile

pytestmark = pytest.mark.integration
STORE, OTHER = "XA-921", "SZ-921"


def complete(name: str, phone: str) -> dict[str, Any]:
    return {"full_name": name, "gender": "female", "mobile": phone, "birth_date": "--03-08",
            "address": "西安市雁塔区高新路25号3栋1201室", "work_unit": "西安某科技公司", "position": "经理",
            "customer_class": "enterprise_institution", "account_size": "key"}


async def seed(stack: Stack) -> dict[str, Any]:
    """A store and HQ with their people; files opened by the referrers, some approved (cards issued)."""
    m = stack.url("members")
    for sid, region in ((STORE, "029"), ("HQ", "000")):
        r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": sid, "name": f"金缘珠宝 {sid}",
                                                            "region_code": region, "program": "jewelry"})
        assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "role": role, "position": role, "name": "王丽华", "password": PASSWORD}
        for s, st, role in (("F-REF", STORE, "staff"), ("F-REF2", STORE, "staff"),
                            ("F-CSM", STORE, "store_cs_manager"), ("F-GM", STORE, "store_manager"),
                            ("F-HQCS", "HQ", "hq_cs"))])
    assert r.status_code == 201, r.text
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=m, timeout=30) as c:
        async def as_(staff_id: str) -> dict[str, str]:
            r = await c.post("/v1/auth/login", json={"staff_id": staff_id, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['token']}"}

        ref, ref2, csm = await as_("F-REF"), await as_("F-REF2"), await as_("F-CSM")
        for key, who, name in (("edited", ref, "周雅琴"), ("kept", ref, "韩雪梅"), ("dup", ref2, "韩雪梅"),
                               ("doomed", ref, "冯志强"), ("listed", ref, "钱大勇")):
            phone = mobile()
            r = await c.post("/v1/member-files", json=complete(name, phone), headers=who)
            assert r.status_code == 201, r.text
            out[key] = {"member_id": r.json()["member_id"], "mobile": phone, "name": name}
        for key in ("edited", "kept", "listed"):
            r = await c.post(f"/v1/member-files/{out[key]['member_id']}/review", json={"decision": "approve"},
                             headers=csm)
            assert r.status_code == 200, r.text
    return out


@pytest.fixture
async def files_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members",)) as s:
        await s.start_console()
        yield s


async def test_m13_m06_m16_m15_member_file_work_per_role(files_stack: Stack) -> None:
    stack = files_stack
    d = await seed(stack)
    url = stack.url("console")
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def one(sql: str, *args: Any) -> Any:
        return await sql_value(stack.cfg, "members", sql, *args)

    async with tablet(url, PASSWORD) as tab:
        page, log_in = tab.page, tab.log_in
        edited = d["edited"]["member_id"]

        # -- staff (the referrer): M-13, the change goes back through review ------------------------------
        await log_in("F-REF")
        assert await page.locator("[data-nav=blacklist]").count() == 0  # O-02: not a screen of staff
        await page.goto(f"{url}/members/{edited}")
        assert await page.locator("[data-file-review]").count() == 0  # staff do not review
        await page.click("[data-edit-file]")
        form = page.locator("[data-edit-form]")
        assert await form.locator("input[name=full_name]").input_value() == "周雅琴"  # the referrer sees it
        await form.locator("input[name=address]").fill("西安市碑林区南大街8号2单元502室")
        await form.locator("input[name=position]").fill("总经理")
        await page.screenshot(path=str(SHOTS / "files-edit-zh.png"), full_page=True)
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=changed]")
        assert await page.inner_text("[data-file] .tag") == "pending_review"
        row = page.locator("[data-changes] [data-change=changed]").first
        await row.wait_for()
        assert await row.get_attribute("data-by") == "F-REF"
        assert await row.locator("[data-field-changed]").count() == 2  # address and position, nothing else
        assert await one("SELECT count(*) FROM file_changes WHERE member_id=$1 AND kind='changed' AND by='F-REF'",
                         edited) == 1

        # -- the store's customer-service manager ------------------------------------------------------------
        await log_in("F-CSM")
        # M-13: sees what changed, approves on the member page
        await page.goto(f"{url}/members/{edited}")
        await page.locator("[data-changes] [data-field-changed=address]").wait_for()
        assert "南大街8号" in await page.inner_text("[data-changes]")
        await page.screenshot(path=str(SHOTS / "files-change-review-zh.png"), full_page=True)
        await page.locator("[data-file-review] [data-approve]").click()
        await page.wait_for_selector("[data-done=approved]")
        assert await one("SELECT status || ' ' || reviewed_by FROM members WHERE member_id=$1",
                         edited) == "active F-CSM"
        await page.goto(f"{url}/members/{edited}")
        await page.locator("[data-changes] [data-change=approved]").first.wait_for()
        history = page.locator("[data-section=history]")
        await history.locator("[data-event=changed]").wait_for()  # the file history shows the change
        assert "F-REF" in await history.locator("[data-event=changed]").inner_text()

        # M-06: the duplicate (same name, her second phone) is offered; merged keeping F-REF2 as referrer
        kept, dup = d["kept"]["member_id"], d["dup"]["member_id"]
        await page.goto(f"{url}/members/{kept}")
        offer = page.locator(f"[data-merge-form='{dup}']")
        await offer.wait_for()
        await offer.locator("select[name=referrer_staff_id]").select_option("F-REF2")
        await offer.locator("input[name=reason]").fill("同一顾客的第二个手机号；F-REF 与 F-REF2 同意由 F-REF2 维护")
        await page.screenshot(path=str(SHOTS / "files-merge-zh.png"), full_page=True)
        await offer.locator("[data-merge]").click()
        await page.wait_for_selector("[data-done=merged]")
        assert await page.inner_text("[data-file] dd:nth-of-type(7)") == "F-REF2"  # the referrer kept
        assert await one("SELECT status || ' ' || merged_into FROM members WHERE member_id=$1", dup) == \
            f"deleted {kept}"
        assert await one("SELECT merged_by || ' ' || referrer_staff_id || ' ' || dropped_referrer_staff_id "
                         "FROM merges WHERE kept_member_id=$1", kept) == "F-CSM F-REF2 F-REF"
        # a second merge of the same file is refused by members, shown with its rule and field
        await page.goto(f"{url}/members/{kept}")
        manual = page.locator("[data-merge-form='']")
        await manual.wait_for()
        await manual.locator("input[name=duplicate_member_id]").fill(dup)
        await manual.locator("input[name=reason]").fill("再次合并")
        await manual.locator("[data-merge]").click()
        refusal = page.locator("[data-refusal]")
        assert "M-08" in await refusal.inner_text() and await refusal.get_attribute("data-refusal") == "409"
        assert await page.locator("[data-refused-field=duplicate_member_id]").count() == 1

        # M-16: blacklist a member's phone; the member's file becomes blacklisted; a lookup flags the store
        listed = d["listed"]
        await page.goto(f"{url}/blacklist")
        add = page.locator("[data-blacklist-add]")
        await add.locator("input[name=full_name]").fill(listed["name"])
        await add.locator("input[name=mobile]").fill(listed["mobile"])
        await add.locator("input[name=reason]").fill("多次在店内辱骂店员")
        await add.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=blacklisted]")
        assert await page.locator(f"[data-listed='{STORE}']").count() == 1
        assert await one("SELECT listed_by FROM blacklist") == "F-CSM"
        assert await one("SELECT status FROM members WHERE member_id=$1", listed["member_id"]) == "blacklisted"

        # M-15: ask for a file's deletion with the reason
        doomed = d["doomed"]["member_id"]
        await page.goto(f"{url}/members/{doomed}")
        await page.fill("[data-request-deletion] input[name=reason]", "顾客本人书面要求注销会员资料")
        await page.click("[data-request-deletion] button[type=submit]")
        await page.wait_for_selector("[data-done=deletion_requested]")
        assert await page.locator(f"[data-member='{doomed}'] [data-approve]").count() == 0  # HQ decides
        assert await one("SELECT raised_by FROM requests WHERE kind='deletion' AND member_id=$1", doomed) == "F-CSM"

        # -- HQ customer service: decides the deletion; reads the blacklist of every store -----------------
        await log_in("F-HQCS")
        await page.goto(f"{url}/deletions")
        await page.screenshot(path=str(SHOTS / "files-deletions-hq-zh.png"), full_page=True)
        await page.locator(f"[data-member='{doomed}'] [data-approve]").click()
        await page.wait_for_selector("[data-done=deletion_approved]")
        assert await one("SELECT status FROM members WHERE member_id=$1", doomed) == "deleted"
        assert await one("SELECT decided_by FROM requests WHERE kind='deletion' AND member_id=$1",
                         doomed) == "F-HQCS"
        await page.click("[data-status=approved]")
        assert await page.inner_text(f"[data-member='{doomed}'] [data-decided-by]") == "F-HQCS"
        await page.goto(f"{url}/blacklist")
        assert await page.locator("[data-blacklist-add]").count() == 0  # the store lists; HQ reads
        assert listed["name"] in await page.inner_text("[data-blacklist]")
        assert await page.locator(f"[data-member='{doomed}']").count() == 0

        # -- the store manager: the phone flagged with the listing store; the change record; no merge ------
        await log_in("F-GM")
        await page.goto(f"{url}/blacklist")
        await page.fill("[data-blacklist-filter] input[name=mobile]", listed["mobile"])
        await page.click("[data-blacklist-filter] button[type=submit]")
        flag = await page.inner_text("[data-flag]")
        assert STORE in flag
        assert listed["name"] not in await page.inner_text("[data-blacklist]")  # masked for this role
        await page.screenshot(path=str(SHOTS / "files-blacklist-zh.png"), full_page=True)
        await page.click("[data-lang-switch]")
        assert "blacklisted by store" in await page.inner_text("[data-flag]")
        await page.screenshot(path=str(SHOTS / "files-blacklist-en.png"), full_page=True)
        await page.click("[data-lang-switch]")
        await page.goto(f"{url}/members/{kept}")
        await page.locator("[data-changes]").wait_for()
        assert await page.locator("#files-merge").count() == 0  # O-02: the CS manager merges
        resp = await page.goto(f"{url}/members/{kept}/duplicates")
        assert resp is not None and "O-02" in await page.inner_text("[data-refusal]")  # members refuses too
        assert await one("SELECT count(*) FROM access_log WHERE staff_id='F-GM' AND action='refused:read'") == 0


async def seed_lifting(stack: Stack, d: dict[str, Any]) -> dict[str, Any]:
    """Beyond `seed`: a second store with its customer-service manager and its own listing; the store's listing of
    an approved member's phone; a deletion request waiting for HQ."""
    m = stack.url("members")
    r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": OTHER, "name": f"金缘珠宝 {OTHER}",
                                                        "region_code": "755", "program": "jewelry"})
    assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{m}/v1/staff", json=[{"staff_id": "F-CSM2", "store_id": OTHER, "name": "李秀英",
                                                        "role": "store_cs_manager", "position": "store_cs_manager",
                                                        "password": PASSWORD}])
    assert r.status_code == 201, r.text
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=m, timeout=30) as c:
        csm, csm2 = [{"Authorization": "Bearer " + (await c.post("/v1/auth/login", json={
            "staff_id": s, "password": PASSWORD})).json()["token"]} for s in ("F-CSM", "F-CSM2")]
        r = await c.post("/v1/blacklist", json={"mobile": d["listed"]["mobile"], "full_name": d["listed"]["name"],
                                                "reason": "多次在店内辱骂店员"}, headers=csm)
        out["listed"] = {**d["listed"], "entry_id": r.json()["entry_id"]}
        r = await c.post("/v1/blacklist", json={"mobile": mobile(), "full_name": "孙三强", "reason": "逃单"},
                         headers=csm2)
        out["other_entry"] = r.json()["entry_id"]
        r = await c.post("/v1/deletion-requests", json={"member_id": d["doomed"]["member_id"],
                                                         "reason": "顾客本人书面要求注销"}, headers=csm)
        assert r.status_code == 201, r.text
    return out


async def test_m16_m15_o03_lift_a_listing_read_a_rejection_note_log_out(files_stack: Stack) -> None:
    stack = files_stack
    d = await seed(stack)
    d |= await seed_lifting(stack, d)
    url = stack.url("console")
    listed, entry = d["listed"], d["listed"]["entry_id"]
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def one(sql: str, *args: Any) -> Any:
        return await sql_value(stack.cfg, "members", sql, *args)

    async with tablet(url, PASSWORD) as tab:
        page, log_in = tab.page, tab.log_in

        # -- another store's CS manager: flagged with the listing store; no lift form; members refuses ---------
        await log_in("F-CSM2")
        await page.goto(f"{url}/blacklist")
        assert await page.locator(f"[data-entry='{entry}'] [data-lift]").count() == 0
        assert await page.locator(f"[data-entry='{d['other_entry']}'] [data-lift]").count() == 1  # its own store's
        await page.goto(f"{url}/blacklist?mobile={listed['mobile']}")
        assert STORE in await page.inner_text("[data-flag]")
        csrf = await page.locator("form[action='/logout'] input[name=csrf]").get_attribute("value")
        forced = await page.request.post(f"{url}/blacklist/{entry}/lift", form={"csrf": csrf, "reason": "已和解"},
                                         headers={"Origin": url})
        assert forced.status == 403 and "O-02" in await forced.text() and "store_id" in await forced.text()
        assert await one("SELECT lifted_at FROM blacklist WHERE entry_id=$1", entry) is None

        # -- HQ customer service: rejects the deletion request with the note; lifts OTHER's listing -----------
        await log_in("F-HQCS")
        doomed = d["doomed"]["member_id"]
        await page.goto(f"{url}/deletions")
        row = page.locator(f"[data-member='{doomed}']")
        await row.locator("[data-reject-note]").fill("该会员有未结清的赊销款，结清后再申请")
        await row.locator("[data-reject]").click()
        await page.wait_for_selector("[data-done=deletion_rejected]")
        assert await one("SELECT status || ' ' || decided_by || ' ' || decision_note FROM requests WHERE "
                         "member_id=$1", doomed) == "rejected F-HQCS 该会员有未结清的赊销款，结清后再申请"
        assert await one("SELECT status FROM members WHERE member_id=$1", doomed) == "pending_review"  # not deleted
        await page.goto(f"{url}/blacklist")
        other = page.locator(f"[data-entry='{d['other_entry']}'] [data-lift]")
        await other.locator("input[name=reason]").fill("总部复核：误列")
        await other.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=lifted]")
        assert await one("SELECT lifted_by FROM blacklist WHERE entry_id=$1", d["other_entry"]) == "F-HQCS"

        # -- the listing store's CS manager: lifts the listing; reads the rejection note; logs out -----------
        await log_in("F-CSM")
        refresh = next(c["value"] for c in await tab.ctx.cookies() if c["name"] == "console_refresh")
        await page.goto(f"{url}/blacklist")
        form = page.locator(f"[data-entry='{entry}'] [data-lift]")
        await form.locator("input[name=reason]").fill("顾客已道歉并赔偿，门店同意解除")
        await page.screenshot(path=str(SHOTS / "files-blacklist-lift-zh.png"), full_page=True)
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=lifted]")
        lifted = page.locator(f"[data-entry='{entry}']")
        assert "F-CSM" in await lifted.locator("[data-lifted-by]").inner_text()
        assert await lifted.locator("[data-lift-reason]").inner_text() == "顾客已道歉并赔偿，门店同意解除"
        await page.screenshot(path=str(SHOTS / "files-blacklist-lifted-zh.png"), full_page=True)
        assert await one("SELECT status FROM members WHERE member_id=$1", listed["member_id"]) == "active"
        assert await one("SELECT lifted_by || ' ' || lift_reason FROM blacklist WHERE entry_id=$1", entry) == \
            "F-CSM 顾客已道歉并赔偿，门店同意解除"
        await page.goto(f"{url}/blacklist?mobile={listed['mobile']}")
        assert await page.locator("[data-not-listed]").count() == 1  # the lookup no longer flags it
        await page.goto(f"{url}/members/{listed['member_id']}")
        history = page.locator("[data-section=history]")
        await history.locator("[data-event=blacklist_lifted]").wait_for()
        assert "F-CSM" in await history.locator("[data-event=blacklist_lifted]").inner_text()

        await page.goto(f"{url}/deletions?status=rejected")
        note = page.locator(f"[data-member='{doomed}'] [data-decision-note]")
        assert "结清后再申请" in await note.inner_text()
        age = await page.locator(f"[data-member='{doomed}'] [data-age]").inner_text()
        assert re.search(r"用时 [\d.]+ 小时", age) and "目标 12 小时" in age
        await page.screenshot(path=str(SHOTS / "files-deletion-rejected-zh.png"), full_page=True)

        await page.click("[data-logout]")
        await page.wait_for_url(re.compile(r".*/login$"))
        async with httpx.AsyncClient(base_url=stack.url("members"), timeout=30) as c:
            r = await c.post("/v1/auth/token:refresh", json={"refresh_token": refresh})
        assert r.status_code == 401 and r.json()["errors"][0]["rule"] == "O-03"  # revoked, not just forgotten
