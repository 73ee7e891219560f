"""The ops page (issue 13) without the other services: its pure parts (viewer links, error traces from Zipkin's
answer, lag rows from heartbeats, DLQ depth, the replay-since time) and its routes against fake owning services
(O-02 refusal, what the page shows, the operator sent is the logged-in person)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from console.adapters.upstream import Upstream
from console.domain.ops import OPS_SERVICES, Viewer, dlq_depth, error_traces, lag_rows, parse_since
from console.entrypoints import ops_http
from console.entrypoints.http import Pages
from console.service.desk import Desk
from console.service.ops import TRACES, OpsDesk
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from vipcore.auth import TokenVerifier

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"


def test_viewer_takes_the_server_or_its_ui_address() -> None:
    for url in ("http://127.0.0.1:9411", "http://127.0.0.1:9411/", "http://127.0.0.1:9411/zipkin/",
                "http://127.0.0.1:9411/zipkin"):
        v = Viewer.of(url)
        assert v is not None and v.api == "http://127.0.0.1:9411"
        assert v.trace_link("abc") == "http://127.0.0.1:9411/zipkin/traces/abc"
    assert Viewer.of(None) is None and Viewer.of("  ") is None


def span(trace: str, sid: str, service: str, name: str, ts: int, dur: int, parent: str | None = None,
         **tags: str) -> dict[str, Any]:
    s: dict[str, Any] = {"traceId": trace, "id": sid, "name": name, "timestamp": ts, "duration": dur,
                         "localEndpoint": {"serviceName": service}, "tags": tags}
    if parent:
        s["parentId"] = parent
    return s


def test_error_traces_name_the_failed_span_and_link_to_the_viewer() -> None:
    v = Viewer("http://z:9411")
    t0 = 1_764_650_000_000_000
    raw = [
        [span("a1", "1", "gateway", "post /v1/sales", t0, 30_000),
         span("a1", "2", "loyalty", "pos.sales process", t0 + 5_000, 40_000, "1", error="store not registered")],
        [span("b2", "3", "members", "get /v1/x", t0 + 60_000_000, 1_000)],  # matched otherwise: no error tag
        [span("c3", "4", "notify", "sms send", t0 + 120_000_000, 2_000, error="")],
        "not a trace", [{"no": "trace id"}],
    ]
    rows = error_traces(raw, v)
    assert [r.trace_id for r in rows] == ["c3", "a1"]  # newest first; b2 and the malformed ones left out
    a = rows[1]
    assert a.root == "gateway: post /v1/sales" and a.error_service == "loyalty"
    assert a.error_span == "pos.sales process" and a.error == "store not registered" and a.spans == 2
    assert a.duration_ms == 45.0 and a.link == "http://z:9411/zipkin/traces/a1"
    assert a.started_at == datetime.fromtimestamp(t0 / 1e6, UTC)
    assert rows[0].error == "error"  # an empty error tag still says error
    assert error_traces({"unexpected": "shape"}, v) == []


def test_lag_rows_take_each_partition_from_the_live_instance_that_saw_it_last() -> None:
    def lag(p: int, n: int, s: float | None) -> dict[str, Any]:
        return {"group": "loyalty.pos.sales", "topic": "pos.sales", "partition": p, "offsets": n, "seconds": s}

    instances = [
        {"instance_id": "old", "state": "up", "seen_ago_s": 4.0, "lag": [lag(0, 9, 3.0), lag(1, 5, None)]},
        {"instance_id": "new", "state": "up", "seen_ago_s": 1.0, "lag": [lag(0, 2, 0.5)]},
        {"instance_id": "dead", "state": "gone", "seen_ago_s": 0.0, "lag": [lag(2, 999, 99.0)]},
        {"instance_id": "bye", "state": "stopped", "seen_ago_s": 0.0, "lag": [lag(3, 7, 1.0)]},
    ]
    rows = lag_rows(instances)
    assert [(r.partition, r.offsets, r.seconds, r.instance_id) for r in rows] == [
        (0, 2, 0.5, "new"), (1, 5, None, "old")]


def test_dlq_depth_counts_pending_per_topic() -> None:
    entries = [{"topic": "pos.sales", "status": "pending"}, {"topic": "pos.sales", "status": "applied"},
               {"topic": "pos.sales", "status": "pending"}, {"topic": "members.events", "status": "discarded"}]
    assert dlq_depth(entries) == {"pos.sales": 2, "members.events": 0}


def test_replay_since_is_utc_unless_it_says_otherwise() -> None:
    assert parse_since("2026-12-02T04:30") == datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
    assert parse_since("2026-12-02T12:30:00+08:00") == datetime(2026, 12, 2, 12, 30,
                                                                tzinfo=timezone(timedelta(hours=8)))
    with pytest.raises(ValueError):
        parse_since("yesterday")


# -- the routes against fake owning services ----------------------------------------------------------------

def token(staff_id: str, role: str) -> str:
    return jwt.encode({"sub": staff_id, "role": role, "exp": int(time.time()) + 600}, "k" * 32, algorithm="HS256")


NOW = datetime.now(UTC).isoformat()
STATUS = {"service": "loyalty", "answered_by": "h:1:aa", "gone_after_s": 20.0, "outbox": {"backlog": 3,
          "oldest_age_s": 12.5}, "instances": [
    {"instance_id": "h:1:aa", "host": "h", "pid": 1, "started_at": NOW, "last_seen": NOW, "seen_ago_s": 1.0,
     "state": "up", "checks": {"database": "ok", "kafka": "ok"},
     "lag": [{"group": "loyalty.pos.sales", "topic": "pos.sales", "partition": 0, "offsets": 4, "seconds": 2.5}]},
    {"instance_id": "h:2:bb", "host": "h", "pid": 2, "started_at": NOW, "last_seen": NOW, "seen_ago_s": 61.0,
     "state": "gone", "checks": {"database": "ok", "kafka": "ok"}, "lag": []}]}
ENTRY = {"id": "0d7c1f5e-6a5b-4a53-9a41-111111111111", "topic": "pos.sales", "consumer": "loyalty.pos.sales",
         "event_type": "pos.sale.recorded", "event_id": "0d7c1f5e-6a5b-4a53-9a41-111111111111", "key": "M1",
         "reason": "L-02: store XA-900 is not registered yet", "first_failure_at": NOW, "last_failure_at": NOW,
         "count": 1, "status": "pending", "source": "pos.sales/0/7"}


class FakeServices:
    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        host, path = request.url.host, request.url.path
        if host == "zipkin":
            return httpx.Response(200, json=[[span("e1", "1", "loyalty", "pos.sales process", 1_764_650_000_000_000,
                                                   1000, error="boom")]])
        if host == "credit":
            return httpx.Response(503, json={"title": "Service Unavailable", "detail": "database down"})
        if request.headers.get("authorization", "").count(".") != 2:
            return httpx.Response(401, json={"title": "Unauthorized"})
        if path == "/ops/status":
            return httpx.Response(200, json=STATUS | {"service": host})
        if path == "/ops/dlq":
            return httpx.Response(200, json={"entries": [ENTRY] if host == "loyalty" else [], "truncated": False})
        if path.startswith("/ops/dlq") and request.method == "POST":
            return httpx.Response(200, json={"entry_id": ENTRY["id"], "replayed": [], "skipped": []})
        return httpx.Response(404, json={"title": "Not Found"})


CSRF = "form-token-of-this-browser"


def app_of(fake: FakeServices, viewer: Viewer | None) -> FastAPI:
    urls = {s: f"http://{s}" for s in OPS_SERVICES} | ({TRACES: "http://zipkin"} if viewer else {})
    up = Upstream(urls, transport=httpx.MockTransport(fake))
    app = FastAPI()
    app.include_router(ops_http.router(OpsDesk(up, viewer), Pages(Desk(up, TokenVerifier(None)),
                                                                  Jinja2Templates(directory=TEMPLATES))))
    return app


@pytest.fixture
async def fake() -> FakeServices:
    return FakeServices()


@pytest.fixture
async def client(fake: FakeServices) -> AsyncIterator[httpx.AsyncClient]:
    app = app_of(fake, Viewer("http://zipkin"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        c.cookies.set("console_csrf", CSRF)  # the form token (entrypoints/csrf.py): the forms below carry it
        yield c


async def test_o02_only_hq_admins_get_the_ops_page(client: httpx.AsyncClient, fake: FakeServices) -> None:
    assert (await client.get("/ops")).status_code == 303  # no session: the login
    for role in ("hq_cs", "store_manager", "staff", "auditor"):
        client.cookies.set("console_session", token("X-1", role))
        r = await client.get("/ops")
        assert r.status_code == 403 and "O-02" in r.text, role
        r = await client.post(f"/ops/dlq/loyalty/{ENTRY['id']}/replay", data={"csrf": CSRF, "note": ""})
        assert r.status_code == 403, role
    assert fake.seen == []  # refused before any service was asked


async def test_the_page_shows_instances_lag_outbox_dlq_and_error_traces(client: httpx.AsyncClient) -> None:
    client.cookies.set("console_session", token("OPS-1", "hq_admin"))
    r = await client.get("/ops")
    assert r.status_code == 200, r.text
    html = r.text
    assert 'data-instance="h:1:aa" data-state="up"' in html and 'data-instance="h:2:bb" data-state="gone"' in html
    assert "失联" in html and "运行中" in html  # Chinese first
    assert 'data-lag="loyalty.pos.sales/0"' in html and "2.5" in html
    assert 'data-outbox="loyalty"' in html and "12.5" in html
    assert f'data-entry="{ENTRY["id"]}" data-status="pending"' in html
    assert 'data-depth="pos.sales"' in html and "pos.sales: 1" in html
    assert 'href="http://zipkin/zipkin/traces/e1"' in html and "boom" in html
    assert 'data-refusal="503"' in html and "database down" in html  # credit is down: shown, not a 500
    client.cookies.set("console_lang", "en")
    assert "Gone" in (await client.get("/ops")).text


async def test_actions_name_the_logged_in_person_as_operator(client: httpx.AsyncClient, fake: FakeServices) -> None:
    client.cookies.set("console_session", token("OPS-7", "hq_admin"))
    eid = ENTRY["id"]
    r = await client.post(f"/ops/dlq/loyalty/{eid}/replay",
                          data={"csrf": CSRF, "note": "fixed", "operator": "someone-else"})
    assert r.status_code == 303 and r.headers["location"] == f"/ops/dlq/loyalty/{eid}?done=replayed"
    r = await client.post(f"/ops/dlq/loyalty/{eid}/discard", data={"csrf": CSRF, "reason": "voided sale"})
    assert r.status_code == 303
    r = await client.post("/ops/dlq/notify/replay-since", data={"csrf": CSRF, "since": "2026-12-02T04:00"})
    assert r.status_code == 303
    posts = [x for x in fake.seen if x.method == "POST"]
    assert [json.loads(x.content) for x in posts] == [
        {"operator": "OPS-7", "note": "fixed"}, {"operator": "OPS-7", "reason": "voided sale"},
        {"operator": "OPS-7"}]
    assert posts[0].url.path == f"/ops/dlq/{eid}:replay" and posts[2].url.host == "notify"
    assert posts[2].url.params["since"] == "2026-12-02T04:00:00+00:00"
    # refused input: no reason, a time that is not one, a service the page does not know
    r = await client.post(f"/ops/dlq/loyalty/{eid}/discard", data={"csrf": CSRF, "reason": " "})
    assert r.status_code == 422
    r = await client.post("/ops/dlq/loyalty/replay-since", data={"csrf": CSRF, "since": "soon"})
    assert r.status_code == 422
    assert (await client.post(f"/ops/dlq/console/{eid}/replay", data={"csrf": CSRF})).status_code == 422
    assert len([x for x in fake.seen if x.method == "POST"]) == 3


async def test_without_a_viewer_the_page_says_so(fake: FakeServices) -> None:
    app = app_of(fake, None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        c.cookies.set("console_session", token("OPS-1", "hq_admin"))
        r = await c.get("/ops")
    assert r.status_code == 200 and "data-no-viewer" in r.text and "TRACES_URL" in r.text
    assert not any(x.url.host == "zipkin" for x in fake.seen)
