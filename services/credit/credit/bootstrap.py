"""Builds the credit service from its settings."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.http import admin_guard
from vipcore.runtime import ServiceRuntime

from .config import CreditSettings
from .entrypoints import consumers, http

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: CreditSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    consumers.register(rt)
    return rt.http_app(http.router(rt.engine, admin_guard(settings.admin_token.get_secret_value())),
                       title="Credit", description="Group buyers' credit and receivables")
