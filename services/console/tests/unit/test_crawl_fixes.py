"""What the console crawl (tests/console/test_console_crawl.py) found: a member-service GET answered 503 to a page when
the pooled keep-alive connection it reused had just been closed by the service."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from console.adapters.upstream import Refusal, Upstream


def closing_once(calls: list[str]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ReadError("connection closed by the peer", request=request)
        return httpx.Response(200, json={"entries": []})
    return handle


async def test_a_get_on_a_connection_the_service_closed_is_sent_once_more() -> None:
    calls: list[str] = []
    up = Upstream({"members": "http://members"}, transport=httpx.MockTransport(closing_once(calls)))
    try:
        assert await up.call("members", "GET", "/v1/blacklist", "tok") == {"entries": []}
        assert calls == ["GET", "GET"]
    finally:
        await up.aclose()


async def test_a_post_is_never_repeated_it_shows_unavailable() -> None:
    calls: list[str] = []
    up = Upstream({"members": "http://members"}, transport=httpx.MockTransport(closing_once(calls)))
    try:
        with pytest.raises(Refusal) as refused:
            await up.call("members", "POST", "/v1/blacklist", "tok", json={"mobile": "13900000000"})
        assert refused.value.status == 503 and calls == ["POST"]
    finally:
        await up.aclose()
