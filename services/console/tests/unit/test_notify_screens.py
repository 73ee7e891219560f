"""The notify screens against a fake notify: the builder's segment and live count, creation, progress polled until
done, retries, template previews, consent, the message log's filters — every call with the logged-in person's
token and never an operator field (notify names the operator from the token, O-02); notify's refusals shown."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from console.adapters.upstream import Refusal, Upstream
from console.bootstrap import HERE
from console.domain import notify as dom
from console.domain.screens import menu
from console.entrypoints import notify_http
from console.entrypoints.http import Pages
from console.service.desk import Desk
from console.service.notify import NotifyDesk
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from vipcore.auth import Role, TokenVerifier

CSRF = "form-token-of-this-browser"
CID = str(uuid.uuid4())
MID = str(uuid.uuid4())


def token(staff_id: str, role: str) -> str:
    return jwt.encode({"sub": staff_id, "role": role, "exp": int(time.time()) + 600}, "k" * 32, algorithm="HS256")


def status(state: str, sent: int) -> dict[str, Any]:
    return {"campaign_id": CID, "name": "冬季新品", "status": state, "recipients": 10, "rate_per_s": 5,
            "scheduled_at": "2026-12-02T04:00:00+00:00", "finished_at": None, "send_rate_per_s": None,
            "counts": {"pending": 10 - sent - 2, "queued": 0, "sent": sent, "delivered": sent, "failed": 0,
                       "suppressed": {"consent": 2, "opted_out": 0, "cap": 0}, "deferred_quiet_hours": 0}}


class FakeNotify:
    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.sent = 3

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        claims = jwt.decode(request.headers["authorization"][7:], options={"verify_signature": False})
        if claims["role"] != "hq_admin":
            return httpx.Response(403, json={"title": "Forbidden", "detail": f"role {claims['role']} may not do this",
                                             "errors": [{"field": "role", "message": "needs hq_admin",
                                                         "rule": "O-02"}]})
        m, path = request.method, request.url.path
        if (m, path) == ("POST", "/v1/campaigns/preview"):
            return httpx.Response(200, json={"recipients": 42, "with_consent": 30, "sample": "【金缘珠宝】王*明，上新"})
        if (m, path) == ("POST", "/v1/campaigns"):
            return httpx.Response(201, json={"campaign_id": CID, "status": "scheduled", "recipients": 42,
                                             "with_consent": 30, "sample": "x"})
        if (m, path) == ("GET", "/v1/campaigns"):
            return httpx.Response(200, json={"campaigns": [
                {k: v for k, v in status("done", 8).items() if k not in ("counts", "send_rate_per_s")}
                | {"created_at": "2026-12-02T03:00:00+00:00"}]})
        if (m, path) == ("GET", f"/v1/campaigns/{CID}"):
            return httpx.Response(200, json=status("done" if self.sent >= 8 else "running", self.sent))
        if (m, path) == ("POST", f"/v1/messages/{MID}/retry"):
            return httpx.Response(409, json={"title": "Conflict", "errors": [
                {"field": "status", "message": "message is sent: only a parked message can be retried",
                 "rule": "N-05"}]}) if self.sent else httpx.Response(200, json={"message_id": MID, "status": "queued"})
        if (m, path) == ("POST", "/v1/templates/tier_changed/zh-CN/preview"):
            body = json.loads(request.content)
            if "points_balance" in body["body"]:
                return httpx.Response(422, json={"title": "Unprocessable", "errors": [
                    {"field": "points_balance", "message": "loyalty.tier.changed does not carry it", "rule": "N-02"}]})
            return httpx.Response(200, json={"key": "tier_changed", "language": "zh-CN", "brand": "金缘珠宝",
                                             "text": "【金缘珠宝】恭喜李*华成为金卡", "fields": {}, "encoding": "UCS-2",
                                             "segments": 1, "characters": 15})
        if (m, path) == ("PUT", "/v1/members/M1/preferences"):
            return httpx.Response(200, json={"member_id": "M1"})
        if (m, path) == ("GET", "/v1/messages"):
            asked = request.url.params.get("counts") == "true"
            return httpx.Response(200, json={"counts": {"sent": 1, "parked": 2} if asked else None,
                                             "counts_capped": asked and "store_id" not in request.url.params,
                                             "messages": [], "next_before": MID})
        return httpx.Response(404, json={"title": "Not Found"})


@pytest.fixture
async def fake() -> FakeNotify:
    return FakeNotify()


@pytest.fixture
async def client(fake: FakeNotify) -> AsyncIterator[httpx.AsyncClient]:
    up = Upstream({"notify": "http://notify"}, transport=httpx.MockTransport(fake))
    app = FastAPI()
    pages = Pages(Desk(up, TokenVerifier(None)), Jinja2Templates(directory=HERE / "templates"))
    app.include_router(notify_http.router(NotifyDesk(up), pages, 20))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        c.cookies.set("console_csrf", CSRF)
        c.cookies.set("console_session", token("MKT-1", "hq_admin"))
        yield c


def sent_json(fake: FakeNotify, method: str, path: str) -> Any:
    (req,) = [r for r in fake.seen if r.method == method and r.url.path == path]
    assert req.headers["authorization"].startswith("Bearer ")  # the logged-in person's own token
    return json.loads(req.content) if req.content else None


def test_n01_segment_from_the_builder_is_what_notifys_campaign_api_takes() -> None:
    seg = dom.segment({"store_ids": "XA-901， SZ-901", "tiers": "gold vip", "birthday_month": "5",
                       "last_purchase_after": "2026-11-01", "consent_only": "on"})
    assert seg == {"store_ids": ["XA-901", "SZ-901"], "tiers": ["gold", "vip"], "birthday_month": 5,
                   "last_purchase_after": "2026-11-01T00:00:00+08:00", "consent_only": True}
    assert dom.segment({}) == {"consent_only": False}
    for bad in ({"birthday_month": "13"}, {"store_ids": "X\u00e9"}, {"last_purchase_before": "soon"}):
        with pytest.raises(Refusal):
            dom.segment(bad)
    assert dom.sample_fields("display_name=李*华\npoints: 300\n") == {"display_name": "李*华", "points": "300"}
    assert dom.progress(status("running", 3)) == {"finished": 5, "suppressed": 2, "total": 10, "percent": 50,
                                                  "done": False}
    assert dom.progress(status("done", 8))["percent"] == 100
    assert "sms" in menu(Role.HQ_ADMIN) and "sms" not in menu(Role.HQ_CS) and "sms" not in menu(Role.STORE_MANAGER)


async def test_n01_builder_count_follows_the_segment_and_creates_with_the_token(client: httpx.AsyncClient,
                                                                              fake: FakeNotify) -> None:
    r = await client.get("/campaigns/new")
    assert r.status_code == 200 and 'hx-get="/campaigns/new/count"' in r.text and "目标会员" in r.text
    r = await client.get("/campaigns/new/count", params={"store_ids": "S1,S2", "consent_only": "on",
                                                          "template_body": "{{ display_name }}，上新"})
    assert r.status_code == 200 and 'data-recipients="42"' in r.text and "【金缘珠宝】王*明，上新" in r.text
    assert sent_json(fake, "POST", "/v1/campaigns/preview") == {
        "segment": {"store_ids": ["S1", "S2"], "consent_only": True}, "template_body": "{{ display_name }}，上新"}
    r = await client.get("/campaigns/new/count", params={"birthday_month": "13"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'data-refusal="422"' in r.text and "birthday_month" in r.text
    r = await client.post("/campaigns/new", data={
        "csrf": CSRF, "name": "冬季新品", "store_ids": "S1", "template_body": "{{ display_name }}，上新",
        "rate_per_s": "5", "scheduled_at": "2026-12-24T10:00", "operator": "someone-else"})
    assert r.status_code == 303 and r.headers["location"] == f"/campaigns/{CID}?done=n_created"
    assert sent_json(fake, "POST", "/v1/campaigns") == {
        "name": "冬季新品", "segment": {"store_ids": ["S1"], "consent_only": False},
        "template_body": "{{ display_name }}，上新", "rate_per_s": 5, "scheduled_at": "2026-12-24T10:00:00+08:00"}
    r = await client.post("/campaigns/new", data={"csrf": CSRF, "name": "x", "template_body": "y", "rate_per_s": "0"})
    assert r.status_code == 422 and 'value="x"' in r.text and "rate_per_s" in r.text  # the builder again
    r = await client.post("/campaigns/new", data={"name": "x", "template_body": "y"})
    assert r.status_code == 403  # no form token
    assert len([x for x in fake.seen if x.url.path == "/v1/campaigns"]) == 1


async def test_progress_is_polled_every_second_until_the_campaign_is_done(client: httpx.AsyncClient,
                                                                          fake: FakeNotify) -> None:
    r = await client.get(f"/campaigns/{CID}")
    assert r.status_code == 200 and 'data-percent="50"' in r.text and 'hx-trigger="every 1s"' in r.text
    assert f'hx-get="/campaigns/{CID}/progress"' in r.text and "发送中" in r.text and "data-pause" in r.text
    fake.sent = 8
    r = await client.get(f"/campaigns/{CID}/progress")
    assert 'data-status="done"' in r.text and 'data-percent="100"' in r.text and "every 1s" not in r.text
    assert "data-pause" not in r.text and "data-resume" not in r.text  # the buttons follow the polled state


async def test_retry_consent_and_template_preview_go_to_notify_and_show_its_refusals(client: httpx.AsyncClient,
                                                                                    fake: FakeNotify) -> None:
    r = await client.post(f"/sms/parked/{MID}/retry", data={"csrf": CSRF})
    assert r.status_code == 409 and "N-05" in r.text and "only a parked message" in r.text
    fake.sent = 0
    r = await client.post(f"/sms/parked/{MID}/retry", data={"csrf": CSRF})
    assert r.status_code == 303 and r.headers["location"] == "/sms/parked?done=n_retried"
    assert all(x.content == b"" for x in fake.seen if x.url.path.endswith("/retry"))  # no operator field
    r = await client.post("/sms/consent/M1", data={"csrf": CSRF, "marketing_consent": "no", "language": "en"})
    assert r.status_code == 303 and sent_json(fake, "PUT", "/v1/members/M1/preferences") == {
        "marketing_consent": False, "language": "en"}
    r = await client.post("/sms/templates/tier_changed/zh-CN/preview", data={
        "csrf": CSRF, "body": "恭喜{{ display_name }}成为{{ to_tier_name }}", "fields": "display_name=李*华"},
        headers={"HX-Request": "true"})
    assert r.status_code == 200 and "【金缘珠宝】恭喜李*华成为金卡" in r.text
    assert json.loads(fake.seen[-1].content)["fields"] == {"display_name": "李*华"}
    r = await client.post("/sms/templates/tier_changed/zh-CN/preview", data={
        "csrf": CSRF, "body": "{{ points_balance }}"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'data-refusal="422"' in r.text and "N-02" in r.text


async def test_campaign_list_filters_by_state_at_notify(client: httpx.AsyncClient, fake: FakeNotify) -> None:
    r = await client.get("/campaigns", params={"status": "done"})
    assert r.status_code == 200 and f'data-campaign="{CID}" data-status="done"' in r.text
    assert fake.seen[-1].url.params["status"] == "done" and 'value="done" selected' in r.text
    assert (await client.get("/campaigns", params={"status": "lost"})).status_code == 422


async def test_message_log_filters_at_notify_in_store_time(client: httpx.AsyncClient, fake: FakeNotify) -> None:
    before = uuid.uuid4()
    r = await client.get("/sms", params={"status": "parked", "member_id": "M1", "store_id": "XA-901",
                                         "template": "tier_changed", "since": "2026-12-01T08:00",
                                         "before": str(before)})
    assert r.status_code == 200, r.text
    p = fake.seen[-1].url.params
    assert (p["status"], p["member_id"], p["store_id"], p["template"], p["since"], p["before"]) == (
        "parked", "M1", "XA-901", "tier_changed", "2026-12-01T08:00:00+08:00", str(before))
    assert "until" not in p and p["limit"] == "20"
    # a later page does not ask notify to count again (at chain scale a count is the costly part)
    assert p["counts"] == "false" and "data-status-counts" not in r.text
    # paged at notify: the next page carries notify's key and the filters; a later page links back to the first
    assert ('href="/sms?status=parked&amp;member_id=M1&amp;store_id=XA-901&amp;template=tier_changed&amp;'
            f'since=2026-12-01T08%3A00&amp;until=&amp;before={MID}"') in r.text and "« 最新" in r.text
    first = await client.get("/sms", params={"store_id": "XA-901"})
    assert fake.seen[-1].url.params["counts"] == "true" and "« 最新" not in first.text
    assert "data-status-counts>" in first.text and "失败待处理 2" in first.text
    # counts notify could only give for the newest of a long log say so
    capped = await client.get("/sms")
    assert "data-status-counts data-capped" in capped.text and "最新 10 万条中" in capped.text
    assert (await client.get("/sms", params={"status": "lost"})).status_code == 422


async def test_o02_notify_refuses_other_roles_and_the_page_says_why(client: httpx.AsyncClient) -> None:
    client.cookies.set("console_session", token("SM-1", "store_manager"))
    for path in ("/sms", "/sms/parked", "/sms/templates", "/sms/consent", "/sms/audit", "/campaigns"):
        r = await client.get(path)
        assert r.status_code == 403 and "O-02" in r.text and "notify" in r.text, path
    client.cookies.delete("console_session")
    r = await client.get("/sms/templates")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
