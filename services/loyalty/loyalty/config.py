"""Loyalty service settings."""

from __future__ import annotations

from pathlib import Path

from vipcore.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[3]


class LoyaltySettings(ServiceSettings):
    service_name: str = "loyalty"
    http_port: int = 8002
    programs_dir: Path = REPO / "programs"
    default_program: str = "generic"
    scheduler_enabled: bool = True
    scheduler_every_s: float = 60.0
