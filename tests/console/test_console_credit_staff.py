"""The credit screens in a real browser for plain store staff and for the tiers and lists added since (issue 12):
Debian's chromium driven by Playwright. A store staff member — whoever operated the bill (C-06) — finds their
store's group buyer, applies for a raise, records a payment, applies for an extension and proposes a write-off,
sells coupons and records a rebate's collection, reads their own liability; they see no decision, and a forged
decision is refused by credit itself (O-02), another store's account too. HQ finance sets a new version of the
rebate tiers (C-08) and the store manager reads the refused credit sales (C-04) and coupon conflicts (C-09) of
their own store only. Each step is checked on the page and in credit's records (the operator from the token).
Screenshots go to .run/console/."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from devstack.testing import Stack, StackConfig, sql_value, wait_for
from vipcore.auth import Role

from tests.console.browser import tablet
from tests.console.test_console_credit import seed
from tests.console.test_console_walkthrough import PASSWORD, SHOTS
from tests.credit.helpers import emit, staff
from tests.credit.test_tenancy import recorded
from tests.credit.test_tiers_conflicts_refusals import coupon_sale_event

pytestmark = pytest.mark.integration


@pytest.fixture
async def credit_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members", "gateway", "credit")) as s:
        await s.start_console()
        yield s


async def add_staff(stack: Stack, *people: tuple[str, str, str]) -> None:
    r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "role": role, "position": role, "name": "李明", "password": PASSWORD}
        for s, st, role in people])
    assert r.status_code == 201, r.text


async def draw(stack: Stack, prefix: str, face_value: int, count: int) -> list[str]:
    c = stack.url("credit")
    r = await stack.admin.post(f"{c}/v1/coupon-batches", json={
        "prefix": prefix, "face_value": face_value, "count": count,
        "expires_on": (date.today() + timedelta(days=365)).isoformat()})
    assert r.status_code == 201, r.text
    return list(r.json()["coupon_nos"])


async def test_c06_o02_store_staff_act_on_credit_in_the_browser_and_credit_refuses_what_they_may_not(
        credit_stack: Stack) -> None:
    stack = credit_stack
    data = await seed(stack)
    xa, rid = data["xa"], data["rid"]
    await add_staff(stack, ("C-OP", "XA-901", "staff"))
    c, url = stack.url("credit"), stack.url("console")
    # a rebate approved for the XA buyer (1% of its 900 yuan: 9 yuan), and coupons to sell and to hand over
    assert (await stack.admin.put(f"{c}/v1/rebate-tiers", json={"tiers": [{"min_purchases": 50_000,
                                                                            "rate_bp": 100}]})).status_code == 200
    today = date.today()
    (rb,) = (await stack.admin.post(f"{c}/v1/rebate-runs", json={  # the seed's sale is of 2026-11-22
        "start": "2026-11-01", "end": (today + timedelta(days=1)).isoformat()})).json()["rebates"]
    async with staff(stack, Role.STORE_MANAGER, "C-GM", store_id="XA-901") as manager:  # another person decides
        slip = (await manager.post(f"/v1/rebates/{rb['rebate_id']}/decision", json={"approve": True})).json()[
            "slip_no"]
    sell_nos = await draw(stack, "GB-", 10_000, 2)
    (rebate_no,) = await draw(stack, "RB-", 900, 1)
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def credit_sql(query: str, *args: Any) -> Any:
        return await sql_value(stack.cfg, "credit", query, *args)

    async with tablet(url, PASSWORD) as tab:
        page = tab.page
        await tab.log_in("C-OP")
        await page.click("[data-nav=credit]")
        await page.wait_for_selector("[data-list=accounts]")
        assert await page.locator(f"[data-account='{xa}']").count() == 1
        assert await page.locator(f"[data-account='{data['sz']}']").count() == 0  # O-02: their store only
        shown = set(await page.locator("[data-credit-tabs] a").evaluate_all("els => els.map(e => e.dataset.tab)"))
        assert shown == {"accounts", "authorizations", "receivables", "payments", "staff", "rebates", "coupon_sales"}

        # the account: a raise applied for and a cash payment recorded; no decision, no suspension, no cheque
        await page.goto(f"{url}/credit/accounts/{xa}")
        assert await page.locator("[data-suspension]").count() == 0
        await page.locator("[data-raise-form]").locator("xpath=..").locator("summary").click()
        form = page.locator("[data-raise-form]")
        await form.locator("input[name=extra_cases]").fill("3")
        await form.locator("input[name=reason]").fill("元旦团购备货")
        await form.locator("input[name=application_ref]").fill("APP-OP-1")
        await form.locator("input[name=expires_on]").fill((today + timedelta(days=40)).isoformat())
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=raise_requested]")
        assert await page.locator("[data-raise][data-status=pending]").count() == 1
        assert await page.locator("[data-raise] [data-approve]").count() == 0
        raise_id = await credit_sql("SELECT raise_id FROM limit_raises WHERE customer_id=$1", xa)
        assert await credit_sql("SELECT requested_by || ' ' || status FROM limit_raises WHERE raise_id=$1",
                                raise_id) == "C-OP pending"
        await page.locator("[data-payment-form]").locator("xpath=..").locator("summary").click()
        pay = page.locator("[data-payment-form]")
        await pay.locator("select[name=method]").select_option("cash")
        await pay.locator("input[name=amount]").fill("100")
        await pay.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=payment_recorded]")
        assert await credit_sql("SELECT recorded_by || ' ' || amount FROM payments WHERE customer_id=$1", xa) == \
            "C-OP 10000"

        # the invoice: an extension applied for and a write-off proposed; both land back on the receivables
        await page.goto(f"{url}/credit/receivables?customer_id={xa}")
        row = page.locator(f"[data-receivable='{rid}']")
        await row.locator("summary").click()
        await row.locator("[data-extension-form] input[name=new_due_date]").fill(
            (today + timedelta(days=60)).isoformat())
        await row.locator("[data-extension-form] input[name=reason]").fill("节后付款")
        await row.locator("[data-extension-form] button[type=submit]").click()
        await page.wait_for_selector("[data-done=extension_requested]")
        assert "/credit/receivables" in page.url
        row = page.locator(f"[data-receivable='{rid}']")
        await row.locator("summary").click()
        await row.locator("[data-writeoff-form] input[name=reason]").fill("客户失联")
        await row.locator("[data-writeoff-form] button[type=submit]").click()
        await page.wait_for_selector("[data-done=writeoff_requested]")
        assert await credit_sql("SELECT requested_by FROM due_extensions WHERE receivable_id=$1", rid) == "C-OP"
        assert await credit_sql("SELECT requested_by || ' ' || status FROM writeoffs WHERE receivable_id=$1",
                                rid) == "C-OP pending"

        # coupons sold to an organisation, paid in cash (C-09), and the rebate's collection against its slip (C-08)
        await page.click("[data-tab=coupon_sales]")
        sell = page.locator("[data-sell]")
        await sell.locator("input[name=unit]").fill("西安市第一中学工会")
        await sell.locator("input[name=contact]").fill("赵老师")
        await sell.locator("input[name=phone]").fill("13700001111")
        await sell.locator("select[name=payment_method]").select_option("cash")
        await sell.locator("textarea[name=coupon_nos]").fill(" ".join(sell_nos))
        await sell.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=coupons_sold]")
        assert "137****1111" in await page.inner_text("[data-coupon-sale]")  # masked (N-06)
        assert await page.locator("[data-cheque]").count() == 0
        assert await credit_sql("SELECT sold_by || ' ' || amount FROM coupon_sales") == "C-OP 20000"
        await page.click("[data-tab=rebates]")
        collect = page.locator(f"[data-rebate='{rb['rebate_id']}'] [data-collect]")
        assert await page.locator("[data-rebate-run]").count() == 0  # computing rebates is the office's
        await collect.locator("textarea[name=coupon_nos]").fill(rebate_no)
        await collect.locator("input[name=collected_by]").fill("王会计")
        await collect.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=collected]")
        assert await page.inner_text(f"[data-rebate='{rb['rebate_id']}'] [data-recorded-by]") == "C-OP"
        assert await credit_sql("SELECT status || ' ' || slip_no || ' ' || collection_recorded_by FROM rebates") \
            == f"collected {slip} C-OP"

        # their own liability statement, no other; in English too
        await page.click("[data-tab=staff]")
        assert await page.input_value("input[name=staff_id]") == "C-OP"
        assert await page.inner_text("[data-liability-total]") == "0.00"
        await page.screenshot(path=str(SHOTS / "credit-staff-zh.png"), full_page=True)
        await page.click("[data-lang-switch]")
        await page.wait_for_selector("[data-credit-tabs]")
        assert "Coupon sales" in await page.inner_text("[data-credit-tabs]")
        await page.click("[data-lang-switch]")

        # what staff may not do, credit refuses — not only the console hiding it
        status, text = await page.evaluate("""async (rid) => {
            const csrf = document.querySelector('input[name=csrf]').value;
            const r = await fetch('/credit/decisions/raises/' + rid, {method: 'POST',
                headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                body: 'csrf=' + encodeURIComponent(csrf) + '&decision=approve'});
            return [r.status, await r.text()];
        }""", raise_id)
        assert status == 403 and "O-02" in text and "credit" in text
        assert await credit_sql("SELECT status || ' ' || coalesce(decided_by, '-') FROM limit_raises WHERE "
                                "raise_id=$1", raise_id) == "pending -"
        resp = await page.goto(f"{url}/credit/extensions")
        assert resp is not None and resp.status == 403 and "O-02" in await page.inner_text("[data-refusal]")
        resp = await page.goto(f"{url}/credit/accounts/{data['sz']}")
        assert resp is not None and resp.status == 404  # another store's buyer: as if missing
        resp = await page.goto(f"{url}/credit/staff?staff_id=C-GM")
        assert resp is not None and resp.status in (403, 404)  # someone else's statement
        assert await credit_sql("SELECT count(*) FROM writeoffs WHERE status='pending'") == 1


async def test_c08_c04_c09_finance_sets_rebate_tiers_and_the_store_manager_reads_refusals_and_conflicts(
        credit_stack: Stack) -> None:
    stack = credit_stack
    data = await seed(stack)
    url = stack.url("console")
    await emit(stack, recorded("XA-901", "R-NOAUTH-1", data["xa"], None, 12_300),
               recorded("SZ-901", "R-NOAUTH-2", data["sz"], None, 45_600), subject="k")
    await emit(stack, coupon_sale_event("XA-901", "R-CPN-1", "NOPE-1"), coupon_sale_event("XA-901", "R-CPN-2",
                                                                                          "NOPE-2"),
               coupon_sale_event("SZ-901", "R-CPN-3", "NOPE-3"), subject="anon")
    await wait_for(lambda: sql_value(stack.cfg, "credit", "SELECT 1 FROM credit_refusals HAVING count(*) = 2"), 30,
                   "the refused credit sales")
    await wait_for(lambda: sql_value(stack.cfg, "credit", "SELECT 1 FROM coupon_conflicts HAVING count(*) = 3"),
                   30, "the coupon conflicts")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # credit's HQ zone: the tiers' "today"

    async with tablet(url, PASSWORD) as tab:
        page = tab.page
        # -- HQ finance: the first version of the tiers, then next month's ----------------------------------
        await tab.log_in("C-FIN")
        await page.goto(f"{url}/credit/tiers")
        assert await page.locator("[data-empty]").count() == 1
        form = page.locator("[data-tiers-form]")
        await form.locator("input[name=floor_1]").fill("10000")
        await form.locator("input[name=rate_1]").fill("1")
        await form.locator("input[name=floor_2]").fill("50000")
        await form.locator("input[name=rate_2]").fill("2.5")
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=tiers_set]")
        first = page.locator("[data-tier-version][data-in-force]")
        assert await first.locator("[data-set-by]").inner_text() == "C-FIN"
        assert await first.locator("[data-rate]").all_inner_texts() == ["1.00%", "2.50%"]
        await page.locator("[data-tiers-form]").locator("xpath=..").locator("summary").click()
        form = page.locator("[data-tiers-form]")
        assert await form.locator("input[name=floor_2]").input_value() == "50000.00"  # today's tiers offered
        nxt = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        await form.locator("input[name=effective_from]").fill(nxt.isoformat())
        await form.locator("input[name=rate_2]").fill("3")
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=tiers_set]")
        assert await page.locator("[data-tier-version]").count() == 2
        assert await page.locator("[data-tier-version][data-in-force]").count() == 1  # next month's waits
        assert await sql_value(stack.cfg, "credit", "SELECT string_agg(set_by || ' ' || effective_from, ',' ORDER BY "
                               "version) FROM rebate_tier_versions") == f"C-FIN {today},C-FIN {nxt}"
        await page.screenshot(path=str(SHOTS / "credit-tiers-zh.png"), full_page=True)
        await page.goto(f"{url}/credit/refusals")
        assert await page.locator("[data-refusal-row]").count() == 2  # HQ: the chain

        # -- the XA store manager: their store's refusals and conflicts only; the tiers without a form -------
        await tab.log_in("C-GM")
        await page.goto(f"{url}/credit/refusals")
        rows = page.locator("[data-refusal-row]")
        assert await rows.count() == 1 and await rows.get_attribute("data-receipt") == "R-NOAUTH-1"
        assert "¥123.00" in await rows.inner_text() and "C-04" in await rows.inner_text()
        await page.screenshot(path=str(SHOTS / "credit-refusals-zh.png"), full_page=True)
        resp = await page.goto(f"{url}/credit/refusals?store_id=SZ-901")
        assert resp is not None and resp.status == 403 and "O-02" in await page.inner_text("[data-refusal]")
        await page.goto(f"{url}/credit/conflicts")
        assert set(await page.locator("[data-conflict]").evaluate_all("els => els.map(e => e.dataset.receipt)")) \
            == {"R-CPN-1", "R-CPN-2"}
        await page.fill("input[name=receipt_no]", "R-CPN-2")
        await page.click("[data-filters] button[type=submit]")
        await page.wait_for_url("**receipt_no=R-CPN-2*")
        assert await page.locator("[data-conflict]").count() == 1
        await page.goto(f"{url}/credit/tiers")
        assert await page.locator("[data-tier-version]").count() == 2
        assert await page.locator("[data-tiers-form]").count() == 0
