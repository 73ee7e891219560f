"""Structured JSON logs carrying the current trace id; no personal data in clear (N-06, vipcore.redact)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from .redact import mask_mobiles, redact
from .telemetry import current_trace_id

__all__ = ["configure_logging", "get_logger", "mask_mobiles"]


def _add_trace(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    tid = current_trace_id()
    if tid:
        event["trace_id"] = tid
    return event


def _mask(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Every value, tracebacks included: mobiles and ID numbers masked, values quoted by database errors dropped."""
    return {k: redact(v) if isinstance(v, str) else v for k, v in event.items()}


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout for structlog and the standard library alike."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
        structlog.processors.format_exc_info,
        _mask,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.JSONRenderer()],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access", "faststream", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
