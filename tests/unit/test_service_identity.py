"""vipcore.identity: service tokens cached and renewed by the caller; settings without a static admin token;
revocations by issue time (issue 11 item 4, O-03)."""

from __future__ import annotations

import time

import jwt
import pytest
from gateway.config import GatewaySettings
from pydantic import ValidationError
from vipcore.auth import Principal, Revocations, Role, TokenIssuer, TokenVerifier, new_keypair
from vipcore.http import Problem
from vipcore.identity import RevocationWatcher, ServiceTokens, parse_service_keys

BASE = {"database_url": "postgresql+asyncpg://u@h/db", "pii_index_key": "k" * 32}


def test_service_token_claims_cache_and_renewal() -> None:
    priv, pub = new_keypair()
    now = [1_000_000.0]
    t = ServiceTokens("gateway", priv, ttl_s=300, renew_s=60, clock=lambda: now[0])
    first = t.token("loyalty")
    c = jwt.decode(first, parse_service_keys(f"gateway={pub}")["gateway"], algorithms=["EdDSA"], audience="loyalty",
                   options={"verify_exp": False})
    assert c["iss"] == c["sub"] == "svc:gateway" and c["aud"] == "loyalty" and c["exp"] - c["iat"] == 300
    assert t.token("loyalty") == first and t.token("credit") != first  # one per audience, cached
    now[0] += 239
    assert t.token("loyalty") == first
    now[0] += 2  # under a minute left: renewed
    assert t.token("loyalty") != first


def test_service_keys_setting_names_each_bad_entry() -> None:
    assert set(parse_service_keys(f"gateway={new_keypair()[1]}, console={new_keypair()[1]}")) == {"gateway",
                                                                                                   "console"}
    with pytest.raises(ValueError, match="gateway"):
        parse_service_keys("gateway=not-a-key")
    with pytest.raises(ValueError, match="name=<base64"):
        parse_service_keys("gateway")


def test_settings_need_no_admin_token_and_the_switch_is_off() -> None:
    s = GatewaySettings(**BASE)  # type: ignore[arg-type]
    assert s.admin_token_enabled is False and s.bootstrap_admin_token is None
    s = GatewaySettings(**BASE, admin_token="a-real-secret-123")  # type: ignore[arg-type]
    assert s.bootstrap_admin_token is None  # given but not switched on: refused everywhere
    s = GatewaySettings(**BASE, admin_token="a-real-secret-123", admin_token_enabled=True)  # type: ignore[arg-type]
    assert s.bootstrap_admin_token == "a-real-secret-123"
    with pytest.raises(ValidationError, match="ADMIN_TOKEN_ENABLED"):
        GatewaySettings(**BASE, admin_token_enabled=True)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="12 characters"):
        GatewaySettings(**BASE, admin_token="admin", admin_token_enabled=True)  # type: ignore[arg-type]


def test_o03_revocation_refuses_tokens_issued_before_the_change_only() -> None:
    priv, pub = new_keypair()
    rev = Revocations()
    v = TokenVerifier(pub, rev, max_ttl_s=600)
    p = Principal("S-1", "XA-1", "029", Role.HQ_CS)
    now = time.time()
    before, after = TokenIssuer(priv).issue(p, now=now - 1.0), TokenIssuer(priv).issue(p, now=now + 0.002)
    rev.revoke("S-1", now)
    with pytest.raises(Problem) as e:
        v.verify(before)
    assert e.value.status == 401 and e.value.errors[0]["rule"] == "O-03"
    assert v.verify(after) == p  # issued (to the millisecond) after the change
    assert v.verify(TokenIssuer(priv).issue(Principal("S-2", None, None, Role.HQ_CS), now=now - 1)).staff_id == "S-2"
    with pytest.raises(Problem, match="longer"):
        v.verify(TokenIssuer(priv, ttl_seconds=8 * 3600).issue(p))  # no 8-hour tokens any more


def test_o03_watcher_records_only_access_changes() -> None:
    rev = Revocations()
    w = RevocationWatcher("unused:1", "members.events", rev, lookback_s=660)
    h = [("ce_type", b"members.staff.changed")]
    w.apply(h, b'{"staff_id": "S-1", "access_changed_at": "2026-01-01T00:00:00+00:00"}')
    w.apply(h, b'{"staff_id": "S-2", "access_changed_at": null}')  # a name or mobile change: tokens stay
    w.apply([("ce_type", b"members.member.registered")], b'{"staff_id": "S-3", "access_changed_at": "2026-01-01"}')
    w.apply(h, b"not json")
    assert rev.revoked("S-1", 1_767_225_599) and not rev.revoked("S-1", 1_767_225_601)
    assert not rev.revoked("S-2", 0) and not rev.revoked("S-3", 0)
