"""O-02 scopes and the C-04 check of a credit sale's authorisation, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from credit.domain.tenancy import AuthorizationState, Scope, credit_sale_refusal, scope_of
from vipcore.auth import Principal, Role

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def test_o02_hq_and_auditor_reach_the_chain_store_roles_their_store_a_regional_account_its_region() -> None:
    for role in (Role.HQ_ADMIN, Role.HQ_CS, Role.AUDITOR):
        assert scope_of(Principal("S1", "XA-1", "029", role)).covers("SZ-9", "755")
    for role in (Role.STORE_MANAGER, Role.STORE_CS_MANAGER, Role.STAFF, Role.POS):
        s = scope_of(Principal("S1", "XA-1", "029", role))
        assert s.covers("XA-1", "029") and not s.covers("XA-2", "029") and not s.covers(None)
    regional = scope_of(Principal("S1", None, "029", Role.STORE_MANAGER))
    assert regional == Scope(region_code="029")
    assert regional.covers("XA-2", "029") and not regional.covers("SZ-1", "755")
    assert not scope_of(Principal("S1", None, None, Role.STAFF)).covers("XA-1", "029")
    assert not scope_of(Principal("S1", None, "029", Role.POS)).covers("XA-1", "029")  # a till is one store


def held(**kw: object) -> AuthorizationState:
    base: dict[str, object] = {"store_id": "XA-1", "customer_id": "ORG-1", "amount": 10_000, "status": "held",
                               "expires_at": NOW + timedelta(minutes=10), "receipt_no": None, "sale_id": None}
    return AuthorizationState(**{**base, **kw})  # type: ignore[arg-type]


def test_c04_a_credit_sale_needs_an_authorisation_of_its_store_and_customer_covering_it() -> None:
    ok = credit_sale_refusal(held(), "XA-1", "ORG-1", "R1", 10_000, NOW)
    assert ok is None
    for auth, store, cust, amount, field in (
            (None, "XA-1", "ORG-1", 1, "authorization_id"),           # missing
            (held(), "XA-2", "ORG-1", 1, "authorization_id"),         # another store's
            (held(), "XA-1", "ORG-2", 1, "authorization_id"),         # another customer's
            (held(), "XA-1", "ORG-1", 10_001, "amount")):             # more than it covers
        r = credit_sale_refusal(auth, store, cust, "R1", amount, NOW)
        assert r is not None and (r.rule, r.field) == ("C-04", field), (auth, store, cust, amount)
    # the refusal of another store's hold says nothing about that store or its receipts
    r = credit_sale_refusal(held(store_id="SZ-1", receipt_no="SZ-RCPT-9"), "XA-1", "ORG-1", "R1", 1, NOW)
    assert r is not None and "SZ" not in r.reason


def test_c04_an_authorisation_serves_one_receipt_while_live() -> None:
    claimed = held(receipt_no="R1")
    assert credit_sale_refusal(claimed, "XA-1", "ORG-1", "R1", 5_000, NOW) is None  # the same receipt again
    r = credit_sale_refusal(claimed, "XA-1", "ORG-1", "R2", 5_000, NOW)
    assert r is not None and r.reason == "this authorisation is used by another receipt" and "R1" not in r.reason
    captured = held(status="captured", sale_id="S1", receipt_no=None)
    assert credit_sale_refusal(captured, "XA-1", "ORG-1", "R2", 1, NOW, "S2") is not None
    assert credit_sale_refusal(captured, "XA-1", "ORG-1", "R2", 1, NOW, "S1") is None  # its own sale, delivered again
    expired = held(expires_at=NOW - timedelta(seconds=1))
    assert credit_sale_refusal(expired, "XA-1", "ORG-1", "R1", 1, NOW) is not None
    assert credit_sale_refusal(held(status="released"), "XA-1", "ORG-1", "R1", 1, NOW) is not None
    # claimed at the till before it lapsed: the sale that claimed it still books on it
    lapsed = held(status="released", receipt_no="R1", expires_at=NOW - timedelta(minutes=1))
    assert credit_sale_refusal(lapsed, "XA-1", "ORG-1", "R1", 1, NOW, "S1") is None
