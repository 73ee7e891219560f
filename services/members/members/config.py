"""Members service settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from vipcore.settings import EventPiiKeySettings, PiiKeySettings, ServiceSettings

REPO = Path(__file__).resolve().parents[3]


class MembersSettings(ServiceSettings, PiiKeySettings, EventPiiKeySettings):
    service_name: str = "members"
    http_port: int = 8001
    pii_index_key: SecretStr  # keyed hash for finding members by mobile/name (shared with the gateway)
    # PII_KEYS: this service's at-rest keys; EVENT_PII_KEYS: personal fields of its events (vipcore.settings)
    staff_token_private_key: SecretStr | None = None  # Ed25519 (base64 raw) signing staff tokens
    card_validity_years: int = 2  # M-17: default card validity where neither HQ nor the program document sets one
    programs_dir: Path = REPO / "programs"  # program documents: a stated card validity is used (M-17)
    periodic_interval_s: float = 3600.0  # how often the scheduler runs the time-driven rules (M-03, M-09..M-11)
