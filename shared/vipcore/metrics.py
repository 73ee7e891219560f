"""Request metrics per route (Prometheus conventions), shared by every service's HTTP app.

`http_server_requests_total{method,route,status}` and `http_server_request_duration_seconds{method,route}`;
`route` is the route template (`/v1/members/{member_id}`), never the raw path (bounded label values, no
personal data in labels). Unmatched paths count under route="unmatched".
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNTIMED = {"/metrics", "/healthz", "/readyz"}


class RequestMetrics:
    """Pure ASGI middleware: counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: Any, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter("http_server_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=registry)
        self.duration = Histogram("http_server_request_duration_seconds", "HTTP request duration",
                                  ["method", "route"], buckets=BUCKETS, registry=registry)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in UNTIMED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            self.requests.labels(method, route, str(status[0])).inc()
            self.duration.labels(method, route).observe(time.perf_counter() - started)
