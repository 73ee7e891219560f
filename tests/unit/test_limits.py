"""vipcore.limits (issue 11, item 3): token buckets answer 429 with Retry-After once empty; request bodies past
their route's cap are answered 413 before the application reads them, a chunked body without reading it all."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from vipcore.errors import TooManyRequests
from vipcore.http import install_problem_handlers
from vipcore.limits import BodyLimit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_empties_then_says_how_long_to_wait() -> None:
    clock = Clock()
    rl = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [rl.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rl.take("k") == pytest.approx(0.5)  # one token comes back every half second
    assert rl.take("other") == 0.0  # each key has its own bucket
    clock.now += 0.5
    assert rl.take("k") == 0.0 and rl.take("k") > 0
    clock.now += 100  # refilled, never past the burst
    assert [rl.take("k") for _ in range(4)][-1] > 0


def test_check_raises_429_with_whole_seconds_to_retry_after() -> None:
    clock = Clock()
    rl = RateLimiter(rate=0.1, burst=1, clock=clock)
    rl.check("k")
    with pytest.raises(TooManyRequests) as e:
        rl.check("k", what="lookups")
    assert e.value.status == 429 and e.value.retry_after_s == 10 and "lookups" in e.value.message


def test_given_back_tokens_and_bounded_memory() -> None:
    clock = Clock()
    rl = RateLimiter(rate=1.0, burst=2, clock=clock, max_keys=3)
    rl.take("k", 2)
    rl.give_back("k")
    assert rl.take("k") == 0.0 and rl.take("k") > 0
    for i in range(10):
        rl.take(f"flood-{i}")
    assert len(rl._buckets) == 3
    assert rl.take("batch", 50) == 0.0  # more than a burst is charged as a full bucket, never refused forever


async def test_refusal_is_problem_json_with_retry_after() -> None:
    app = FastAPI()
    install_problem_handlers(app)
    rl = RateLimiter(rate=0.5, burst=1)

    @app.get("/x")
    async def x() -> dict[str, str]:
        rl.check("k")
        return {"ok": "yes"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/x")).status_code == 200
        r = await c.get("/x")
    assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "2" and r.json()["status"] == 429


class Body(BaseModel):
    text: str


def _app(seen: list[str]) -> Any:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/small")
    async def small(body: Body) -> dict[str, int]:
        seen.append("small")
        return {"n": len(body.text)}

    @app.post("/big/upload")
    async def big(request: Request) -> dict[str, int]:
        seen.append("big")
        return {"n": len(await request.body())}

    return BodyLimit(app, default=100, routes={"/big/*": 1000})


async def _call(app: Any, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, Any, int]:
    """Drive the ASGI app by hand: (status, body, chunks the app pulled)."""
    pulled = 0
    sent: list[Any] = []

    async def receive() -> Any:
        nonlocal pulled
        pulled += 1
        if pulled > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"content-type", b"application/json"), *headers], "http_version": "1.1",
             "scheme": "http", "server": ("t", 80), "client": ("127.0.0.1", 1), "root_path": ""}
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    import json

    return status, json.loads(body), pulled


async def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    seen: list[str] = []
    status, body, pulled = await _call(_app(seen), "/small", [b"x" * 500], [(b"content-length", b"500")])
    assert status == 413 and body["status"] == 413 and body["errors"][0]["field"] == "body"
    assert pulled == 0 and seen == []  # not a byte read, the route never ran


async def test_chunked_body_is_cut_off_at_the_cap_without_reading_it_all() -> None:
    seen: list[str] = []
    chunks = [b'{"text": "' + b"x" * 40] + [b"x" * 40] * 1000  # 40 KB announced by nobody (chunked)
    status, body, pulled = await _call(_app(seen), "/small", chunks, [(b"transfer-encoding", b"chunked")])
    assert status == 413 and body["title"] == "Request body too large"
    assert pulled <= 3 and seen == []  # stopped right after the cap (100 bytes), the rest never read

    seen.clear()
    status, body, pulled = await _call(_app(seen), "/big/upload", chunks, [(b"transfer-encoding", b"chunked")])
    assert status == 413 and pulled <= 26  # a route reading the raw body itself: cut off the same way


async def test_bodies_within_their_route_cap_pass() -> None:
    seen: list[str] = []
    status, body, _ = await _call(_app(seen), "/small", [b'{"text": "hello"}'], [])
    assert (status, body) == (200, {"n": 5})
    status, body, _ = await _call(_app(seen), "/big/upload", [b"y" * 400, b"y" * 400], [])
    assert (status, body) == (200, {"n": 800})  # over the default, within the route's own cap
    assert seen == ["small", "big"]
