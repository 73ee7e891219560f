"""Builds the loyalty service from its settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.auth import Role
from vipcore.proof import ProofVerifier
from vipcore.runtime import ServiceRuntime

from .adapters.stores import StoreCache
from .config import LoyaltySettings
from .domain.program import load_books
from .entrypoints import consumers, http, program_http, reports_http, staff_http
from .service.commands import Commands
from .service.handlers import LoyaltyHandlers
from .service.jobs import Jobs, Scheduler
from .service.pricing import Pricing
from .service.programs import Programs
from .service.stored_value import HoldReleaser, StoredValueDesk

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


STATEMENT_READERS = (Role.HQ_ADMIN, Role.HQ_CS, Role.AUDITOR)  # O-02: a member's points, tiers, stored value


def utc_now() -> datetime:
    return datetime.now(UTC)


def build(settings: LoyaltySettings, tracer_provider: TracerProvider | None = None,
          clock: Callable[[], datetime] = utc_now) -> FastAPI:
    books = load_books(settings.programs_dir)
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    handlers = LoyaltyHandlers(books, settings.default_program)
    consumers.register(rt, handlers)
    prefix = settings.kafka_topic_prefix
    proofs = ProofVerifier(settings.staff_token_public_key)  # members signs spending proofs (L-07, L-11)
    commands = Commands(rt.engine, handlers.store, prefix, clock, rt.relay.wake, proofs)
    jobs = Jobs(rt.engine, handlers.store, prefix, rt.relay.wake)
    if settings.scheduler_enabled:
        rt.background.append(Scheduler(jobs, clock, settings.scheduler_every_s))
    stores = StoreCache(rt.engine, set(books), settings.default_program)
    desk = StoredValueDesk(rt.engine, books, clock)
    if settings.scheduler_enabled:
        rt.background.append(HoldReleaser(desk, settings.scheduler_every_s))
    # bodies: the gateway's shared quote call carries up to 200 baskets (of up to 500 lines); others keep the default
    rt.body_limits.update({"/internal/quotes:batch": 16 * 1024 * 1024})
    return rt.http_app(http.internal_router(Pricing(rt.engine, books, stores, clock), commands, desk, stores,
                                            rt.internal_guard("gateway"), proofs),
                       reports_http.admin_router(rt.engine, books, rt.admin_guard(), jobs),
                       reports_http.statements_router(rt.engine, rt.admin_guard(*STATEMENT_READERS)),
                       staff_http.staff_router(rt.staff_verifier, commands, desk, stores),
                       program_http.program_router(rt.staff_verifier, Programs(rt.engine, books, stores, clock)),
                       title="Loyalty", description="Points ledger, tiers, member prices, redemptions, reports")
