"""Builds the members service from its settings."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.http import admin_guard
from vipcore.runtime import ServiceRuntime

from .config import MembersSettings
from .entrypoints import consumers, http
from .service.registry import Registry

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: MembersSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    consumers.register(rt)
    reg = Registry(rt.engine, settings.pii_index_key.get_secret_value(),
                   settings.pii_encryption_key.get_secret_value(), settings.kafka_topic_prefix, rt.relay.wake)
    return rt.http_app(http.router(reg, rt.engine, admin_guard(settings.admin_token.get_secret_value())),
                       title="Members", description="Member files, cards, organisation")
