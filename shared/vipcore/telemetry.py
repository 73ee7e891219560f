"""OpenTelemetry wiring: a tracer provider per service, W3C traceparent in and out of Kafka headers.

Export: to Zipkin's server (`ZIPKIN_ENDPOINT`, what `./dev up` starts) or over OTLP/HTTP
(`OTEL_EXPORTER_OTLP_ENDPOINT`, the compose collector); nothing when neither is set.

Sampling: parent-based, a root trace is sampled with probability `OTEL_TRACES_SAMPLER_ARG` (default 1.0), and
downstream services follow the decision carried by `traceparent`. A trace not sampled is still *recorded*
(RECORD_ONLY instead of DROP), so when one of its spans ends with status ERROR the span is exported anyway
(`ErrorSpansKept`): errors are always kept, whatever the ratio. Root SQL statements (a background poll's, outside
any request or event) are not traced: they would flood the viewer with one-span traces of no business flow.

Privacy: spans carry the receipt number, store and member id (`vip.receipt_no`, `vip.store_id`,
`vip.member_id`) so a sale's trace is found by receipt; query strings and anything shaped like a mobile
number are removed before any exporter sees them (a lookup by mobile must not put the mobile in a trace).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from .redact import redact

_PROPAGATOR = TraceContextTextMapPropagator()

# business keys put on spans (no personal data: never mobiles, names, ID numbers)
BUSINESS_KEYS = {"receipt_no": "vip.receipt_no", "store_id": "vip.store_id", "member_id": "vip.member_id",
                 "sale_id": "vip.sale_id"}
_URL_KEYS = ("http.url", "http.target", "url.full")
_QUERY_KEYS = ("url.query",)
_DIGITS = re.compile(r"\d{11}")
_LOOSE = re.compile(r"\d{3}[\s-]?\d{4}[\s-]?\d{4}|DETAIL:|\[parameters:|query argument|[０-９]")  # for redact()
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")


class RecordUnsampled(Sampler):
    """Parent-based ratio sampling whose "no" is RECORD_ONLY (so errors can still be exported), not DROP.

    A CLIENT span started without attributes (how SQLAlchemy's instrumentation starts a statement's span) is
    dropped outright unless its trace is sampled: a background poll's SQL (no parent), and the statements of a
    trace only recorded — a failing statement raises into the request's or event's span, which keeps the error;
    recording every statement of every unsampled sale would cost as much as sampling it."""

    def __init__(self, ratio: float = 1.0) -> None:
        self.ratio = min(max(ratio, 0.0), 1.0)
        self._inner = ParentBased(root=TraceIdRatioBased(self.ratio))

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Attributes = None,
                      links: Sequence[Link] | None = None, trace_state: Any = None) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not attributes and not (parent.is_valid and parent.trace_flags.sampled):
            return SamplingResult(Decision.DROP)  # SQL of a background poll, or of a trace only recorded
        r = self._inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)
        if r.decision is Decision.DROP:
            return SamplingResult(Decision.RECORD_ONLY, r.attributes, r.trace_state)
        return r

    def get_description(self) -> str:
        return f"RecordUnsampled(ParentBased(TraceIdRatioBased({self.ratio})))"


class ErrorSpansKept(SpanProcessor):
    """Hands a recorded-but-not-sampled span that ended with status ERROR to `export` as if sampled."""

    def __init__(self, export: SpanProcessor) -> None:
        self.export = export

    def on_end(self, span: ReadableSpan) -> None:
        ctx = span.context
        if ctx is None or ctx.trace_flags.sampled or span.status.status_code is not StatusCode.ERROR:
            return
        kept = SpanContext(ctx.trace_id, ctx.span_id, ctx.is_remote, TraceFlags(TraceFlags.SAMPLED),
                           ctx.trace_state)
        self.export.on_end(ReadableSpan(
            name=span.name, context=kept, parent=span.parent, resource=span.resource,
            attributes=span.attributes, events=span.events, links=span.links, kind=span.kind,
            status=span.status, start_time=span.start_time, end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope))


class Scrubbed(SpanExporter):
    """Exports through `inner` with personal data removed: URL query strings (a lookup by mobile) and anything
    shaped like a mainland mobile number in attribute or event values (an exception message quoting input)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrub(s) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _clean(key: str, v: Any) -> Any:
    if not isinstance(v, str):
        return v
    if key in _QUERY_KEYS and v:
        return "(scrubbed)"
    if key in _URL_KEYS and "?" in v:
        v = v.split("?", 1)[0] + "?(scrubbed)"
    v = _MOBILE.sub("(mobile)", v) if _DIGITS.search(v) else v
    return redact(v) if _LOOSE.search(v) else v


