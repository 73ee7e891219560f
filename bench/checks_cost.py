"""What issue 11's checks cost per call on this machine (in-process, no servers): the per-key rate limit, a
service token checked by the callee (cached and first use), minting one, redacting a log value, and the scrypt
check behind a PIN. Run: `.venv/bin/python bench/checks_cost.py`; prints one line per check, then a JSON line."""

from __future__ import annotations

import json
import sys
import timeit
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "services" / "members")]

from members.domain import passwords  # noqa: E402
from vipcore import redact  # noqa: E402
from vipcore.auth import TokenVerifier, new_keypair  # noqa: E402
from vipcore.identity import Access, ServiceTokens, parse_service_keys  # noqa: E402
from vipcore.limits import RateLimiter  # noqa: E402


def per_call_us(fn: object, n: int) -> float:
    return timeit.timeit(fn, number=n) / n * 1e6  # type: ignore[arg-type]


def main() -> None:
    bucket = RateLimiter(1e9, 1e9)
    priv, pub = new_keypair()
    tokens = ServiceTokens("gateway", priv)
    access = Access("loyalty", TokenVerifier(None), parse_service_keys(f"gateway={pub}"))
    token = tokens.token("loyalty")
    access.verify_service(token)

    def first_use() -> None:
        access._verified.clear()  # noqa: SLF001 - measure the signature check the cache saves
        access.verify_service(token)

    line = "sale accepted receipt R-20261202-0001 store XA-001 member M4c4f09917311469 amount 98800"
    pin_hash = passwords.hash_password("480213")
    out = {
        "rate_limit_check_us": per_call_us(lambda: bucket.check("key-1"), 200_000),
        "service_token_cached_us": per_call_us(lambda: access.verify_service(token), 200_000),
        "service_token_first_use_us": per_call_us(first_use, 2_000),
        "service_token_mint_cached_us": per_call_us(lambda: tokens.token("loyalty"), 200_000),
        "redact_log_value_us": per_call_us(lambda: redact.redact(line), 100_000),
        "pin_scrypt_check_us": per_call_us(lambda: passwords.verify_password("480213", pin_hash), 20),
    }
    for k, v in out.items():
        print(f"{k:32} {v:12.2f}")
    print(json.dumps({k: round(v, 2) for k, v in out.items()}))


if __name__ == "__main__":
    main()
