"""Builds the gateway from its settings."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.httpclient import InternalClient
from vipcore.runtime import ServiceRuntime

from .config import GatewaySettings
from .entrypoints import consumers, credit, http, redemptions
from .entrypoints.desk import desk_router
from .entrypoints.limits import PosLimits
from .service.apikeys import KeyVerifier
from .service.checkout import Checkout
from .service.coalescer import SaleCoalescer
from .service.coupons import CouponGate
from .service.credit import CreditDesk, CreditSaleGate, credit_client
from .service.directory import Directory
from .service.lookup import MemberLookup
from .service.proofs import MemberProofs
from .service.quotes import QuoteBatcher, Quoting
from .service.redemptions import Redemptions
from .service.sales import SalesDesk
from .service.stored_value import StoredValuePayments

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: GatewaySettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    directory = Directory(settings.pii_index_key.get_secret_value())
    consumers.register(rt, directory)
    desk = SalesDesk(rt.engine, directory, settings.kafka_topic_prefix, rt.relay.wake, rt.tracer_provider)
    loyalty_api = InternalClient(settings.loyalty_url, peer="loyalty", token=rt.token_provider("loyalty"),
                                 tracer_provider=rt.tracer_provider)
    rt.closers.append(loyalty_api.aclose)
    keys = KeyVerifier(rt.engine, settings.api_key_cache_seconds)
    credit_api = credit_client(settings, rt.tracer_provider, rt.token_provider("credit"))
    rt.closers.append(credit_api.aclose)
    members_api = InternalClient(settings.members_url, peer="members", token=rt.token_provider("members"),
                                 tracer_provider=rt.tracer_provider)
    rt.closers.append(members_api.aclose)
    proofs = MemberProofs(members_api)
    checkout = Checkout(desk, SaleCoalescer(desk, max_pending=settings.sale_queue_max),
                        StoredValuePayments(rt.engine, directory, loyalty_api, proofs),
                        CouponGate(credit_api, rt.engine), CreditSaleGate(credit_api, rt.engine))
    limits = PosLimits.from_settings(settings)
    redeem = Redemptions(rt.engine, directory, loyalty_api, proofs)
    # bodies: a single command of the POS API fits 256 KiB (a sale of 500 lines is ~100 KiB); an upload of 500
    # offline receipts gets 16 MiB. Everything else (admin) the default (http_max_body_bytes).
    rt.body_limits.update({"/v1/*": 256 * 1024, "/v1/sales:batch": 16 * 1024 * 1024})
    app = rt.http_app(
        http.pos_router(checkout, desk, keys, MemberLookup(rt.engine, directory, loyalty_api),
                        Quoting(directory, rt.engine, QuoteBatcher(loyalty_api, max_pending=settings.quote_queue_max)),
                        limits),
        http.admin_router(rt.engine, rt.admin_guard()),
        credit.credit_router(keys, CreditDesk(credit_api), limits),
        redemptions.redemptions_router(keys, redeem, limits),
        desk_router(rt.staff_verifier, redeem, rt.engine),
        title="POS API", description="The API store POS terminals integrate against (v1).")
    return app
