"""Structured JSON logs carrying the current trace id; phone numbers never logged in clear (N-06)."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from .telemetry import current_trace_id

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_mobiles(text: str) -> str:
    """138****5678 for any mainland mobile number inside `text`."""
    return _MOBILE.sub(r"\1****\2", text)


def _add_trace(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    tid = current_trace_id()
    if tid:
        event["trace_id"] = tid
    return event


def _mask(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_mobiles(v) if isinstance(v, str) else v for k, v in event.items()}


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
