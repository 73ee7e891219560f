"""Notify service settings."""

from __future__ import annotations

from pydantic import Field, SecretStr
from vipcore.settings import EventPiiKeySettings, PiiKeySettings, ServiceSettings


class NotifySettings(ServiceSettings, PiiKeySettings, EventPiiKeySettings):
    service_name: str = "notify"
    http_port: int = 8004
    # PII_KEYS: notify's own at-rest keys (mobiles, N-06); EVENT_PII_KEYS: opens the mobiles members/credit send
    pii_index_key: SecretStr | None = Field(
        None, description="Keyed hash of contacts' mobiles (STOP replies, N-03); defaults to the legacy "
                          "PII_ENCRYPTION_KEY, which earlier versions used for it")
    company_name: str = "金缘珠宝"  # N-02: the only sender when an event names no brand
    sms_provider: str = "simulator"  # simulator | twilio
    sms_simulator_url: str = "http://127.0.0.1:8009"
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from: str = ""
    public_url: str = ""  # where providers reach our webhooks (Twilio status callbacks)
    sms_max_attempts: int = 6
    sms_concurrency: int = 64
    sms_stuck_after_s: float = 60.0  # a 'sending' row this old is resent with the same key (N-04)
    sms_daily_cap: int = 2  # marketing messages per member per day (N-03)
    large_earn_points: int = 2000  # N-01: thank-you SMS from this many points on one sale
    body_retention_days: int = 90  # N-06: message bodies are purged after this
    dispatch_batch: int = 500
    dispatch_workers: int = 2  # claim loops side by side
    dispatch_idle_poll_ms: int = 200  # local triggers wake the dispatcher at once; this is the fallback
