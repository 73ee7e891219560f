"""OpenTelemetry wiring: a tracer provider per service, W3C traceparent in and out of Kafka headers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


def make_tracer_provider(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """Tracer provider for one service; exports over OTLP/HTTP when an endpoint is configured."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


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


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


__all__ = [
    "context_from_headers",
    "context_from_traceparent",
    "current_trace_id",
    "current_traceparent",
    "make_tracer_provider",
    "otel_context",
    "traceparent_of",
]
