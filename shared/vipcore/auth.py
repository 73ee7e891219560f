"""Staff identity shared by every service: tokens signed by the members service (Ed25519), verified with its
public key; roles as in docs/rules.md O-02. Services declare what a route needs with `require(...)`."""

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

    def __init__(self, private_key_b64: str, ttl_seconds: int = 8 * 3600) -> None:
        self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))
        self.ttl = ttl_seconds

    def issue(self, p: Principal, now: float | None = None) -> str:
        iat = int(now if now is not None else time.time())
        claims = {"sub": p.staff_id, "store": p.store_id, "region": p.region_code, "role": p.role.value,
                  "iss": ISSUER, "iat": iat, "exp": iat + self.ttl}
        return jwt.encode(claims, self.key, algorithm="EdDSA")


class TokenVerifier:
    """Verifies staff tokens with the public key; any failure is a 401 naming the reason."""

    def __init__(self, public_key_b64: str | None) -> None:
        self.key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64)) if public_key_b64 else None

    def verify(self, token: str) -> Principal:
        if self.key is None:
            raise Problem(401, "Unauthorized", "staff tokens are not configured (STAFF_TOKEN_PUBLIC_KEY)")
        try:
            c = jwt.decode(token, self.key, algorithms=["EdDSA"], issuer=ISSUER,
                           options={"require": ["exp", "iat", "sub", "role"]})
            return Principal(c["sub"], c.get("store"), c.get("region"), Role(c["role"]))
        except (jwt.PyJWTError, ValueError) as e:
            raise Problem(401, "Unauthorized", f"invalid staff token: {e}",
                          [FieldError("Authorization", "a valid staff token is required", "O-02")]) from None


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
