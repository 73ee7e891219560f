"""Settings common to every service (pydantic-settings, read from the environment)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .pii import Keyring

UNSAFE_SECRETS = {"", "changeme", "secret", "admin"}


class ServiceSettings(BaseSettings):
    """What any service needs to run; each service subclasses it and adds its own fields."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_name: str = Field(description="Name used in traces, logs, consumer groups")
    database_url: str = Field(description="SQLAlchemy URL, e.g. postgresql+asyncpg://u@h:5432/db")
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    kafka_topic_prefix: str = Field("", description="Prefix for every topic name (isolated test runs)")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_reuse_port: bool = Field(
        False, description="Bind the HTTP port with SO_REUSEPORT (Linux): several instances of a service share "
                           "one port and the kernel spreads connections over them")
    instance_count: int = Field(
        1, ge=1, description="How many processes of this service run side by side (./dev up --instances, the "
                             "replicas of deploy/k8s). Limits each process keeps in memory (the gateway's POS rate "
                             "limits, members' login throttle) take 1/INSTANCE_COUNT of their configured rate and "
                             "burst, so together the instances keep the configured chain-wide rate")
    admin_token_enabled: bool = Field(
        False, description="Bootstrap switch, off by default: accept the static ADMIN_TOKEN on admin routes (HQ "
                           "administration is otherwise a staff login with the hq_admin role)")
    admin_token: SecretStr | None = Field(
        None, description="The static bootstrap admin token; only read when ADMIN_TOKEN_ENABLED=true")
    staff_token_public_key: str | None = Field(
        None, description="Ed25519 public key (base64, raw 32 bytes) verifying staff tokens from members")
    staff_token_ttl_s: int = Field(
        600, ge=30, le=3600, description="Lifetime of a staff (access) token; members signs them this long, every "
                                         "service refuses longer ones and keeps revocations this long")
    service_private_key: SecretStr | None = Field(
        None, description="This service's own Ed25519 private key (base64 raw): signs its service tokens when it "
                          "calls another service")
    service_keys: str = Field(
        "", description="Public keys of the services that may call this one: gateway=<b64>,console=<b64>; which "
                        "caller may call which route is decided in code (Access.guard)")
    service_token_ttl_s: int = Field(300, ge=30, le=900, description="Lifetime of the service tokens this service "
                                                                     "signs (renewed a minute before expiry)")
    otel_exporter_otlp_endpoint: str | None = None
    zipkin_endpoint: str | None = Field(
        None, description="Zipkin span endpoint (http://127.0.0.1:9411/api/v2/spans, what ./dev up starts); "
                          "when set, traces go there instead of OTLP")
    otel_traces_sampler_arg: float = Field(
        1.0, ge=0.0, le=1.0, description="Share of root traces sampled (parent-based); error spans always kept")
    log_level: str = "INFO"
    consumer_max_records: int = 1000
    consumer_batch_timeout_ms: int = 50
    consumer_fetch_min_bytes: int = Field(
        32 * 1024, description="The broker holds a fetch until this much arrived or the wait below passed: "
                               "batches grow under load instead of one transaction per event")
    consumer_fetch_max_wait_ms: int = 25
    outbox_batch_size: int = 1000
    outbox_idle_poll_ms: int = Field(
        250, description="Fallback poll of the outbox; local commits wake the relay at once")
    db_pool_size: int = 10
    heartbeat_s: float = Field(5.0, gt=0, le=300, description="Each instance writes its heartbeat (readiness, lag) "
                                                             "into the service's database this often (GET /ops/status)")
    instance_gone_after_s: float = Field(
        20.0, gt=0, description="An instance whose heartbeat is older than this shows as gone on /ops/status")
    http_max_body_bytes: int = Field(
        1024 * 1024, ge=0,
        description="Largest request body of a route without its own cap (413 past it, before anything parses it): "
                    "1 MiB holds any single command of the API with room (a sale of 500 lines is ~100 KiB)")
    http_body_limits: dict[str, int] = Field(
        default_factory=dict,
        description='Per-route caps replacing the service\'s own (JSON {"/v1/sales:batch": 16777216}; a path ending '
                    'in * is a prefix)')

    @field_validator("admin_token")
    @classmethod
    def _refuse_unsafe_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and (v.get_secret_value().lower() in UNSAFE_SECRETS or len(v.get_secret_value()) < 12):
            raise ValueError("ADMIN_TOKEN must be a real secret of at least 12 characters")
        return v

    @model_validator(mode="after")
    def _bootstrap_needs_token(self) -> ServiceSettings:
        if self.admin_token_enabled and self.admin_token is None:
            raise ValueError("ADMIN_TOKEN_ENABLED=true needs ADMIN_TOKEN (a real secret of at least 12 characters)")
        return self

    @property
    def bootstrap_admin_token(self) -> str | None:
        """The static admin token when the bootstrap switch is on, else None (refused everywhere)."""
        return self.admin_token.get_secret_value() if self.admin_token_enabled and self.admin_token else None

    @property
    def sync_database_url(self) -> str:
        """The same database through psycopg, for Alembic."""
        return self.database_url.replace("+asyncpg", "+psycopg")


class PiiKeySettings(BaseSettings):
    """Keys of a service that keeps personal data encrypted (docs/architecture.md, "Personal data").

    `PII_KEYS="k2=<secret>,k1=<old>"`: this service's own at-rest keys, the first encrypts, all decrypt (rotation:
    put a new key first, run `python -m <service>.pii rotate`, then drop the old one). `PII_ENCRYPTION_KEY`, the
    single key of earlier versions, is still read as key id `k0` (ciphertexts without a key id)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    pii_keys: SecretStr | None = Field(
        None, description="This service's at-rest keys, `k2=<secret>,k1=<old>`; the first is current")
    pii_encryption_key: SecretStr | None = Field(
        None, description="Legacy single key: decrypts ciphertexts without a key id (key id k0)")

    def pii_keyring(self) -> Keyring:
        spec = self.pii_keys.get_secret_value() if self.pii_keys else ""
        legacy = self.pii_encryption_key.get_secret_value() if self.pii_encryption_key else None
        if not spec and not legacy:
            raise ValueError("PII_KEYS is required (e.g. PII_KEYS=k1=<secret of 32+ characters>)")
        return Keyring.parse(spec, legacy)


class EventPiiKeySettings(BaseSettings):
    """`EVENT_PII_KEYS`: keys of the personal fields inside events (`mobile_enc`, `name_enc`...), shared only by
    the producers and the consumers that need the values (members, credit, notify); same format as PII_KEYS."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    event_pii_keys: SecretStr = Field(description="Keys of personal fields in events, `e2=<secret>,e1=<old>`")

    def event_keyring(self) -> Keyring:
        return Keyring.parse(self.event_pii_keys.get_secret_value())
