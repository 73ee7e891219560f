"""Builds the credit service from its settings."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.pii_upkeep import Rotator
from vipcore.runtime import ServiceRuntime

from .config import CreditSettings
from .entrypoints import consumers, coupons_http, desk_http, http
from .pii import sealed
from .service.context import Clock, Credit, utc_now
from .service.daily import DailyScheduler
from .service.members_in import MemberClasses
from .service.receivables import ReceivableBook
from .service.staff import StaffDirectory

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: CreditSettings, tracer_provider: TracerProvider | None = None, clock: Clock = utc_now) -> FastAPI:
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    enc_key = settings.pii_keyring()
    c = Credit(rt.engine, settings.kafka_topic_prefix, rt.relay.wake, clock, settings.default_timezone,
               settings.authorization_ttl_s, enc_key, coupon_release_s=settings.coupon_release_after_s,
               event_keys=settings.event_keyring(), index_key=settings.pii_index_key.get_secret_value())
    consumers.register(rt, ReceivableBook(c), StaffDirectory(enc_key, c.event_keys), MemberClasses())
    rt.background.append(Rotator(rt.engine, enc_key, sealed(c.index_key), "credit"))  # old keys, clear phones
    rt.background.append(DailyScheduler(c, settings.scheduler_interval_s))
    verifier = rt.staff_verifier
    guard = rt.admin_guard(internal=("gateway",))  # /internal/*: the gateway's service token only; else hq_admin
    return rt.http_app(http.staff_router(c, verifier), coupons_http.coupons_router(c, verifier),
                       desk_http.desk_router(c, verifier),
                       http.internal_router(c, guard), coupons_http.redemption_router(c, guard),
                       title="Credit", description="Group buyers' credit, receivables, payments, aging, bad debt")
