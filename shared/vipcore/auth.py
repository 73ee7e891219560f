"""Staff identity shared by every service: tokens signed by the members service (Ed25519), verified with its
public key; roles as in docs/rules.md O-02. Services declare what a route needs with `require(...)`.

Staff tokens are short-lived (STAFF_TOKEN_TTL_S, 10 minutes by default; members renews them with a refresh token)
and a service refuses a token issued before its holder's role, store or employment changed (`Revocations`, fed from
`members.staff.changed` by vipcore.identity.RevocationWatcher): see docs/architecture.md "Identity"."""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Request

from .http import FieldError, Problem

ISSUER = "vip-members"
STAFF_TOKEN_TTL_S = 600  # default lifetime of a staff (access) token: a refresh token renews it


class Role(StrEnum):
    """O-02: what a person may do is decided by their role."""

    HQ_ADMIN = "hq_admin"
    HQ_CS = "hq_cs"                        # reviews, deletions, hand-overs, spot checks
    STORE_MANAGER = "store_manager"        # sees the whole store (M-07)
    STORE_CS_MANAGER = "store_cs_manager"  # approves the store's members, blacklists, deletion requests
    STAFF = "staff"                        # referrer: sees and edits only their own members
    AUDITOR = "auditor"                    # read-only, sees the access log
    POS = "pos"                            # machine identity of one store


@dataclass(frozen=True)
class Principal:
    staff_id: str
    store_id: str | None
    region_code: str | None
    role: Role


def new_keypair() -> tuple[str, str]:
    """(private, public) as base64 of the raw 32-byte Ed25519 keys, for settings/env variables."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(priv).decode(), base64.b64encode(pub).decode()


class TokenIssuer:
    """Signs staff tokens (only the members service holds the private key)."""

    def __init__(self, private_key_b64: str, ttl_seconds: int = STAFF_TOKEN_TTL_S) -> None:
        self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))
        self.ttl = ttl_seconds

    def issue(self, p: Principal, now: float | None = None) -> str:
        # iat to the millisecond (a NumericDate may have a fraction): a token issued just after a role change is
        # told apart from one issued just before it (Revocations)
        iat = round(now if now is not None else time.time(), 3)
        claims = {"sub": p.staff_id, "store": p.store_id, "region": p.region_code, "role": p.role.value,
                  "iss": ISSUER, "iat": iat, "exp": int(iat) + self.ttl}
        return jwt.encode(claims, self.key, algorithm="EdDSA")


class Revocations:
    """O-03: per staff member, the moment their role, store or employment last changed; a staff token issued
    before it is refused. Fed from `members.staff.changed` (vipcore.identity.RevocationWatcher); entries older
    than the longest token lifetime can no longer matter and are dropped."""

    def __init__(self, keep_s: float = 2 * STAFF_TOKEN_TTL_S) -> None:
        self.keep_s = keep_s
        self._since: dict[str, float] = {}

    def revoke(self, staff_id: str, at: float) -> None:
        if at > self._since.get(staff_id, 0.0):
            self._since[staff_id] = at
        if len(self._since) > 1000:
            horizon = time.time() - self.keep_s
            self._since = {k: v for k, v in self._since.items() if v >= horizon}

    def revoked(self, staff_id: str, issued_at: float) -> bool:
        since = self._since.get(staff_id)
        return since is not None and issued_at < since


class TokenVerifier:
    """Verifies staff tokens with the public key; any failure is a 401 naming the reason.

    With `revocations`, a token issued before its holder changed role/store or left is refused (O-03); with
    `max_ttl_s`, a token living longer than the configured staff token lifetime is refused (so a revocation kept
    for that long covers every token still valid)."""

    def __init__(self, public_key_b64: str | None, revocations: Revocations | None = None,
                 max_ttl_s: float | None = None) -> None:
        self.key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64)) if public_key_b64 else None
        self.revocations = revocations
        self.max_ttl_s = max_ttl_s

    def verify(self, token: str) -> Principal:
        if self.key is None:
            raise Problem(401, "Unauthorized", "staff tokens are not configured (STAFF_TOKEN_PUBLIC_KEY)")
        try:
            c = jwt.decode(token, self.key, algorithms=["EdDSA"], issuer=ISSUER,
                           options={"require": ["exp", "iat", "sub", "role"]})
            p = Principal(c["sub"], c.get("store"), c.get("region"), Role(c["role"]))
            iat = float(c["iat"])
            if self.max_ttl_s is not None and float(c["exp"]) - iat > self.max_ttl_s + 1:
                raise ValueError("the token lives longer than staff tokens may")
        except (jwt.PyJWTError, ValueError, TypeError) as e:
            raise Problem(401, "Unauthorized", f"invalid staff token: {e}",
                          [FieldError("Authorization", "a valid staff token is required", "O-02")]) from None
        if self.revocations is not None and self.revocations.revoked(p.staff_id, iat):
            raise Problem(401, "Unauthorized", "staff token revoked: the staff member's role, store or employment "
                                               "changed after it was issued; log in again",
                          [FieldError("Authorization", "token issued before the staff member changed", "O-03")])
        return p


def require(verifier: TokenVerifier, *roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: the caller's Principal, or 401 (no/bad token) / 403 (role not allowed, O-02)."""
    allowed = set(roles)

    async def dep(request: Request) -> Principal:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Problem(401, "Unauthorized", "Authorization: Bearer <staff token> is required",
                          [FieldError("Authorization", "missing staff token", "O-02")])
        p = verifier.verify(auth[7:].strip())
        if allowed and p.role not in allowed:
            raise Problem(403, "Forbidden", f"role {p.role.value} may not do this",
                          [FieldError("role", f"needs one of {sorted(r.value for r in allowed)}", "O-02")])
        request.state.principal = p
        return p

    return dep
