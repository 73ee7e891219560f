"""Limits every service shares: token buckets per key (rate limits, answered 429 with Retry-After) and request
body caps per route (answered 413 before anything parses the body).

The numbers are settings (vipcore.settings, each service's config); docs/architecture.md, "Limits", says which
were chosen and why.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException

from .errors import TooManyRequests

Clock = Callable[[], float]


class RateLimiter:
    """One token bucket per key: `burst` tokens at most, refilled at `rate` tokens per second.

    `take(key, n)` spends n tokens, or spends nothing and answers how many seconds until n are there. Buckets of
    keys not seen for a while are forgotten (a full bucket is the same as none); at most `max_keys` are kept, the
    least recently used dropped first, so a flood of distinct keys cannot grow memory."""

    def __init__(self, rate: float, burst: float, *, clock: Clock = time.monotonic, max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate, self.burst, self.clock, self.max_keys = float(rate), float(burst), clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, as of)

    @classmethod
    def share_of(cls, rate: float, burst: float, instances: int, **kw: Any) -> RateLimiter:
        """This process's share of a chain-wide limit kept in memory by each of `instances` processes that the
        callers reach alike (SO_REUSEPORT spreads connections, a Kubernetes Service spreads them over pods): rate
        and burst divided by `instances` (the burst never below 1), so all of them together allow the configured
        rate, not `instances` times it (ServiceSettings.instance_count, docs/scaling.md)."""
        if instances < 1:
            raise ValueError("instances must be at least 1")
        return cls(rate / instances, max(1.0, burst / instances), **kw)

    def _level(self, key: str, now: float) -> float:
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def _set(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def take(self, key: str, n: float = 1.0) -> float:
        """0 when n tokens were spent; else the seconds to wait before n are available (nothing spent)."""
        n = min(float(n), self.burst)  # more than a full bucket can never be had: a full bucket is enough
        now = self.clock()
        level = self._level(key, now)
        if level >= n:
            self._set(key, level - n, now)
            return 0.0
        return (n - level) / self.rate

    def wait(self, key: str, n: float = 1.0) -> float:
        """Seconds until n tokens are there (0: now), spending nothing."""
        level = self._level(key, self.clock())
        return 0.0 if level >= min(float(n), self.burst) else (min(float(n), self.burst) - level) / self.rate

    def charge(self, key: str, n: float = 1.0) -> None:
        """Spend n tokens after the fact (what the request turned out to cost), going into debt if need be: requests
        that passed `wait` together all pay, and the key waits the longer (never past ten bursts of debt)."""
        now = self.clock()
        self._set(key, max(-10 * self.burst, self._level(key, now) - n), now)

    def give_back(self, key: str, n: float = 1.0) -> None:
        """Return tokens taken for something that turned out not to count (a hit after a reserved miss)."""
        now = self.clock()
        self._set(key, min(self.burst, self._level(key, now) + n), now)

    def check(self, key: str, n: float = 1.0, *, what: str = "requests", field: str = "Authorization") -> None:
        """Spend n tokens or raise TooManyRequests (429) with the whole seconds to wait (Retry-After)."""
        wait = self.take(key, n)
        if wait > 0:
            raise TooManyRequests(field, f"too many {what}: retry in {math.ceil(wait)} s",
                                  retry_after_s=max(1, math.ceil(wait)))


# --- request body caps -------------------------------------------------------------------------------------------


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its cap: an HTTPException, so that frameworks reading the
    body (FastAPI's body and form parsing) pass it on as it is, and the problem handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body of this request may be at most {limit} bytes")


def _problem_413(limit: int) -> bytes:
    from .telemetry import current_trace_id

    return orjson.dumps({
        "type": "https://vip.example/problems/request-body-too-large", "title": "Request body too large",
        "status": 413, "detail": f"the body of this request may be at most {limit} bytes",
        "errors": [{"field": "body", "rule": "max_body_bytes", "message": f"at most {limit} bytes"}],
        "trace_id": current_trace_id()})


class BodyLimit:
    """Caps request bodies per route (pure ASGI, outermost): a declared Content-Length over the cap is answered
    413 before a byte is read; a body without one (chunked) is counted as it streams and the request is answered
    413 as soon as the count passes the cap, so at most cap + one chunk is ever held. The application — and the
    API key or token check — never sees an oversized body.

    `routes` maps a path (exact) or a path prefix ending in `*` to its cap; others get `default`."""

    def __init__(self, app: Any, default: int, routes: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        routes = dict(routes or {})
        self.exact = {p: n for p, n in routes.items() if not p.endswith("*")}
        self.prefixes = sorted(((p[:-1], n) for p, n in routes.items() if p.endswith("*")),
                               key=lambda pn: -len(pn[0]))

    def limit_for(self, path: str) -> int:
        if path in self.exact:
            return self.exact[path]
        for prefix, n in self.prefixes:
            if path.startswith(prefix):
                return n
        return self.default

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await self._refuse(send, limit)
                    return
        seen = 0
        started = False

        async def counted_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)
        except Exception as e:  # a framework may wrap the error (e.g. "error parsing the body")
            if seen > limit and not started:
                await self._refuse(send, limit)
                return
            raise e

    @staticmethod
    async def _refuse(send: Any, limit: int) -> None:
        body = _problem_413(limit)
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
