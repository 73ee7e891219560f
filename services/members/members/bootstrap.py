"""Builds the members service from its settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.auth import TokenIssuer
from vipcore.runtime import ServiceRuntime

from .adapters.reports import Reports
from .config import MembersSettings
from .entrypoints import consumers, http, staff_http
from .service.engagement import Engagement
from .service.files import MemberFiles
from .service.handovers import Handovers
from .service.importer import Importer
from .service.merges import Merges
from .service.periodic import Periodic, Scheduler
from .service.registry import Registry
from .service.staffauth import StaffLogin
from .service.validity import CardValidity, read_documents
from .service.workflows import Workflows

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: MembersSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    consumers.register(rt)
    index_key = settings.pii_index_key.get_secret_value()
    enc_key = settings.pii_encryption_key.get_secret_value()
    validity = CardValidity(rt.engine, read_documents(settings.programs_dir), settings.card_validity_years,
                            clock=lambda: datetime.now(UTC))
    reg = Registry(rt.engine, index_key, enc_key, settings.kafka_topic_prefix, rt.relay.wake, validity)
    files = MemberFiles(rt.engine, index_key, enc_key, settings.kafka_topic_prefix, rt.relay.wake,
                        clock=lambda: datetime.now(UTC), validity=validity)
    periodic = Periodic(rt.engine, settings.kafka_topic_prefix, rt.relay.wake, clock=lambda: datetime.now(UTC))
    rt.background.append(Scheduler(periodic, settings.periodic_interval_s))
    flows = Workflows(rt.engine, files, index_key, settings.kafka_topic_prefix, rt.relay.wake,
                      clock=lambda: datetime.now(UTC))
    handovers = Handovers(rt.engine, settings.kafka_topic_prefix, rt.relay.wake, clock=lambda: datetime.now(UTC))
    key = settings.staff_token_private_key
    login = StaffLogin(rt.engine, TokenIssuer(key.get_secret_value(), settings.staff_token_ttl_s) if key else None,
                      settings.staff_refresh_ttl_s)
    reports = Reports(rt.engine)
    return rt.http_app(http.router(reg, reports, rt.admin_guard(),
                                   periodic, Importer(rt.engine, index_key, enc_key, settings.kafka_topic_prefix,
                                                      rt.relay.wake, clock=lambda: datetime.now(UTC),
                                                      validity=validity), validity),
                       staff_http.router(files, login, rt.staff_verifier, flows,
                                         handovers, Engagement(rt.engine, files, index_key, enc_key,
                                                               clock=lambda: datetime.now(UTC)),
                                         Merges(rt.engine, enc_key, settings.kafka_topic_prefix, rt.relay.wake,
                                                clock=lambda: datetime.now(UTC)), reports),
                       title="Members", description="Member files, cards, organisation")
