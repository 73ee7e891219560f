"""Builds the members service from its settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from vipcore.auth import TokenIssuer
from vipcore.httpclient import InternalClient
from vipcore.pii_upkeep import Rotator
from vipcore.proof import ProofIssuer
from vipcore.runtime import ServiceRuntime
from vipcore.topics import MEMBERS_EVENTS

from .adapters.reports import Reports
from .config import MembersSettings
from .entrypoints import consumers, desk_http, export_http, http, proofs_http, staff_http, storedesk_http
from .pii import SEALED, Reindexer
from .service.engagement import Engagement
from .service.exports import ExportSweeper, FileExports
from .service.filedesk import FileDesk
from .service.files import MemberFiles
from .service.handovers import Handovers
from .service.importer import Importer
from .service.merges import Merges
from .service.periodic import Periodic, Scheduler
from .service.proofs import Proofs, read_program_proofs
from .service.registry import Registry
from .service.staffauth import LoginThrottle, StaffLogin
from .service.validity import CardValidity, read_documents, read_program_tiers
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
    login = StaffLogin(rt.engine, TokenIssuer(key.get_secret_value(), settings.staff_token_ttl_s) if key else None,
                       settings.staff_refresh_ttl_s, LoginThrottle.of(
        account_per_min=settings.login_failures_per_account_per_min,
        account_burst=settings.login_failures_per_account_burst,
        address_per_min=settings.login_failures_per_address_per_min,
        address_burst=settings.login_failures_per_address_burst, instances=settings.instance_count))
    # bodies: an import is a whole spreadsheet (100,000 customers ~ 10 MiB as CSV); registering members in bulk
    # (HQ, demo, bench) sends up to a few thousand at once. Others keep http_max_body_bytes.
    rt.body_limits.update({"/v1/imports": 64 * 1024 * 1024, "/v1/members": 16 * 1024 * 1024})
    reports = Reports(rt.engine)
    notify_api = InternalClient(settings.notify_url, peer="notify", token=rt.token_provider("notify"),
                                tracer_provider=rt.tracer_provider)
    rt.closers.append(notify_api.aclose)
    methods, brands = read_program_proofs(settings.programs_dir)
    proofs = Proofs(rt.engine, index_key, enc_key, methods, brands,
                    ProofIssuer(key.get_secret_value()) if key else None, notify_api, clock=lambda: datetime.now(UTC))
    exports = FileExports(rt.engine, files, enc_key, clock=lambda: datetime.now(UTC),  # M-07 bulk export jobs
                          chunk=settings.export_chunk_rows, stale_s=settings.export_stale_s)
    rt.background.append(ExportSweeper(exports))  # jobs of a stopped process marked failed, old files deleted
    importer = Importer(rt.engine, index_key, enc_key, settings.kafka_topic_prefix, rt.relay.wake,
                        clock=lambda: datetime.now(UTC), validity=validity, event_keys=event_keys,
                        tiers=read_program_tiers(settings.programs_dir))  # an opening tier is the program's (L-04)
    return rt.http_app(http.router(reg, reports, rt.admin_guard(), periodic, importer, validity),
                       staff_http.router(files, login, rt.staff_verifier, flows,
                                         handovers, Engagement(rt.engine, files, index_key, enc_key,
                                                               clock=lambda: datetime.now(UTC)),
                                         Merges(rt.engine, enc_key, settings.kafka_topic_prefix, rt.relay.wake,
                                                clock=lambda: datetime.now(UTC), event_keys=event_keys), reports),
                       desk_http.router(FileDesk(files), rt.staff_verifier),
                       proofs_http.internal_router(proofs, rt.internal_guard("gateway")),
                       proofs_http.admin_router(proofs, rt.admin_guard()),
                       proofs_http.staff_router(proofs, rt.staff_verifier),
                       storedesk_http.staff_router(handovers, rt.staff_verifier),
                       storedesk_http.admin_router(importer, rt.admin_guard()),
                       export_http.router(exports, rt.staff_verifier),
                       title="Members", description="Member files, cards, organisation")
