"""Builds the notify service from its settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import Counter
from vipcore.contracts.notify import MessageDelivered, MessageFailed, MessageParked, MessageSent
from vipcore.pii_upkeep import Rotator
from vipcore.runtime import ServiceRuntime
from vipcore.topics import NOTIFY_EVENTS

from .adapters.providers import TwilioProvider, make_provider
from .adapters.reports import MessageReports
from .config import NotifySettings
from .entrypoints import campaigns, consumers, counts_http, desk_http, http
from .pii import SEALED
from .service.campaigns import Campaigns
from .service.dispatch import Dispatcher
from .service.ops import Ops, Purger
from .service.planner import Planner
from .service.templates import Templates
from .service.transactional import Transactional
from .service.triggers import Triggers

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def build(settings: NotifySettings, tracer_provider: TracerProvider | None = None,
          clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> FastAPI:
    rt = ServiceRuntime(settings, versions_dir=MIGRATIONS, tracer_provider=tracer_provider)
    key = settings.pii_keyring()
    event_keys = settings.event_keyring()
    index = settings.pii_index_key or settings.pii_encryption_key
    if index is None:
        raise ValueError("PII_INDEX_KEY is required")
    index_key = index.get_secret_value()
    topic = settings.kafka_topic_prefix + NOTIFY_EVENTS.name
    callback = settings.public_url.rstrip("/") + "/v1/webhooks/twilio/status" if settings.public_url else None
    provider = make_provider(settings.sms_provider, simulator_url=settings.sms_simulator_url,
                             twilio_account_sid=settings.twilio_account_sid,
                             twilio_auth_token=settings.twilio_auth_token.get_secret_value(),
                             twilio_from=settings.twilio_from, status_callback=callback)
    HTTPXClientInstrumentor.instrument_client(provider.client, tracer_provider=rt.tracer_provider)
    dispatcher = Dispatcher(
        rt.engine, provider, enc_key=key, max_attempts=settings.sms_max_attempts,
        concurrency=settings.sms_concurrency, batch=settings.dispatch_batch,
        idle_poll_s=settings.dispatch_idle_poll_ms / 1000, topic=topic, stuck_after_s=settings.sms_stuck_after_s,
        workers=settings.dispatch_workers,
        tracer_provider=rt.tracer_provider, on_events=rt.relay.wake,
        sent_counter=Counter("sms_sent", "SMS accepted by the provider", registry=rt.registry),
        failed_counter=Counter("sms_failed", "SMS attempts that failed", registry=rt.registry),
        parked_counter=Counter("sms_parked", "SMS given up (parked for ops)", registry=rt.registry))
    ops = Ops(rt.engine, index_key=index_key, topic=topic, wake_dispatch=dispatcher.wake, wake_relay=rt.relay.wake)
    camps = Campaigns(rt.engine, daily_cap=settings.sms_daily_cap, clock=clock, wake_dispatch=dispatcher.wake)
    rt.background += [dispatcher, Purger(ops, settings.body_retention_days), camps,
                      Rotator(rt.engine, key, SEALED, "notify")]  # rows under an older key (PII_KEYS)
    planner = Planner(enc_key=key, company_name=settings.company_name, daily_cap=settings.sms_daily_cap,
                      clock=clock)
    consumers.register(rt, Triggers(key, dispatcher.wake, planner, event_keys=event_keys, index_key=index_key,
                                    thresholds={"large_earn_points": settings.large_earn_points}))
    rt.publishes(NOTIFY_EVENTS, MessageSent, MessageDelivered, MessageFailed, MessageParked)
    guard = rt.admin_guard()
    twilio = provider if isinstance(provider, TwilioProvider) else None
    reports, tpl = MessageReports(rt.engine, key), Templates(rt.engine)
    return rt.http_app(desk_http.router(reports, tpl, guard, settings.company_name),  # before /templates/{key}/..
                       http.router(reports, tpl, guard, ops),
                       http.webhooks(ops, guard, twilio, settings.public_url),
                       http.internal_router(Transactional(rt.engine, key, settings.company_name, dispatcher.wake,
                                                          clock), rt.internal_guard("members")),
                       campaigns.router(camps, guard, settings.company_name, rt.staff_verifier),
                       counts_http.router(rt.engine, guard),
                       title="Notify", description="SMS and other messages")
