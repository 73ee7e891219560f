"""The credit screens in a real browser (issue 12, C-01..C-09): Debian's chromium driven by Playwright, per role.
HQ finance records a cheque and draws a coupon batch; the store's customer-service manager applies for a raise and
proposes a write-off (no decision buttons); the store manager approves both, clears the cheque, reads the staff
member's liability and cannot reach another store's account; the auditor reads everything with no form, and a
forged decision is refused by credit (O-02). Each step is checked on the page and in credit's own records (who
did it, from the token). Screenshots go to .run/console/."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from devstack.testing import Stack, StackConfig, sql_value, wait_for

from tests.console.browser import tablet
from tests.console.test_console_walkthrough import PASSWORD, SHOTS
from tests.credit.helpers import authorize, credit_sale, pos

pytestmark = pytest.mark.integration


async def seed(stack: Stack) -> dict[str, Any]:
    """Two stores, credit people with logins, a group buyer of each store, an invoice of the XA buyer."""
    m, c = stack.url("members"), stack.url("credit")
    for sid, region in (("XA-901", "029"), ("SZ-901", "755"), ("HQ", "000")):
        r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": sid, "name": f"酒业 {sid}",
                                                            "region_code": region, "program": "generic"})
        assert r.status_code == 201, r.text
    people = [("C-FIN", "HQ", "hq_admin"), ("C-AUD", "HQ", "auditor"), ("C-GM", "XA-901", "store_manager"),
              ("C-CSM", "XA-901", "store_cs_manager"), ("C-GM2", "SZ-901", "store_manager")]
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": st, "role": role, "position": role, "name": "王丽华", "password": PASSWORD}
        for s, st, role in people])
    assert r.status_code == 201, r.text
    key = (await stack.admin.post(f"{stack.url('gateway')}/admin/stores/XA-901/api-keys")).json()["api_key"]
    await wait_for(lambda: sql_value(stack.cfg, "credit", "SELECT count(*) FROM stores WHERE store_id IN "
                                     "('XA-901', 'SZ-901') HAVING count(*) = 2"), 30, "credit to know the stores")
    accounts = {}
    for store, name in (("XA-901", "西安市高新区管委会"), ("SZ-901", "深圳湾酒业集团")):
        r = await stack.admin.post(f"{c}/v1/accounts", json={
            "name": name, "customer_class": "government", "contact_mobile": "13912345678", "store_id": store,
            "responsible_staff_id": "S-OP1", "line_leader_staff_id": "C-GM", "limit_amount": 10_000_000})
        assert r.status_code == 201, r.text
        accounts[store] = r.json()["customer_id"]
    async with pos(stack, key) as till:
        h = (await authorize(till, accounts["XA-901"], 2, 90_000, store_id="XA-901")).json()["authorization_id"]
        sale = credit_sale("R-C901", accounts["XA-901"], h, 90_000, store_id="XA-901")
        assert (await till.post("/v1/sales", json=sale)).status_code == 201

    async def invoice() -> Any:
        r = await stack.admin.get(f"{c}/v1/receivables", params={"customer_id": accounts["XA-901"]})
        return (r.json()["receivables"] or [None])[0]

    rec = await wait_for(invoice, 30, "the invoice of the credit sale")
    return {"xa": accounts["XA-901"], "sz": accounts["SZ-901"], "rid": rec["receivable_id"]}


@pytest.fixture
async def credit_stack(stack_config: StackConfig) -> Any:
    async with Stack(stack_config, services=("members", "gateway", "credit")) as s:
        await s.start_console()
        yield s


async def test_c02_c05_c06_c09_o02_credit_screens_per_role(credit_stack: Stack) -> None:
    stack = credit_stack
    data = await seed(stack)
    xa, rid = data["xa"], data["rid"]
    url = stack.url("console")
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def credit_sql(query: str, *args: Any) -> Any:
        return await sql_value(stack.cfg, "credit", query, *args)

    async with tablet(url, PASSWORD) as tab:
        page, log_in = tab.page, tab.log_in
        # -- HQ finance: both stores' accounts, a cheque recorded, a coupon batch drawn -----------------------
        await log_in("C-FIN")
        await page.click("[data-nav=credit]")
        await page.wait_for_selector("[data-list=accounts]")
        assert await page.locator(f"[data-account='{xa}']").count() == 1
        assert await page.locator(f"[data-account='{data['sz']}']").count() == 1
        await page.fill("input[name=q]", "深圳湾")
        await page.click("[data-filters] button[type=submit]")
        await page.wait_for_url("**q=*")
        assert await page.locator("[data-account]").count() == 1
        assert await page.locator(f"[data-account='{data['sz']}']").count() == 1
        await page.goto(f"{url}/credit/accounts/{xa}")
        assert "¥900.00" in await page.inner_text("[data-outstanding]")
        await page.locator("[data-payment-form]").locator("xpath=..").locator("summary").click()
        form = page.locator("[data-payment-form]")
        await form.locator("select[name=method]").select_option("cheque")
        await form.locator("input[name=amount]").fill("100.00")
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=payment_recorded]")
        assert await page.locator("[data-payment][data-status=pending]").count() == 1
        pay_id = await credit_sql("SELECT payment_id FROM payments WHERE customer_id=$1", xa)
        assert await credit_sql("SELECT recorded_by || ' ' || amount FROM payments WHERE payment_id=$1",
                                pay_id) == "C-FIN 10000"
        await page.screenshot(path=str(SHOTS / "credit-account-zh.png"), full_page=True)
        await page.click("[data-tab=batches]")
        draw = page.locator("[data-draw]")
        await draw.locator("input[name=prefix]").fill("GB-")
        await draw.locator("input[name=face_value]").fill("100")
        await draw.locator("input[name=count]").fill("5")
        await draw.locator("input[name=expires_on]").fill("2027-06-30")
        await draw.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=batch_drawn]")
        assert await page.inner_text("[data-batch] [data-in-stock]") == "5"
        assert await credit_sql("SELECT drawn_by FROM coupon_batches") == "C-FIN"
        await page.click("[data-tab=reconciliation]")
        await page.wait_for_selector("[data-reconciliation]")
        assert "¥500.00" in await page.inner_text("[data-figure=issued]")
        assert await page.locator("[data-close]").count() == 1  # finance closes months
        await page.click("[data-lang-switch]")
        await page.wait_for_selector("[data-reconciliation]")
        assert "Issued" in await page.inner_text("main") and "Coupon batches" in await page.inner_text("nav.tabs")
        await page.click("[data-lang-switch]")

        # -- the store's customer-service manager: applies, never decides --------------------------------------
        await log_in("C-CSM")
        await page.goto(f"{url}/credit/accounts/{xa}")
        await page.locator("[data-raise-form]").locator("xpath=..").locator("summary").click()
        raise_form = page.locator("[data-raise-form]")
        await raise_form.locator("input[name=extra_cases]").fill("2")
        await raise_form.locator("input[name=reason]").fill("春节备货")
        await raise_form.locator("input[name=application_ref]").fill("APP-2026-12")
        await raise_form.locator("input[name=expires_on]").fill("2027-02-28")
        await raise_form.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=raise_requested]")
        assert await page.locator("[data-raise][data-status=pending]").count() == 1
        assert await page.locator("[data-decide]").count() == 0 and await page.locator("[data-cheque]").count() == 0
        await page.goto(f"{url}/credit/receivables?customer_id={xa}")
        row = page.locator(f"[data-receivable='{rid}']")
        await row.locator("summary").click()
        await row.locator("[data-writeoff-form] input[name=reason]").fill("客户注销，无法追收")
        await row.locator("[data-writeoff-form] button[type=submit]").click()
        await page.wait_for_selector("[data-done=writeoff_requested]")
        assert await page.locator("[data-writeoff][data-status=pending]").count() == 1
        assert await credit_sql("SELECT requested_by FROM writeoffs WHERE receivable_id=$1", rid) == "C-CSM"
        # coupons sold to an organisation by cheque (C-09): held until the cheque clears (C-05)
        nos = await credit_sql("SELECT string_agg(coupon_no, ' ' ORDER BY coupon_no) FROM (SELECT coupon_no "
                               "FROM coupons ORDER BY coupon_no LIMIT 2) x")
        await page.click("[data-tab=coupon_sales]")
        sell = page.locator("[data-sell]")
        await sell.locator("input[name=unit]").fill("陕西省电力公司工会")
        await sell.locator("input[name=contact]").fill("刘建国")
        await sell.locator("input[name=phone]").fill("13987654321")
        await sell.locator("select[name=payment_method]").select_option("cheque")
        await sell.locator("textarea[name=coupon_nos]").fill(nos)
        await sell.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-done=coupons_sold]")
        sale_row = page.locator("[data-coupon-sale][data-status=pending]")
        assert await sale_row.count() == 1 and "139****4321" in await sale_row.inner_text()  # masked (N-06)
        assert await credit_sql("SELECT sold_by || ' ' || amount FROM coupon_sales") == "C-CSM 20000"
        assert await page.locator("[data-cheque]").count() == 0  # the CS manager does not settle cheques
        shanghai = datetime.now(ZoneInfo("Asia/Shanghai"))
        day = (shanghai + timedelta(days=1 if shanghai.hour >= 17 else 0)).date()  # the 17:00 tally's day
        await page.goto(f"{url}/credit/tally?date={day.isoformat()}")
        assert await page.inner_text("[data-figure=coupons_sold]") == "2"
        assert await page.locator("[data-tally] [data-method=cheque]").count() == 1

        # -- the store manager: decides, clears the cheque, reads liability; another store is not theirs -------
        await log_in("C-GM")
        await page.goto(f"{url}/credit/accounts")
        assert await page.locator(f"[data-account='{xa}']").count() == 1
        assert await page.locator(f"[data-account='{data['sz']}']").count() == 0  # O-02
        await page.goto(f"{url}/credit/accounts/{xa}")
        await page.locator("[data-raise] [data-approve]").click()
        await page.wait_for_selector("[data-done=decided]")
        assert await page.inner_text("[data-raise] [data-decided-by]") == "C-GM"
        assert "12 箱" in await page.inner_text("[data-effective]")  # the raise counts (C-02)
        await page.locator(f"[data-payment='{pay_id}'] [data-clear]").click()
        await page.wait_for_selector("[data-done=cheque_settled]")
        assert await page.inner_text(f"[data-payment='{pay_id}'] [data-settled-by]") == "C-GM"
        assert await credit_sql("SELECT status || ' ' || settled_by FROM payments WHERE payment_id=$1",
                                pay_id) == "cleared C-GM"
        await page.click("[data-tab=writeoffs]")
        await page.locator("[data-writeoff] [data-approve]").click()
        await page.wait_for_selector("[data-done=decided]")
        assert await page.locator("[data-writeoff][data-status=approved]").count() == 1
        await page.click("[data-writeoff] [data-liable]")
        await page.wait_for_selector("[data-list=liabilities]")
        assert await page.inner_text("[data-liability-total]") == "800.00"  # 900 less the cheque's 100 (C-06)
        await page.screenshot(path=str(SHOTS / "credit-liability-zh.png"), full_page=True)
        assert await credit_sql("SELECT decided_by FROM writeoffs WHERE receivable_id=$1", rid) == "C-GM"
        assert await credit_sql("SELECT string_agg(staff_id || ':' || kind || ':' || amount, ',' ORDER BY "
                                "kind) FROM staff_liabilities") == "S-OP1:charge:80000,C-GM:fine:8000"
        await page.goto(f"{url}/credit/coupon_sales?cheque_status=pending")
        await page.locator("[data-coupon-sale] [data-bounce]").click()
        await page.wait_for_selector("[data-done=cheque_settled]")  # back to the pending ones: none left
        assert await page.locator("[data-coupon-sale]").count() == 0
        await page.goto(f"{url}/credit/coupon_sales")
        assert await page.inner_text("[data-coupon-sale][data-status=bounced] [data-settled-by]") == "C-GM"
        assert await credit_sql("SELECT cheque_status || ' ' || cheque_settled_by FROM coupon_sales") == \
            "bounced C-GM"
        await page.click("[data-tab=batches]")
        assert await page.inner_text("[data-batch] [data-in-stock]") == "5"  # back in stock
        resp = await page.goto(f"{url}/credit/accounts/{data['sz']}")
        assert resp is not None and resp.status == 404 and "credit" in await page.inner_text("[data-refusal]")
        resp = await page.goto(f"{url}/credit/accounts?store_id=SZ-901")
        assert resp is not None and resp.status == 403 and "O-02" in await page.inner_text("[data-refusal]")

        # -- the auditor: reads everything, no form; a forged decision is refused by credit ---------------------
        await log_in("C-AUD")
        await page.goto(f"{url}/credit/payments")
        assert await page.locator(f"[data-payment='{pay_id}']").count() == 1
        await page.goto(f"{url}/credit/accounts/{xa}")
        for form in ("[data-decide]", "[data-payment-form]", "[data-raise-form]", "[data-suspension]",
                     "[data-cheque]"):
            assert await page.locator(form).count() == 0, form
        await page.screenshot(path=str(SHOTS / "credit-auditor-zh.png"), full_page=True)
        status, text = await page.evaluate("""async (cid) => {
            const csrf = document.querySelector('input[name=csrf]').value;
            const r = await fetch('/credit/accounts/' + cid + '/suspension', {method: 'POST',
                headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                body: 'csrf=' + encodeURIComponent(csrf) + '&action=suspend&reason=audit'});
            return [r.status, await r.text()];
        }""", xa)
        assert status == 403 and "O-02" in text and "credit" in text
        assert await credit_sql("SELECT suspended FROM credit_accounts WHERE customer_id=$1", xa) is False
