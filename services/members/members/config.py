"""Members service settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from vipcore.settings import EventPiiKeySettings, PiiKeySettings, ServiceSettings

REPO = Path(__file__).resolve().parents[3]


class MembersSettings(ServiceSettings, PiiKeySettings, EventPiiKeySettings):
    service_name: str = "members"
    http_port: int = 8001
    pii_index_key: SecretStr  # keyed hash for finding members by mobile/name (shared with the gateway)
    # PII_KEYS: this service's at-rest keys; EVENT_PII_KEYS: personal fields of its events (vipcore.settings)
    staff_token_private_key: SecretStr | None = None  # Ed25519 (base64 raw) signing staff tokens
    staff_refresh_ttl_s: int = Field(12 * 3600, ge=300, description="O-03: how long a staff refresh token may be "
                                                                    "used (each use rotates it)")
    card_validity_years: int = 2  # M-17: default card validity where neither HQ nor the program document sets one
    programs_dir: Path = REPO / "programs"  # program documents: a stated card validity is used (M-17)
    notify_url: str = "http://127.0.0.1:8004"  # L-07, L-11: one-time spending codes go out as transactional SMS
    periodic_interval_s: float = 3600.0  # how often the scheduler runs the time-driven rules (M-03, M-09..M-11)
    export_chunk_rows: int = Field(5000, ge=100, le=50_000, description="M-07: member files per chunk of an export "
                                                                      "job (one transaction, one access-log row)")
    export_stale_s: float = Field(120.0, ge=1, description="M-07: an export job without a heartbeat for this long "
                                                           "was interrupted (its process stopped): marked failed")

    # Failed staff logins (token buckets; 429 with Retry-After, checked before scrypt runs). docs/architecture.md
    login_failures_per_account_burst: int = Field(
        5, ge=1, description="wrong passwords in a row for one staff id before it is slowed down")
    login_failures_per_account_per_min: float = Field(
        1.0, gt=0, description="then one more try a minute: ~1,400 guesses a day instead of millions")
    login_failures_per_address_burst: int = Field(
        30, ge=1, description="failed logins from one client address (the console logs everyone in from one "
                              "address, and a store's tills share one)")
    login_failures_per_address_per_min: float = Field(10.0, gt=0)
