"""Staff login is throttled per account and per client address (issue 11, item 3; O-03): 429 with Retry-After,
decided before scrypt runs (it is the CPU lever), and only failed logins count."""

from __future__ import annotations

from typing import Any

import pytest
from members.service import staffauth
from members.service.staffauth import LoginThrottle, StaffLogin
from vipcore.auth import TokenIssuer, new_keypair
from vipcore.errors import TooManyRequests, Unauthorized
from vipcore.limits import RateLimiter

GOOD = staffauth.hash_password("right-password-1")


class Row:
    staff_id, store_id, role, left_at, region_code = "S1", "XA-001", "staff", None, "029"
    password_hash = GOOD


class Engine:
    """Stands in for the database: staff S1 exists with GOOD's password; nobody else does."""

    def connect(self) -> Any:
        engine = self

        class Conn:
            async def __aenter__(self) -> Any:
                return self

            async def __aexit__(self, *a: object) -> None:
                return None

            async def execute(self, stmt: Any) -> Any:
                engine.reads += 1
                sid = stmt.compile().params.get("staff_id_1")

                class Result:
                    def first(self) -> Any:
                        return Row() if sid == "S1" else None

                return Result()

        return Conn()

    def begin(self) -> Any:
        """A successful login stores its refresh token (hashed): writes are accepted and not counted as reads."""

        class Tx:
            async def __aenter__(self) -> Any:
                return self

            async def __aexit__(self, *a: object) -> None:
                return None

            async def execute(self, stmt: Any) -> Any:
                return None

        return Tx()

    reads = 0


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = staffauth.verify_password

    def counted(password: str, stored: str) -> bool:
        calls.append(password)
        return real(password, stored)

    monkeypatch.setattr(staffauth, "verify_password", counted)
    return calls


def login(clock: Clock, account_burst: int = 3, address_burst: int = 10) -> tuple[StaffLogin, Engine]:
    engine = Engine()
    throttle = LoginThrottle(RateLimiter(1 / 60, account_burst, clock=clock),
                             RateLimiter(10 / 60, address_burst, clock=clock))
    return StaffLogin(engine, TokenIssuer(new_keypair()[0]), throttle=throttle), engine  # type: ignore[arg-type]


async def test_o03_wrong_passwords_per_account_get_429_before_scrypt_runs(scrypt_calls: list[str]) -> None:
    clock = Clock()
    svc, engine = login(clock)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            await svc.login("S1", "guess", "10.0.0.1")
    assert len(scrypt_calls) == 3
    for addr in ("10.0.0.1", "10.9.9.9"):  # another address does not help: the account is slowed down
        with pytest.raises(TooManyRequests) as e:
            await svc.login("S1", "right-password-1", addr)
        assert e.value.status == 429 and e.value.retry_after_s == 60
    assert len(scrypt_calls) == 3 and engine.reads == 3  # neither scrypt nor the database ran for them
    clock.now += 60
    assert (await svc.login("S1", "right-password-1", "10.0.0.1"))["staff_id"] == "S1"


async def test_o03_failures_per_address_across_accounts_get_429_before_scrypt(scrypt_calls: list[str]) -> None:
    svc, _ = login(Clock(), account_burst=100, address_burst=4)
    for i in range(4):
        with pytest.raises(Unauthorized):
            await svc.login(f"NOBODY-{i}", "guess", "10.0.0.7")  # unknown ids cost scrypt too (timing)
    with pytest.raises(TooManyRequests):
        await svc.login("NOBODY-9", "guess", "10.0.0.7")
    assert len(scrypt_calls) == 4
    with pytest.raises(Unauthorized):  # another address still may try
        await svc.login("NOBODY-9", "guess", "10.0.0.8")


async def test_o03_successful_logins_do_not_count(scrypt_calls: list[str]) -> None:
    svc, _ = login(Clock(), account_burst=2, address_burst=2)
    for _ in range(10):
        assert (await svc.login("S1", "right-password-1", "10.0.0.1"))["token"]


def test_o03_two_members_instances_together_allow_the_configured_failures() -> None:
    """docs/scaling.md "Rates that stay chain-wide": with INSTANCE_COUNT=2 each members process keeps half of the
    login buckets, so failed logins spread over both instances meet the configured burst and rate, not twice."""
    clock = Clock()
    throttles = [LoginThrottle.of(account_per_min=1, account_burst=6, address_per_min=10, address_burst=100,
                                  instances=2, clock=clock) for _ in range(2)]

    def tries(n: int) -> int:
        admitted = 0
        for i in range(n):
            try:
                throttles[i % 2].admit("S1", f"10.0.0.{i}")
                admitted += 1
            except TooManyRequests:
                pass
        return admitted

    assert tries(20) == 6  # the account's burst of 6 across both instances
    clock.now += 120  # one a minute: two more
    assert tries(10) == 2
