"""Gateway settings."""

from __future__ import annotations

from pydantic import SecretStr
from vipcore.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    http_port: int = 8000
    loyalty_url: str = "http://127.0.0.1:8002"
    credit_url: str = "http://127.0.0.1:8003"
    members_url: str = "http://127.0.0.1:8001"  # L-07, L-11: members judges the member's code or PIN
    pii_index_key: SecretStr  # same key as the members service: finds members by mobile/name
    api_key_cache_seconds: float = 30.0
