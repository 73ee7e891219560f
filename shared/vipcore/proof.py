"""Member-present proof for spending (L-07, L-11): members checks the member's SMS code or PIN and answers a
short-lived proof token signed with its Ed25519 key; loyalty, which moves the points and the balance, accepts a
redemption or a stored-value hold only with a token bound to that member, store, purpose, reference and amount.

The token is a JWT (EdDSA) with its own audience, so it is never taken for a staff token (and a staff token,
which has no audience, is never taken for a proof)."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Literal

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import Forbidden, RuleViolation

ISSUER = "vip-members"
AUDIENCE = "vip-spend"
TTL_S = 120
Purpose = Literal["redeem", "stored_value"]
RULE: dict[str, str] = {"redeem": "L-07", "stored_value": "L-11"}


@dataclass(frozen=True)
class SpendProof:
    """What members vouches for: this member proved presence (`method`) for this spend at this store."""

    member_id: str
    purpose: str
    store_id: str
    ref: str  # the redemption id, or the receipt number of a stored-value payment
    amount: str  # what is spent: "points:900", "reward:care-kit", "fen:30000"
    method: str  # sms_code / pin
    id_checked_by: str | None = None  # the cashier who checked the member's ID at the desk (L-09)


class ProofIssuer:
    """Signs proof tokens (only the members service holds the private key)."""

    def __init__(self, private_key_b64: str, ttl_s: int = TTL_S) -> None:
        self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))
        self.ttl = ttl_s

    def issue(self, p: SpendProof, now: float | None = None) -> str:
        iat = int(now if now is not None else time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": p.member_id, "purpose": p.purpose, "store": p.store_id,
                  "ref": p.ref, "amount": p.amount, "method": p.method, "id_checked_by": p.id_checked_by,
                  "iat": iat, "exp": iat + self.ttl}
        return jwt.encode(claims, self.key, algorithm="EdDSA")


class ProofVerifier:
    """Loyalty's side: a spend is accepted only with a valid token matching it exactly."""

    def __init__(self, public_key_b64: str | None) -> None:
        self.key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64)) if public_key_b64 else None

    def verify(self, token: str | None, *, member_id: str, purpose: Purpose, store_id: str, ref: str,
               amount: str) -> SpendProof:
        rule = RULE[purpose]
        if not token:
            raise RuleViolation(rule, "proof", "spending needs the member present: a proof verified by members "
                                               "(SMS code or PIN)")
        if self.key is None:
            raise Forbidden(rule, "proof", "proofs cannot be checked here (STAFF_TOKEN_PUBLIC_KEY unset)")
        try:
            c = jwt.decode(token, self.key, algorithms=["EdDSA"], issuer=ISSUER, audience=AUDIENCE,
                           options={"require": ["exp", "iat", "sub", "purpose", "ref", "amount"]})
        except jwt.PyJWTError as e:
            raise Forbidden(rule, "proof", f"the member's proof is not valid: {e}") from None
        got = (c["sub"], c["purpose"], c.get("store"), c["ref"], c["amount"])
        if got != (member_id, purpose, store_id, ref, amount):
            raise Forbidden(rule, "proof", "the member's proof was given for another spend")
        return SpendProof(c["sub"], c["purpose"], c.get("store") or "", c["ref"], c["amount"],
                          str(c.get("method")), c.get("id_checked_by"))
