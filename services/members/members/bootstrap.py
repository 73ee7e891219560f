"""Builds the members service from its settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.auth import TokenIssuer, TokenVerifier
from vipcore.http import admin_guard
from vipcore.pii_upkeep import Rotator
from vipcore.runtime import ServiceRuntime
from vipcore.topics import MEMBERS_EVENTS

from .adapters.reports import Reports
from .config import MembersSettings
from .entrypoints import consumers, http, staff_http
from .pii import SEALED, Reindexer
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
    enc_key = settings.pii_keyring()
    event_keys = settings.event_keyring()
    validity = CardValidity(rt.engine, read_documents(settings.programs_dir), settings.card_validity_years,
                            clock=lambda: datetime.now(UTC))
    reg = Registry(rt.engine, index_key, enc_key, settings.kafka_topic_prefix, rt.relay.wake, validity,
                   event_keys=event_keys)
    files = MemberFiles(rt.engine, index_key, enc_key, settings.kafka_topic_prefix, rt.relay.wake,
                        clock=lambda: datetime.now(UTC), validity=validity, event_keys=event_keys)
    periodic = Periodic(rt.engine, settings.kafka_topic_prefix, rt.relay.wake, clock=lambda: datetime.now(UTC))
    rt.background.append(Scheduler(periodic, settings.periodic_interval_s))
    rt.background.append(Reindexer(rt.engine, index_key, enc_key, event_keys,  # indexes of an older scheme
                                   settings.kafka_topic_prefix + MEMBERS_EVENTS.name, rt.relay.wake))
    rt.background.append(Rotator(rt.engine, enc_key, SEALED, "members"))  # rows under an older key (PII_KEYS)
    flows = Workflows(rt.engine, files, index_key, settings.kafka_topic_prefix, rt.relay.wake,
                      clock=lambda: datetime.now(UTC))
    handovers = Handovers(rt.engine, settings.kafka_topic_prefix, rt.relay.wake, clock=lambda: datetime.now(UTC),
                          event_keys=event_keys)
    key = settings.staff_token_private_key
    login = StaffLogin(rt.engine, TokenIssuer(key.get_secret_value()) if key else None)
    reports = Reports(rt.engine)
    return rt.http_app(http.router(reg, reports, admin_guard(settings.admin_token.get_secret_value()),
                                   periodic, Importer(rt.engine, index_key, enc_key, settings.kafka_topic_prefix,
                                                      rt.relay.wake, clock=lambda: datetime.now(UTC),
                                                      validity=validity, event_keys=event_keys), validity),
                       staff_http.router(files, login, TokenVerifier(settings.staff_token_public_key), flows,
                                         handovers, Engagement(rt.engine, files, index_key, enc_key,
                                                               clock=lambda: datetime.now(UTC)),
                                         Merges(rt.engine, enc_key, settings.kafka_topic_prefix, rt.relay.wake,
                                                clock=lambda: datetime.now(UTC), event_keys=event_keys), reports),
                       title="Members", description="Member files, cards, organisation")
