"""Builds the loyalty service from its settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.auth import TokenVerifier
from vipcore.http import admin_guard
from vipcore.runtime import ServiceRuntime

from .config import LoyaltySettings
from .domain.program import load_books
from .entrypoints import consumers, http, reports, stored_value
from .service.commands import Commands
from .service.handlers import LoyaltyHandlers
from .service.jobs import Jobs, Scheduler
from .service.stored_value import HoldReleaser, StoredValueDesk

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def utc_now() -> datetime:
    return datetime.now(UTC)


def build(settings: LoyaltySettings, tracer_provider: TracerProvider | None = None,
          clock: Callable[[], datetime] = utc_now) -> FastAPI:
    books = load_books(settings.programs_dir)
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    handlers = LoyaltyHandlers(books, settings.default_program)
    consumers.register(rt, handlers)
    prefix = settings.kafka_topic_prefix
    commands = Commands(rt.engine, handlers.store, prefix, clock, rt.relay.wake)
    jobs = Jobs(rt.engine, handlers.store, prefix, rt.relay.wake)
    if settings.scheduler_enabled:
        rt.background.append(Scheduler(jobs, clock, settings.scheduler_every_s))
    guard = admin_guard(settings.admin_token.get_secret_value())
    cache = http.StoreCache(rt.engine, settings.default_program)

    async def program_of_store(store_id: str) -> str:
        return (await cache.get(store_id))[0]

    desk = StoredValueDesk(rt.engine, books, clock)
    if settings.scheduler_enabled:
        rt.background.append(HoldReleaser(desk, settings.scheduler_every_s))
    return rt.http_app(http.router(rt.engine, books, settings.default_program, guard, commands, clock, cache),
                       reports.admin_router(rt.engine, books, guard, jobs),
                       reports.staff_router(TokenVerifier(settings.staff_token_public_key), commands, desk,
                                            program_of_store),
                       stored_value.internal_router(desk, guard, program_of_store),
                       stored_value.report_router(rt.engine, guard),
                       title="Loyalty", description="Points ledger, tiers, member prices, redemptions, reports")
