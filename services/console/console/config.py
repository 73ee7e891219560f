"""Console service settings: where the owning services answer, and the console's own port."""

from __future__ import annotations

import pydantic_settings
from pydantic import Field


class ConsoleSettings(pydantic_settings.BaseSettings):  # module import: devstack finds *Settings
    """The console keeps no database and reads no topic: it only calls the other services' HTTP APIs."""

    model_config = pydantic_settings.SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_name: str = "console"
    http_host: str = "127.0.0.1"
    http_port: int = 8010
    http_reuse_port: bool = Field(False, description="bind with SO_REUSEPORT so several console processes "
                                                     "share the port (docs/scaling.md)")
    members_url: str = Field("http://127.0.0.1:8001", description="members API (login, files, review queue)")
    loyalty_url: str = Field("http://127.0.0.1:8002", description="loyalty API (ledger, adjustments)")
    credit_url: str = Field("http://127.0.0.1:8003", description="credit API (aging)")
    notify_url: str = Field("http://127.0.0.1:8004", description="notify API (messages, campaigns)")
    gateway_url: str = Field("http://127.0.0.1:8000", description="gateway API (the ops page: its /ops routes)")
    traces_url: str | None = Field(
        None, description="The trace viewer (Zipkin; ./dev up: http://127.0.0.1:9411/zipkin/): the ops page lists "
                          "recent error traces from its API and links each to its page; unset: the page says so")
    staff_token_public_key: str | None = Field(
        None, description="Ed25519 public key (base64) verifying staff tokens from members; the cookie is checked")
    session_renew_before_s: float = Field(
        60, ge=0, description="Renew the staff token with the refresh token when it expires within this many "
                              "seconds (O-03: staff tokens are short-lived)")
    cookie_secure: bool = Field(False, description="Send the session cookie only over HTTPS (set behind TLS)")
    upstream_timeout_s: float = 10.0
    programs: str = Field("jewelry,generic,cosmetics,dental,outdoor",
                          description="Loyalty programs offered in the points-adjustment form (comma-separated)")
    page_size: int = Field(20, ge=5, le=200, description="Rows per page in every list")
    http_max_body_bytes: int = Field(
        64 * 1024, ge=0, description="Largest request body (413 past it, before the form is parsed): the console's "
                                     "forms are a few short fields")
    import_max_body_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="Largest spreadsheet uploaded for import (M-19), as members takes")
    otel_exporter_otlp_endpoint: str | None = None
    log_level: str = "INFO"
