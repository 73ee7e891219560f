"""The ops page's calls (issue 13): each service's `/ops/status` (every instance from its heartbeat, lag, outbox)
and `/ops/dlq` (dead-lettered events, redrive), made with the logged-in staff member's token so the service
decides (O-02: hq_admin); and the trace viewer's API for recent error traces. No database is read."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..adapters.upstream import Refusal, Upstream
from ..domain.ops import OPS_SERVICES, ErrorTrace, Viewer, error_traces
from .desk import Section, Session

TRACES = "traces"  # the viewer's name among the upstreams (when TRACES_URL is set)
ERROR_LOOKBACK_MS = 3600 * 1000
ERROR_LIMIT = 20


class OpsDesk:
    def __init__(self, upstream: Upstream, viewer: Viewer | None) -> None:
        self.up = upstream
        self.viewer = viewer

    async def overview(self, s: Session) -> tuple[dict[str, Section], dict[str, Section], Section | None]:
        """Per service its status and its DLQ entries (each a Section: the data or that service's refusal), and
        the recent error traces (None: no viewer configured)."""
        calls = [self._section(svc, "/ops/status", s) for svc in OPS_SERVICES]
        calls += [self._section(svc, "/ops/dlq", s) for svc in OPS_SERVICES]
        got, errors = await asyncio.gather(asyncio.gather(*calls), self.recent_errors())
        n = len(OPS_SERVICES)
        return dict(zip(OPS_SERVICES, got[:n], strict=True)), dict(zip(OPS_SERVICES, got[n:], strict=True)), errors

    async def _section(self, service: str, path: str, s: Session) -> Section:
        try:
            return Section(await self.up.call(service, "GET", path, s.token))
        except Refusal as e:
            return Section(refusal=e)

    async def recent_errors(self) -> Section | None:
        """The last hour's traces with an error span, from the viewer's API (None: no viewer configured)."""
        if self.viewer is None:
            return None
        try:
            raw = await self.up.call(TRACES, "GET", "/api/v2/traces", params={
                "annotationQuery": "error", "limit": ERROR_LIMIT, "lookback": ERROR_LOOKBACK_MS,
                "endTs": int(time.time() * 1000)})
        except Refusal as e:
            return Section(refusal=e)
        rows: list[ErrorTrace] = error_traces(raw, self.viewer)
        return Section(rows)

    async def entry(self, s: Session, service: str, entry_id: str) -> dict[str, Any]:
        """One dead-lettered event: original headers and body, every failure, the operators' audit."""
        return dict(await self.up.call(service, "GET", f"/ops/dlq/{quote(entry_id, safe='')}", s.token))

    async def replay(self, s: Session, service: str, entry_id: str, note: str) -> dict[str, Any]:
        """Produce it back onto its topic; the consumer's inbox applies it once. The operator is this person."""
        return dict(await self.up.call(service, "POST", f"/ops/dlq/{quote(entry_id, safe='')}:replay", s.token,
                                       json=_operator(s, note=note)))

    async def replay_since(self, s: Session, service: str, since: datetime, note: str) -> dict[str, Any]:
        """Replay every pending entry whose last failure is at or after `since` (discarded ones are skipped)."""
        return dict(await self.up.call(service, "POST", "/ops/dlq:replay", s.token,
                                       params={"since": since.isoformat()}, json=_operator(s, note=note)))

    async def discard(self, s: Session, service: str, entry_id: str, reason: str) -> dict[str, Any]:
        """Discard with a reason (required); the audit names this person."""
        if not reason.strip():
            raise Refusal("console", 422, "a reason is required", "a discarded event is discarded with its reason",
                          [{"field": "reason", "message": "required"}])
        return dict(await self.up.call(service, "POST", f"/ops/dlq/{quote(entry_id, safe='')}:discard", s.token,
                                       json={"operator": s.who.staff_id, "reason": reason.strip()}))


def _operator(s: Session, note: str) -> dict[str, Any]:
    """The audit's operator is the logged-in staff member (from their signed token), never a typed name."""
    body: dict[str, Any] = {"operator": s.who.staff_id}
    if note.strip():
        body["note"] = note.strip()
    return body
