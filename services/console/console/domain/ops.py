"""The ops page's pure parts (issue 13): where the trace viewer is, which traces had errors, lag rows from the
instances' heartbeats, DLQ depth from the entries, and the "replay since" time. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# the services with a database, consumers, an outbox and a DLQ (the console itself has none of these)
OPS_SERVICES = ("gateway", "members", "loyalty", "credit", "notify")


@dataclass(frozen=True)
class Viewer:
    """The trace viewer (Zipkin): its API and the page of one trace. `TRACES_URL` may name the server
    (http://127.0.0.1:9411) or its UI (http://127.0.0.1:9411/zipkin/), as `./dev up` prints it."""

    base: str

    @classmethod
    def of(cls, url: str | None) -> Viewer | None:
        if not url or not url.strip():
            return None
        base = url.strip().rstrip("/")
        base = base.removesuffix("/zipkin").rstrip("/")
        return cls(base)

    @property
    def api(self) -> str:
        return self.base

    def trace_link(self, trace_id: str) -> str:
        return f"{self.base}/zipkin/traces/{trace_id}"


@dataclass(frozen=True)
class ErrorTrace:
    """One trace with an error span: when it started, how long, which span failed, and why."""

    trace_id: str
    started_at: datetime
    duration_ms: float
    root: str            # "service: span name" of the root (or earliest) span
    error_service: str
    error_span: str
    error: str
    spans: int
    link: str


def error_traces(raw: Any, viewer: Viewer) -> list[ErrorTrace]:
    """Zipkin's `/api/v2/traces` answer (a list of traces, each a list of spans) as rows, newest first; a trace
    without a span tagged `error` (Zipkin matched it otherwise) or a malformed one is left out."""
    out: list[ErrorTrace] = []
    for spans in raw if isinstance(raw, list) else []:
        spans = [s for s in spans if isinstance(s, dict) and s.get("traceId")] if isinstance(spans, list) else []
        failed = [s for s in spans if isinstance(s.get("tags"), dict) and "error" in s["tags"]]
        if not failed:
            continue
        timed = [s for s in spans if isinstance(s.get("timestamp"), int)]
        if not timed:
            continue
        root = next((s for s in timed if not s.get("parentId")), min(timed, key=lambda s: s["timestamp"]))
        start = min(s["timestamp"] for s in timed)
        end = max(s["timestamp"] + int(s.get("duration") or 0) for s in timed)
        first = min(failed, key=lambda s: s.get("timestamp") or 0)
        trace_id = str(root["traceId"])
        out.append(ErrorTrace(
            trace_id=trace_id, started_at=datetime.fromtimestamp(start / 1e6, UTC), duration_ms=(end - start) / 1000,
            root=f"{_service(root)}: {root.get('name') or '?'}", error_service=_service(first),
            error_span=str(first.get("name") or "?"), error=str(first["tags"]["error"] or "error")[:300],
            spans=len(spans), link=viewer.trace_link(trace_id)))
    out.sort(key=lambda t: t.started_at, reverse=True)
    return out


def _service(span: dict[str, Any]) -> str:
    ep = span.get("localEndpoint")
    return str(ep.get("serviceName") or "?") if isinstance(ep, dict) else "?"


@dataclass(frozen=True)
class LagRow:
    group: str
    topic: str
    partition: int
    offsets: int
    seconds: float | None
    instance_id: str


def lag_rows(instances: list[dict[str, Any]]) -> list[LagRow]:
    """Consumer lag per group and partition from the instances' heartbeats: each partition as reported by the
    live instance that saw it last (a partition moves between instances at a rebalance; gone or stopped
    instances no longer hold any)."""
    best: dict[tuple[str, int], tuple[float, LagRow]] = {}
    for inst in instances:
        if inst.get("state") not in ("up", "not_ready"):
            continue
        ago = float(inst.get("seen_ago_s") or 0.0)
        for x in inst.get("lag") or []:
            key = (str(x["group"]), int(x["partition"]))
            row = LagRow(str(x["group"]), str(x["topic"]), int(x["partition"]), int(x["offsets"]),
                         None if x.get("seconds") is None else float(x["seconds"]), str(inst["instance_id"]))
            if key not in best or ago < best[key][0]:
                best[key] = (ago, row)
    return sorted((r for _, r in best.values()), key=lambda r: (r.group, r.partition))


def dlq_depth(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Dead-lettered events still pending per source topic (what the `dlq_depth` gauge counts)."""
    depth: dict[str, int] = {}
    for e in entries:
        depth.setdefault(str(e["topic"]), 0)
        if e.get("status") == "pending":
            depth[str(e["topic"])] += 1
    return depth


def parse_since(text: str) -> datetime:
    """The "replay since" time of the form: ISO 8601; a time without an offset (a datetime-local input) is UTC,
    as the page says. ValueError for anything else."""
    t = datetime.fromisoformat(text.strip())
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
