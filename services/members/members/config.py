"""Members service settings."""

from __future__ import annotations

from pydantic import SecretStr
from vipcore.settings import ServiceSettings


class MembersSettings(ServiceSettings):
    service_name: str = "members"
    http_port: int = 8001
    pii_index_key: SecretStr  # keyed hash for finding members by mobile/name
    pii_encryption_key: SecretStr  # AES-GCM key for mobile numbers at rest
    staff_token_private_key: SecretStr | None = None  # Ed25519 (base64 raw) signing staff tokens
    card_validity_years: int = 2  # M-17: card validity (1 or 2 years by program)
    periodic_interval_s: float = 3600.0  # how often the scheduler runs the time-driven rules (M-03, M-09..M-11)
