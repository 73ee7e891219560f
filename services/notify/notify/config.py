"""Notify service settings."""

from __future__ import annotations

from pydantic import SecretStr
from vipcore.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004
    pii_encryption_key: SecretStr  # mobile numbers at rest (N-06)
    sms_provider: str = "simulator"
    sms_simulator_url: str = "http://127.0.0.1:8009"
    sms_max_attempts: int = 6
    sms_concurrency: int = 64
    dispatch_batch: int = 500
    dispatch_idle_poll_ms: int = 20
