"""Who may call a service's admin and internal routes (issue 11 item 4; docs/architecture.md "Identity").

Three credentials, one guard:
- **service tokens**: each calling service holds its own Ed25519 private key (SERVICE_PRIVATE_KEY) and signs short
  JWTs (`iss` = `sub` = `svc:<name>`, `aud` = the callee's service name, a few minutes long), minted and cached by
  `ServiceTokens`, renewed before they expire. A callee knows the callers' public keys (SERVICE_KEYS=
  "gateway=<b64>,console=<b64>") and accepts a service token only for its own audience and only from the callers
  a route names (`Access.guard(callers=...)`).
- **staff tokens** (vipcore.auth, signed by members): HQ administration is a staff login with a role (O-02); the
  holder's revocations apply (`Revocations`, fed by `RevocationWatcher` from `members.staff.changed`).
- **the bootstrap admin token** (ADMIN_TOKEN): accepted on admin routes only while ADMIN_TOKEN_ENABLED=true,
  which is off by default; the first HQ admin is created with `python -m members staff create-admin`.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Request

from .auth import Principal, Revocations, Role, TokenVerifier
from .http import FieldError, Problem
from .logs import get_logger

log = get_logger(__name__)

SERVICE_PREFIX = "svc:"
SERVICE_TOKEN_TTL_S = 300
SERVICE_TOKEN_MAX_TTL_S = 900  # a callee refuses service tokens meant to live longer than this
STAFF_CHANGED = "members.staff.changed"


@dataclass(frozen=True)
class ServiceCaller:
    """Another service calling with its own service token."""

    name: str


@dataclass(frozen=True)
class BootstrapAdmin:
    """The static bootstrap token (ADMIN_TOKEN_ENABLED=true only)."""


Caller = Principal | ServiceCaller | BootstrapAdmin


def parse_service_keys(spec: str) -> dict[str, Ed25519PublicKey]:
    """`gateway=<b64 raw public key>,console=<...>` → {name: key}; a bad entry fails at start, naming it."""
    out: dict[str, Ed25519PublicKey] = {}
    for part in (p.strip() for p in spec.replace(";", ",").split(",")):
        if not part:
            continue
        name, sep, key = part.partition("=")
        if not sep or not name.strip() or not key.strip():
            raise ValueError(f"SERVICE_KEYS entry {part[:20]!r}: expected name=<base64 Ed25519 public key>")
        try:
            out[name.strip()] = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.strip()))
        except ValueError as e:
            raise ValueError(f"SERVICE_KEYS entry for {name.strip()}: not a base64 Ed25519 public key") from e
    return out


class ServiceTokens:
    """The caller's side: signs this service's tokens for each audience, cached and renewed `renew_s` before
    they expire (one signature per audience every few minutes, not one per call)."""

    def __init__(self, name: str, private_key_b64: str, ttl_s: int = SERVICE_TOKEN_TTL_S,
                 renew_s: int = 60, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))
        self.ttl_s = ttl_s
        self.renew_s = min(renew_s, ttl_s // 2)
        self.clock = clock
        self._cache: dict[str, tuple[str, float]] = {}

    def token(self, audience: str) -> str:
        now = self.clock()
        hit = self._cache.get(audience)
        if hit is not None and hit[1] - now > self.renew_s:
            return hit[0]
        iat = int(now)
        claims = {"iss": SERVICE_PREFIX + self.name, "sub": SERVICE_PREFIX + self.name, "aud": audience,
                  "iat": iat, "exp": iat + self.ttl_s}
        tok = jwt.encode(claims, self.key, algorithm="EdDSA")
        self._cache[audience] = (tok, float(iat + self.ttl_s))
        return tok

    def provider(self, audience: str) -> Callable[[], str]:
        """A token provider for one callee (vipcore.httpclient.InternalClient(token=...), `bearer_auth`)."""
        return lambda: self.token(audience)


def no_service_credential(name: str, audience: str) -> Callable[[], str]:
    """Provider for a service configured without SERVICE_PRIVATE_KEY: every call says so (the callee answers 401)."""

    def provider() -> str:
        log.warning("no SERVICE_PRIVATE_KEY: calls to another service carry no credential", service=name,
                    audience=audience)
        return ""

    return provider


def bearer_auth(provider: Callable[[], str]) -> Any:
    """An httpx.Auth putting the provider's current token on each request."""
    import httpx

    class _Bearer(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            tok = provider()
            if tok:
                request.headers["Authorization"] = f"Bearer {tok}"
            yield request

    return _Bearer()


def _unauthorized(detail: str, rule: str = "O-02") -> Problem:
    return Problem(401, "Unauthorized", detail, [FieldError("Authorization", detail, rule)])


class Access:
    """The callee's side: builds the guards of a service's admin and internal routes."""

    def __init__(self, service: str, staff: TokenVerifier, service_keys: dict[str, Ed25519PublicKey],
                 bootstrap_token: str | None = None) -> None:
        self.service = service
        self.staff = staff
        self.service_keys = service_keys
        self.bootstrap_token = bootstrap_token.encode() if bootstrap_token else None
        self._verified: dict[str, tuple[str, float]] = {}  # token → (caller, exp): the hot path verifies once

    def verify_service(self, token: str) -> ServiceCaller:
        """A service token for this service's audience from a caller whose key is configured, or 401."""
        now = time.time()
        hit = self._verified.get(token)
        if hit is not None and hit[1] > now:
            return ServiceCaller(hit[0])
        try:
            iss = str(jwt.decode(token, options={"verify_signature": False}).get("iss", ""))
        except jwt.PyJWTError as e:
            raise _unauthorized(f"invalid service token: {e}") from None
        name = iss.removeprefix(SERVICE_PREFIX)
        key = self.service_keys.get(name)
        if key is None:
            raise _unauthorized(f"service token from {name or 'nobody'}: no key configured for that service "
                                "(SERVICE_KEYS)")
        try:
            c = jwt.decode(token, key, algorithms=["EdDSA"], audience=self.service, issuer=iss,
                           options={"require": ["exp", "iat", "iss", "sub", "aud"]})
        except jwt.PyJWTError as e:
            raise _unauthorized(f"invalid service token: {e}") from None
        if c["sub"] != iss or float(c["exp"]) - float(c["iat"]) > SERVICE_TOKEN_MAX_TTL_S:
            raise _unauthorized("invalid service token: subject or lifetime not allowed")
        if len(self._verified) > 256:
            self._verified = {k: v for k, v in self._verified.items() if v[1] > now}
        self._verified[token] = (name, float(c["exp"]))
        return ServiceCaller(name)

    def authenticate(self, request: Request) -> Caller:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Problem(401, "Unauthorized", "missing bearer token",
                          [FieldError("Authorization", "a bearer token is required", "O-02")])
        token = auth[7:].strip()
        if token.count(".") != 2:  # not a JWT: only the bootstrap token can be meant
            if self.bootstrap_token is not None and hmac.compare_digest(token.encode(), self.bootstrap_token):
                return BootstrapAdmin()
            raise _unauthorized("not a staff or service token (the static admin token is off: "
                                "ADMIN_TOKEN_ENABLED=false)")
        try:
            iss = str(jwt.decode(token, options={"verify_signature": False}).get("iss", ""))
        except jwt.PyJWTError as e:
            raise _unauthorized(f"invalid token: {e}") from None
        if iss.startswith(SERVICE_PREFIX):
            return self.verify_service(token)
        return self.staff.verify(token)

    def guard(self, *roles: Role, callers: Iterable[str] = (), internal: Iterable[str] = (), staff: bool = True,
              bootstrap: bool = True) -> Callable[[Request], Awaitable[Caller]]:
        """Dependency for admin routes: a staff token of one of `roles` (default hq_admin, O-02), or a service
        token from one of `callers`, or — while ADMIN_TOKEN_ENABLED — the bootstrap token. 401 for no valid
        credential, 403 for a valid one that may not call this route.

        Routes under `/internal/` are service-to-service: there only a service token from one of `internal` is
        accepted (a router mixing admin and internal routes takes one guard)."""
        allowed_roles = set(roles or (Role.HQ_ADMIN,))
        allowed_callers = frozenset(callers)
        internal_dep = self.guard(callers=internal, staff=False, bootstrap=False) if staff or bootstrap else None

        async def dep(request: Request) -> Caller:
            if internal_dep is not None and request.url.path.startswith("/internal/"):
                return await internal_dep(request)
            who = self.authenticate(request)
            if isinstance(who, BootstrapAdmin):
                if not bootstrap:
                    raise Problem(403, "Forbidden", "the bootstrap admin token may not call this route")
            elif isinstance(who, ServiceCaller):
                if who.name not in allowed_callers:
                    raise Problem(403, "Forbidden", f"service {who.name} may not call this route",
                                  [FieldError("Authorization", f"callers allowed: {sorted(allowed_callers)}",
                                              "O-02")])
            else:
                if not staff or who.role not in allowed_roles:
                    raise Problem(403, "Forbidden", f"role {who.role.value} may not do this",
                                  [FieldError("role", f"needs one of {sorted(r.value for r in allowed_roles)}"
                                              if staff else "a service token is required", "O-02")])
                request.state.principal = who
            request.state.caller = who
            return who

        return dep

    def internal(self, *callers: str) -> Callable[[Request], Awaitable[Caller]]:
        """Dependency for internal (service-to-service) routes: a service token from one of `callers` only."""
        return self.guard(callers=callers, staff=False, bootstrap=False)


class RevocationWatcher:
    """Reads `members.staff.changed` without a consumer group and records each staff member's access change in
    `Revocations` (O-03). On start it reads back from now − `lookback_s` (the longest staff token lifetime), so a
    restarted service refuses the same tokens as before; `catch_up()` returns once that history is read."""

    def __init__(self, bootstrap: str, topic: str, revocations: Revocations, lookback_s: float) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.revocations = revocations
        self.lookback_s = lookback_s
        self._consumer: Any = None
        self._stopping = False
        self.caught_up = asyncio.Event()

    def apply(self, headers: Iterable[tuple[str, bytes]], value: bytes | None) -> None:
        h = dict(headers)
        if h.get("ce_type") != STAFF_CHANGED.encode() or not value:
            return
        try:
            data = orjson.loads(value)
            at = data.get("access_changed_at")
            if at:
                self.revocations.revoke(str(data["staff_id"]), datetime.fromisoformat(at).timestamp())
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("unreadable staff change skipped", topic=self.topic)

    async def _start(self) -> dict[Any, int]:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="latest")
        await c.start()
        self._consumer = c
        parts = c.partitions_for_topic(self.topic) or set()
        if not parts:
            await c._client.force_metadata_update()  # noqa: SLF001 - first lookup of the topic
            parts = c.partitions_for_topic(self.topic) or set()
        tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
        c.assign(tps)
        since = int((time.time() - self.lookback_s) * 1000)
        found = await c.offsets_for_times({tp: since for tp in tps}) if tps else {}
        ends = await c.end_offsets(tps) if tps else {}
        for tp in tps:
            at = found.get(tp)
            c.seek(tp, at.offset if at is not None else ends[tp])
        return {tp: ends[tp] for tp in tps if (found.get(tp) is not None and found[tp].offset < ends[tp])}

    async def run(self) -> None:
        while not self._stopping:
            try:
                pending = await self._start()
                if not pending:
                    self.caught_up.set()
                while not self._stopping:
                    batch = await self._consumer.getmany(timeout_ms=500, max_records=1000)
                    for tp, recs in batch.items():
                        for r in recs:
                            self.apply(r.headers or (), r.value)
                        if tp in pending and recs and recs[-1].offset + 1 >= pending[tp]:
                            del pending[tp]
                    if not pending:
                        self.caught_up.set()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the broker may be away; try again
                log.warning("staff revocation watcher restarting", error=type(e).__name__)
                await asyncio.sleep(1)
            finally:
                if self._consumer is not None:
                    consumer, self._consumer = self._consumer, None
                    await consumer.stop()

    async def catch_up(self, timeout: float = 15.0) -> bool:
        try:
            await asyncio.wait_for(self.caught_up.wait(), timeout)
            return True
        except TimeoutError:
            log.warning("staff revocations not read back in time; continuing", topic=self.topic)
            return False

    def stop(self) -> None:
        self._stopping = True
