"""Credit service settings."""

from __future__ import annotations

from vipcore.settings import ServiceSettings


class CreditSettings(ServiceSettings):
    service_name: str = "credit"
    http_port: int = 8003
