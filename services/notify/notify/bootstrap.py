"""Builds the notify service from its settings."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import Counter
from vipcore.http import admin_guard
from vipcore.runtime import ServiceRuntime

from .adapters.providers import SimulatorProvider, make_provider
from .config import NotifySettings
from .entrypoints import consumers, http
from .service.dispatch import Dispatcher
from .service.triggers import Triggers

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: NotifySettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    key = settings.pii_encryption_key.get_secret_value()
    provider = make_provider(settings.sms_provider, simulator_url=settings.sms_simulator_url)
    if isinstance(provider, SimulatorProvider):
        HTTPXClientInstrumentor.instrument_client(provider.client, tracer_provider=rt.tracer_provider)
    dispatcher = Dispatcher(
        rt.engine, provider, enc_key=key, max_attempts=settings.sms_max_attempts,
        concurrency=settings.sms_concurrency, batch=settings.dispatch_batch,
        idle_poll_s=settings.dispatch_idle_poll_ms / 1000, tracer_provider=rt.tracer_provider,
        sent_counter=Counter("sms_sent", "SMS accepted by the provider", registry=rt.registry),
        failed_counter=Counter("sms_failed", "SMS attempts that failed", registry=rt.registry))
    rt.background.append(dispatcher)
    consumers.register(rt, Triggers(key, dispatcher.wake))
    return rt.http_app(http.router(rt.engine, key, admin_guard(settings.admin_token.get_secret_value())),
                       title="Notify", description="SMS and other messages")