def _clean_all(attrs: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
    out = dict(attrs or {})
    changed = False
    for k, v in out.items():
        c = _clean(k, v)
        if c is not v:
            out[k], changed = c, changed or c != v
    return out, changed


def scrub(span: ReadableSpan) -> ReadableSpan:
    """`span` itself when clean, else a copy with query strings and mobile numbers removed."""
    attrs, dirty = _clean_all(span.attributes)
    events = []
    for e in span.events:
        ea, d = _clean_all(e.attributes)
        dirty = dirty or d
        events.append(Event(e.name, ea, e.timestamp) if d else e)
    if not dirty:
        return span
    return ReadableSpan(name=span.name, context=span.context, parent=span.parent, resource=span.resource,
                        attributes=attrs, events=events, links=span.links, kind=span.kind, status=span.status,
                        start_time=span.start_time, end_time=span.end_time,
                        instrumentation_scope=span.instrumentation_scope)


def make_tracer_provider(service_name: str, otlp_endpoint: str | None = None, *,
                         zipkin_endpoint: str | None = None, sample_ratio: float = 1.0,
                         exporter: SpanExporter | None = None) -> TracerProvider:
    """Tracer provider for one service: exports to Zipkin when `zipkin_endpoint` is set, else over OTLP/HTTP
    when `otlp_endpoint` is set (or to `exporter`, tests); samples `sample_ratio` of root traces; errors kept."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}),
                              sampler=RecordUnsampled(sample_ratio))
    if exporter is None and zipkin_endpoint:
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        exporter = ZipkinExporter(endpoint=zipkin_endpoint, timeout=5)
    elif exporter is None and otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        exporter = OTLPSpanExporter(endpoint=endpoint)
    if exporter is not None:
        batch = BatchSpanProcessor(Scrubbed(exporter), max_queue_size=8192)
        provider.add_span_processor(batch)
        provider.add_span_processor(ErrorSpansKept(batch))
    return provider


def business_attributes(data: Any) -> dict[str, str]:
    """`vip.receipt_no` / `vip.store_id` / `vip.member_id` / `vip.sale_id` of an event's data or a request
    body (a mapping or an object), for span attributes; only these keys, never personal data."""
    out: dict[str, str] = {}
    for key, attr in BUSINESS_KEYS.items():
        v = data.get(key) if isinstance(data, Mapping) else getattr(data, key, None)
        if isinstance(v, str | int) and not isinstance(v, bool) and v != "":
            out[attr] = str(v)
    return out


def tag_span(span: trace.Span | None = None, data: Any = None, **attrs: str | None) -> None:
    """Put business attributes on `span` (default: the current one) when it records; `attrs` keys are
    named like the data's (`member_id=` → `vip.member_id`, `sales=` → `vip.sales`)."""
    span = span or trace.get_current_span()
    if not span.is_recording():
        return
    if data is not None:
        span.set_attributes(business_attributes(data))
    span.set_attributes({BUSINESS_KEYS.get(k, f"vip.{k}"): v for k, v in attrs.items() if v is not None})


def current_traceparent(ctx: Context | None = None) -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=ctx)
    return carrier.get("traceparent")


def traceparent_of(span: trace.Span) -> str | None:
    return current_traceparent(trace.set_span_in_context(span))


def context_from_headers(headers: Iterable[tuple[str, bytes]] | Mapping[str, str]) -> Context:
    items = headers.items() if isinstance(headers, Mapping) else headers
    carrier = {k: (v.decode(errors="replace") if isinstance(v, bytes) else v) for k, v in items}
    return _PROPAGATOR.extract(carrier)


def context_from_traceparent(tp: str | None) -> Context:
    return _PROPAGATOR.extract({"traceparent": tp} if tp else {})


def span_context_of(tp: str | None) -> SpanContext | None:
    """The remote span context a `traceparent` names (for links), or None."""
    ctx = trace.get_current_span(context_from_traceparent(tp)).get_span_context()
    return ctx if ctx.is_valid else None


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


__all__ = [
    "ErrorSpansKept",
    "RecordUnsampled",
    "Scrubbed",
    "business_attributes",
    "context_from_headers",
    "context_from_traceparent",
    "current_trace_id",
    "current_traceparent",
    "make_tracer_provider",
    "otel_context",
    "span_context_of",
    "tag_span",
    "traceparent_of",
]
