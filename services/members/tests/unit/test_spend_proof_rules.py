"""Member-present proof (L-07, L-11), the pure rules with an injected clock: codes expire and are used once,
wrong answers lock after MAX_FAILURES, codes per window are limited, programs say which proof applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from members.domain import proofs as p
from vipcore.auth import new_keypair
from vipcore.errors import Forbidden, RuleViolation
from vipcore.proof import ProofIssuer, ProofVerifier, SpendProof

KEY = "k" * 32
T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def challenge(code: str = "123456", at: datetime = T0, used_for: str | None = None) -> p.Challenge:
    return p.Challenge("c-1", p.code_hash(KEY, "c-1", code), at + p.CODE_TTL, used_for)


def test_l07_a_code_is_right_only_before_it_expires_and_is_compared_only_while_live() -> None:
    c = challenge()
    assert p.judge_code(c, "123456", KEY, T0 + timedelta(minutes=4, seconds=59), "s") == "ok"
    assert p.judge_code(c, "654321", KEY, T0 + timedelta(minutes=1), "s") == "wrong"
    assert p.judge_code(c, "123456", KEY, T0 + p.CODE_TTL, "s") == "expired"  # 5 minutes
    assert p.judge_code(c, "654321", KEY, T0 + p.CODE_TTL, "s") == "expired"  # not even compared
    assert p.judge_code(None, "123456", KEY, T0, "s") == "no_code"


def test_l07_a_used_code_proves_only_the_same_spend_again() -> None:
    used = challenge(used_for="redeem:r-1:points:900")
    assert p.judge_code(used, "123456", KEY, T0, "redeem:r-1:points:900") == "replay"  # the till retried
    assert p.judge_code(used, "123456", KEY, T0, "redeem:r-2:points:900") == "no_code"  # not reusable
    assert p.judge_code(used, "000000", KEY, T0, "redeem:r-1:points:900") == "no_code"


def test_l07_codes_are_kept_as_keyed_hashes_salted_by_their_challenge() -> None:
    assert p.code_hash(KEY, "c-1", "123456") != p.code_hash(KEY, "c-2", "123456")
    assert p.code_hash(KEY, "c-1", "123456") != p.code_hash("other" * 8, "c-1", "123456")
    assert "123456" not in p.code_hash(KEY, "c-1", "123456")
    codes = {p.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150


def test_l07_l11_five_wrong_answers_lock_for_a_while_and_a_right_one_resets() -> None:
    g = p.Guard()
    for i in range(p.MAX_FAILURES - 1):
        g = g.after_failure(T0 + timedelta(seconds=i))
        assert not g.locked(T0 + timedelta(seconds=i))
    g = g.after_failure(T0 + timedelta(minutes=1))
    assert g.failures == p.MAX_FAILURES and g.locked(T0 + timedelta(minutes=1))
    with pytest.raises(Forbidden) as e:
        p.check_not_locked(g, T0 + timedelta(minutes=10), "L-07")
    assert e.value.field == "proof" and e.value.rule == "L-07" and "6 more minute" in e.value.message
    assert not g.locked(T0 + timedelta(minutes=1) + p.LOCK_FOR)  # the lock lapses
    assert p.Guard(3, None).after_success() == p.Guard()


def test_l07_codes_per_member_are_limited_within_the_window() -> None:
    p.check_can_send(p.Guard(), p.MAX_CODES - 1, T0, "L-07")
    with pytest.raises(Forbidden) as e:
        p.check_can_send(p.Guard(), p.MAX_CODES, T0, "L-07")
    assert e.value.field == "proof"
    with pytest.raises(Forbidden):
        p.check_can_send(p.Guard(5, T0 + timedelta(minutes=1)), 0, T0, "L-07")


def test_l07_the_program_document_says_which_proof_and_the_answer_must_be_one_it_accepts() -> None:
    assert p.document_methods({"id": "x", "spend_proof": "pin"}) == ("pin",)
    assert p.document_methods({"id": "x", "spend_proof": ["pin", "sms_code"]}) == ("sms_code", "pin")
    assert p.document_methods({"id": "x"}) is None
    with pytest.raises(ValueError):
        p.document_methods({"id": "x", "spend_proof": "password"})
    assert p.method_of("123456", None, ("sms_code",), "L-07") == ("sms_code", "123456")
    assert p.method_of(None, "480213", ("sms_code", "pin"), "L-11") == ("pin", "480213")
    with pytest.raises(RuleViolation) as e:
        p.method_of(None, "480213", ("sms_code",), "L-11")
    assert e.value.rule == "L-11" and e.value.field == "proof" and "SMS code" in e.value.message


def test_l07_pins_are_six_digits_not_runs() -> None:
    assert p.pin_problem("480213") is None
    assert p.pin_problem("1234") and p.pin_problem("111111") and p.pin_problem("123456") and p.pin_problem("abcdef")


def test_l07_l11_a_proof_token_holds_only_for_the_spend_it_was_given_for() -> None:
    priv, pub = new_keypair()
    token = ProofIssuer(priv).issue(SpendProof("m-1", "redeem", "XA-1", "r-1", "points:900", "sms_code"))
    v = ProofVerifier(pub)
    assert v.verify(token, member_id="m-1", purpose="redeem", store_id="XA-1", ref="r-1",
                    amount="points:900").method == "sms_code"
    for other in ({"member_id": "m-2"}, {"store_id": "XA-2"}, {"ref": "r-2"}, {"amount": "points:9000"}):
        with pytest.raises(Forbidden) as e:
            v.verify(token, **{"member_id": "m-1", "purpose": "redeem", "store_id": "XA-1", "ref": "r-1",  # type: ignore[arg-type]
                               "amount": "points:900", **other})
        assert e.value.field == "proof" and e.value.rule == "L-07"
    with pytest.raises(Forbidden):  # another purpose
        v.verify(token, member_id="m-1", purpose="stored_value", store_id="XA-1", ref="r-1", amount="points:900")
    with pytest.raises(RuleViolation) as missing:
        v.verify(None, member_id="m-1", purpose="stored_value", store_id="XA-1", ref="R1", amount="fen:1")
    assert missing.value.rule == "L-11" and missing.value.field == "proof"
    stale = ProofIssuer(priv).issue(SpendProof("m-1", "redeem", "XA-1", "r-1", "points:900", "pin"), now=0)
    with pytest.raises(Forbidden):  # expired long ago
        v.verify(stale, member_id="m-1", purpose="redeem", store_id="XA-1", ref="r-1", amount="points:900")
    with pytest.raises(Forbidden):  # signed by someone else
        v.verify(ProofIssuer(new_keypair()[0]).issue(SpendProof("m-1", "redeem", "XA-1", "r-1", "points:900", "pin")),
                 member_id="m-1", purpose="redeem", store_id="XA-1", ref="r-1", amount="points:900")
