"""Member-present proof for spending (L-07, L-11): pure rules, no I/O, the clock passed in.

A program proves the member either by a one-time code sent by SMS to the registered mobile (`sms_code`) or by a
PIN the member set at the desk (`pin`). Codes expire after CODE_TTL and are used once; wrong answers are counted
per member, and MAX_FAILURES in a row lock spending proofs for LOCK_FOR (a right answer while locked is refused
too). At most MAX_CODES codes are sent per member within CODE_WINDOW, so the SMS path cannot be used to flood a
phone. Codes are kept only as a keyed hash; PINs as a slow salted hash (scrypt, as staff passwords)."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from vipcore.errors import Forbidden, RuleViolation

Method = Literal["sms_code", "pin"]
METHODS: tuple[Method, ...] = ("sms_code", "pin")
DEFAULT_METHODS: tuple[Method, ...] = ("sms_code",)
CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MAX_CODES = 5
CODE_WINDOW = timedelta(minutes=15)
PIN_PATTERN = re.compile(r"^[0-9]{6}$")


def document_methods(doc: object) -> tuple[Method, ...] | None:
    """The proofs a program document accepts (`spend_proof: sms_code`, `pin` or a list of both), None when it
    names none."""
    if not isinstance(doc, dict) or "spend_proof" not in doc:
        return None
    raw = doc["spend_proof"]
    wanted = raw if isinstance(raw, list) else [raw]
    if not wanted or any(m not in METHODS for m in wanted):
        raise ValueError(f"spend_proof must be {' or '.join(METHODS)} (or a list of them), not {raw!r}")
    return tuple(m for m in METHODS if m in wanted)


def method_of(otp: str | None, pin: str | None, accepted: tuple[Method, ...], rule: str) -> tuple[Method, str]:
    """Which proof the answer is, if the program accepts it; else the refusal naming what it accepts."""
    given: tuple[Method, str] | None = ("sms_code", otp) if otp is not None else ("pin", pin) if pin is not None \
        else None
    if given is None or given[0] not in accepted:
        how = " or ".join("an SMS code (proof.otp)" if m == "sms_code" else "the PIN (proof.pin)" for m in accepted)
        raise RuleViolation(rule, "proof", f"this program proves the member by {how}")
    return given


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(key: str, challenge_id: str, code: str) -> str:
    """Keyed hash of a code, salted by its challenge: the table alone does not reveal live codes."""
    return hmac.new(key.encode(), f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def pin_problem(pin: str) -> str | None:
    if not PIN_PATTERN.match(pin):
        return "a PIN is 6 digits"
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        return "choose a PIN that is not a run or a repeated digit"
    return None


@dataclass(frozen=True)
class Guard:
    """The member's proof state: wrong answers in a row and the lock they caused."""

    failures: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime) -> Guard:
        n = self.failures + 1
        return Guard(n, now + LOCK_FOR if n >= MAX_FAILURES else self.locked_until)

    def after_success(self) -> Guard:
        return Guard(0, None)


def check_not_locked(guard: Guard, now: datetime, rule: str) -> None:
    if guard.locked(now):
        assert guard.locked_until is not None
        wait = max(1, math.ceil((guard.locked_until - now).total_seconds() / 60))
        raise Forbidden(rule, "proof", f"too many wrong answers: spending proofs are locked for this member for "
                                       f"{wait} more minute(s)")


def check_can_send(guard: Guard, sent_in_window: int, now: datetime, rule: str) -> None:
    check_not_locked(guard, now, rule)
    if sent_in_window >= MAX_CODES:
        raise Forbidden(rule, "proof", f"at most {MAX_CODES} codes are sent per member within "
                                       f"{int(CODE_WINDOW.total_seconds() // 60)} minutes")


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    code_hash: str
    expires_at: datetime
    used_for: str | None  # the spend (purpose:ref) it proved, once used


Outcome = Literal["ok", "replay", "wrong", "expired", "no_code"]


def judge_code(challenge: Challenge | None, code: str, key: str, now: datetime, spend: str) -> Outcome:
    """The latest code sent to the member against the answer given.

    - no_code: none was sent (or the last one was used for another spend) — not counted as a failure;
    - expired: the latest code is past its time — not counted (the code is not even compared);
    - replay: the code was used already for this very spend (the till retried) — proof again, no new spend;
    - ok / wrong: compared in constant time; a wrong answer counts toward the lock."""
    if challenge is None:
        return "no_code"
    matches = hmac.compare_digest(challenge.code_hash, code_hash(key, challenge.challenge_id, code))
    if challenge.used_for is not None:
        return "replay" if matches and challenge.used_for == spend else "no_code"
    if now >= challenge.expires_at:
        return "expired"
    return "ok" if matches else "wrong"


REFUSALS: dict[str, str] = {
    "no_code": "no live code for this member: ask for one (POST /v1/members/{{card_no}}/proof-codes)",
    "expired": "the code has expired: ask for a new one",
    "wrong": "wrong code",
    "wrong_pin": "wrong PIN",
    "no_pin": "the member has no PIN yet: it is set at the desk",
    "method": "this program proves the member by the PIN set at the desk, not by SMS code",
}


def refuse(rule: str, outcome: str, **kw: Any) -> RuleViolation:
    return RuleViolation(rule, "proof", REFUSALS[outcome].format(**kw))
