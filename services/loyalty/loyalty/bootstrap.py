"""Builds the loyalty service from its settings."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.http import admin_guard
from vipcore.runtime import ServiceRuntime

from .config import LoyaltySettings
from .domain.program import load_programs
from .entrypoints import consumers, http
from .service.handlers import LoyaltyHandlers

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: LoyaltySettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    programs = load_programs(settings.programs_dir)
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    handlers = LoyaltyHandlers(programs, settings.default_program)
    consumers.register(rt, handlers)
    guard = admin_guard(settings.admin_token.get_secret_value())
    return rt.http_app(http.router(rt.engine, programs, settings.default_program, guard),
                       title="Loyalty", description="Points ledger, tiers, member prices")
