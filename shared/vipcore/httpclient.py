"""JSON calls to another service's internal API on a request path where CPU per call counts.

aiohttp (C HTTP parser, one keep-alive pool) rather than httpx: on the POS quote path the httpx client
cost the gateway ~1.5 ms of CPU per call (connection-pool bookkeeping and async-library detection per
request), more than the rest of the request. Each call is a CLIENT span whose context travels in the
`traceparent` header, so the callee's spans join the caller's trace. Each call carries the caller's current
service token (`token`: a provider such as `ServiceRuntime.token_provider("loyalty")`, cached and renewed by
vipcore.identity.ServiceTokens).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any


class Unreachable(Exception):
    """The other service did not answer (refused, reset or timed out)."""


class InternalClient:
    def __init__(self, base_url: str, *, peer: str, token: Callable[[], str] | None = None,
                 tracer_provider: trace.TracerProvider | None = None, timeout: float = 5.0,
                 connections: int = 64) -> None:
        self.base_url = base_url.rstrip("/")
        self.peer = peer
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        self._token = token
        self._tracer = trace.get_tracer("vipcore.httpclient", tracer_provider=tracer_provider)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running event loop that will use it.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout, skip_auto_headers=("User-Agent",),
                connector=aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=30))
        return self._session

    async def post(self, path: str, body: Any, *, links: Sequence[trace.Link] = ()) -> Reply:
        return await self.request("POST", path, body=body, links=links)

    async def get(self, path: str, params: dict[str, str] | None = None) -> Reply:
        return await self.request("GET", path, params=params)

    async def request(self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None,
                      links: Sequence[trace.Link] = ()) -> Reply:
        """One call; `links` name the requests a batched call serves (each keeps its own trace)."""
        with self._tracer.start_as_current_span(f"{method} {self.peer}", kind=SpanKind.CLIENT,
                                                links=links) as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("url.path", path)
            headers: dict[str, str] = {}
            if self._token is not None and (tok := self._token()):
                headers["Authorization"] = f"Bearer {tok}"
            _PROPAGATOR.inject(headers)
            try:
                async with self._open().request(
                        method, self.base_url + path, params=params, headers=headers,
                        data=None if body is None else orjson.dumps(body)) as resp:
                    raw = await resp.read()
            except (aiohttp.ClientError, TimeoutError) as e:
                span.set_status(Status(StatusCode.ERROR, f"{self.peer} unreachable"))
                raise Unreachable(f"{self.peer} did not answer {method} {path}: {e!r}") from e
            span.set_attribute("http.response.status_code", resp.status)
            if resp.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            try:
                return Reply(resp.status, orjson.loads(raw) if raw else None)
            except orjson.JSONDecodeError:
                return Reply(resp.status, {"detail": raw[:200].decode(errors="replace")})

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
