"""Builds the gateway from its settings."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.http import admin_guard
from vipcore.httpclient import InternalClient
from vipcore.runtime import ServiceRuntime

from .config import GatewaySettings
from .entrypoints import consumers, credit, http, redemptions
from .service.apikeys import KeyVerifier
from .service.coalescer import SaleCoalescer
from .service.directory import Directory
from .service.sales import SalesDesk
from .service.stored_value import StoredValuePayments

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: GatewaySettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    token = settings.admin_token.get_secret_value()
    directory = Directory(settings.pii_index_key.get_secret_value())
    consumers.register(rt, directory)
    desk = SalesDesk(rt.engine, directory, settings.kafka_topic_prefix, rt.relay.wake, rt.tracer_provider)
    loyalty_api = InternalClient(settings.loyalty_url, peer="loyalty", token=token, tracer_provider=rt.tracer_provider)
    rt.closers.append(loyalty_api.aclose)
    keys = KeyVerifier(rt.engine, settings.api_key_cache_seconds)
    credit_client = credit.credit_client(settings, rt.tracer_provider)
    app = rt.http_app(
        http.pos_router(desk, keys, directory, rt.engine, loyalty_api, SaleCoalescer(desk),
                        StoredValuePayments(rt.engine, directory, loyalty_api),
                        coupons=credit.CouponGate(credit_client, rt.engine)),
        http.admin_router(rt.engine, admin_guard(token)),
        credit.credit_router(settings, keys, credit_client),
        redemptions.redemptions_router(keys, directory, rt.engine, loyalty_api),
        title="POS API", description="The API store POS terminals integrate against (v1).")
    return app
