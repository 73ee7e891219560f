"""The one broker factory: FastStream broker and raw aiokafka producer with the same safe settings."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider

# acks=all + idempotence: a retried send is never duplicated or reordered within a partition.
PRODUCER_SAFETY: dict[str, Any] = {"acks": "all", "enable_idempotence": True}
PRODUCER_BATCHING: dict[str, Any] = {"linger_ms": 5, "max_batch_size": 256 * 1024, "compression_type": None}


def make_broker(bootstrap: str, *, client_id: str, tracer_provider: TracerProvider | None) -> KafkaBroker:
    """FastStream broker used for subscribers (and AsyncAPI docs)."""
    return KafkaBroker(
        [h.strip() for h in bootstrap.split(",") if h.strip()],  # a cluster: "h1:p1,h2:p2,h3:p3"
        client_id=client_id,
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        logger=None,
        **PRODUCER_SAFETY,
    )


def make_producer(bootstrap: str, *, client_id: str) -> AIOKafkaProducer:
    """Raw producer for the outbox relay and DLQ: batched sends awaited together."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, client_id=client_id, **PRODUCER_SAFETY, **PRODUCER_BATCHING
    )
