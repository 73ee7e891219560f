"""O-02: staff tokens signed by members (Ed25519) and verified by every service with the public key."""

from __future__ import annotations

import pytest
from vipcore.auth import Principal, Role, TokenIssuer, TokenVerifier, new_keypair
from vipcore.http import Problem


def test_token_round_trip_and_tampering() -> None:
    priv, pub = new_keypair()
    p = Principal("S-1", "XA-001", "029", Role.STORE_CS_MANAGER)
    token = TokenIssuer(priv).issue(p)
    assert TokenVerifier(pub).verify(token) == p
    other_pub = new_keypair()[1]
    with pytest.raises(Problem) as e:
        TokenVerifier(other_pub).verify(token)
    assert e.value.status == 401


def test_expired_token_is_refused() -> None:
    priv, pub = new_keypair()
    token = TokenIssuer(priv, ttl_seconds=60).issue(Principal("S-1", None, None, Role.HQ_ADMIN), now=1_000_000)
    with pytest.raises(Problem, match="expired"):
        TokenVerifier(pub).verify(token)
