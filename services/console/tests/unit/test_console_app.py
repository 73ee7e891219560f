"""The console app without the other services: no session means the login page, odd input never a 500, htmx
served by the console itself (no CDN), a down owning service shown as such (O-02)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from console.bootstrap import build
from console.config import ConsoleSettings


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = build(ConsoleSettings(members_url="http://127.0.0.1:9", loyalty_url="http://127.0.0.1:9",  # nothing there
                                upstream_timeout_s=2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        yield c


async def test_pages_need_a_session_and_bad_cookies_mean_log_in_again(client: httpx.AsyncClient) -> None:
    for path in ("/", "/members", "/reviews", "/profile", "/adjustments", "/reports/aging", "/members/M1"):
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    r = await client.get("/members", cookies={"console_session": "not-a-token"})
    assert r.status_code == 303 and "console_session" in r.headers.get("set-cookie", "")
    r = await client.get("/login")
    assert r.status_code == 200 and "工号" in r.text and 'lang="zh-CN"' in r.text


async def test_every_guarded_page_sends_to_the_login_with_its_address(client: httpx.AsyncClient) -> None:
    """Pages.guarded on every route module: no session, the login with the page asked for (and its query) as
    `next`, and the session cookies dropped — before any owning service is asked (none runs here)."""
    cid = "00000000-0000-4000-8000-000000000001"
    for path in ("/dashboard", "/reports", "/reports/liability?period=2026-11", "/reports/kpi.xlsx",
                 "/reports/aging.csv", "/credit/accounts/C1", "/credit/staff", "/credit/tally",
                 "/credit/reconciliation", "/credit/receivables?overdue=true", "/campaigns", "/campaigns/new",
                 "/campaigns/new/count", f"/campaigns/{cid}",
                 f"/campaigns/{cid}/progress", "/sms", "/sms/parked", "/sms/templates",
                 "/sms/templates/k1/en", "/sms/consent", "/sms/audit", "/programs", "/programs/P1", "/desk", "/ops",
                 "/ops/dlq/members/E1", "/exports", "/exports/X1", "/exports/X1/file", "/members/M1/edit"):
        r = await client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"] == "/login?next=" + quote(path), path
        assert "console_session=" in r.headers.get("set-cookie", ""), path


async def test_language_switch_is_a_cookie_and_redirects_only_inside(client: httpx.AsyncClient) -> None:
    r = await client.get("/lang/en", params={"next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "console_lang=en" in r.headers["set-cookie"]
    r = await client.get("/login", cookies={"console_lang": "en"})
    assert "Staff ID" in r.text and 'lang="en"' in r.text
    assert (await client.get("/lang/fr")).status_code == 422


async def form_token(client: httpx.AsyncClient) -> str:
    """The CSRF token of this client: the cookie set on its first page, the same value in the page's forms."""
    r = await client.get("/login")
    m = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert m and client.cookies.get("console_csrf") == m.group(1)
    return m.group(1)


async def test_odd_input_is_refused_not_a_server_error(client: httpx.AsyncClient) -> None:
    assert (await client.post("/login", json={"staff_id": "x"})).status_code == 415
    tok = await form_token(client)
    r = await client.post("/login", content=f"csrf={tok}&staff_id=%00&password=x".encode(),
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422
    r = await client.post("/login", content=b"staff_id=" + b"a" * 20000,
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    r = await client.post("/login", content=b"staff_id=%ff&password=x",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422
    assert (await client.get("/members", params={"page": "99999999999999999999"})).status_code in (303, 422)


async def test_a_down_members_service_is_shown_as_unavailable(client: httpx.AsyncClient) -> None:
    r = await client.post("/login", data={"staff_id": "D-CSM", "password": "x" * 12,
                                          "csrf": await form_token(client)})
    assert r.status_code == 503 and "服务暂不可用" in r.text and "members" in r.text


async def test_htmx_is_served_by_the_console(client: httpx.AsyncClient) -> None:
    r = await client.get("/static/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200


async def test_csrf_every_form_post_needs_this_browsers_token_and_this_site(client: httpx.AsyncClient) -> None:
    tok = await form_token(client)
    set_cookie = (await httpx.AsyncClient(transport=client._transport, base_url="http://console").get("/login")
                  ).headers["set-cookie"]
    assert "console_csrf=" in set_cookie and "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie
    form = {"staff_id": "D-CSM", "password": "x" * 12}
    r = await client.post("/login", data=form)  # no token in the form
    assert r.status_code == 403 and "form token" in r.text
    r = await client.post("/login", data={**form, "csrf": tok[::-1]})  # a token that is not this browser's
    assert r.status_code == 403
    r = await client.post("/login", data={**form, "csrf": tok}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "Cross-site" in r.text  # another site's page posting here
    r = await client.post("/logout", data={"csrf": tok}, headers={"Origin": "null"})
    assert r.status_code == 403
    r = await client.post("/logout", data={"x": "1"})  # logout is a form like every other
    assert r.status_code == 403
    r = await client.post("/logout", data={"csrf": tok}, headers={"Origin": "http://console"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = await client.post("/login", data={**form, "csrf": tok}, headers={"Referer": "http://console/login"})
    assert r.status_code == 503  # the token and the site match: the form goes on to members (down here)
