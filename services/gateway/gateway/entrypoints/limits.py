"""Rate limits of the POS API per store API key (vipcore.limits token buckets; 429 with Retry-After).

Writes, quotes, lookups and the receipts of batch uploads each have their own bucket per key; lookups are the
tightest. A lookup (or redemption) that names a card or mobile nobody has is a *miss*: misses have a much smaller
bucket of their own, so walking the card range (M-17: region + sequence) gets a handful of tries a minute."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from vipcore.errors import NotFound
from vipcore.limits import Clock, RateLimiter

from ..config import GatewaySettings

T = TypeVar("T")


def key_id(request: Request) -> str:
    """The verified API key's id (set by terminal_store), the key every bucket is kept under."""
    return str(getattr(request.state, "api_key_id", ""))


@dataclass
class PosLimits:
    writes: RateLimiter
    quotes: RateLimiter
    lookups: RateLimiter
    batch_receipts: RateLimiter
    misses: RateLimiter

    @classmethod
    def from_settings(cls, s: GatewaySettings, clock: Clock | None = None) -> PosLimits:
        k = s.pos_rate_scale
        kw: dict[str, Any] = {"clock": clock} if clock is not None else {}
        return cls(writes=RateLimiter(s.pos_writes_per_s * k, s.pos_writes_burst * k, **kw),
                   quotes=RateLimiter(s.pos_quotes_per_s * k, s.pos_quotes_burst * k, **kw),
                   lookups=RateLimiter(s.pos_lookups_per_s * k, s.pos_lookups_burst * k, **kw),
                   batch_receipts=RateLimiter(s.pos_batch_receipts_per_s * k, s.pos_batch_receipts_burst * k, **kw),
                   misses=RateLimiter(s.pos_misses_per_min / 60, s.pos_misses_burst, **kw))

    def gate(self, bucket: RateLimiter, what: str) -> Callable[[str], None]:
        """The check terminal_store runs once the key is verified: one token of `bucket` for this request."""
        return lambda kid: bucket.check(kid, what=what)

    def receipts(self, request: Request, n: int) -> None:
        """A batch upload counts its receipts (429 when the key's receipts allowance is used up)."""
        self.batch_receipts.check(key_id(request), n, what="receipts uploaded", field="sales")

    async def unless_missed(self, request: Request, call: Callable[[], Awaitable[T]],
                            missed: Callable[[T], bool] = lambda _: False) -> T:
        """Run a lookup that may find nobody: a miss token is reserved first (429 when none is left, before any
        database read), kept when nobody was found (NotFound, or `missed(result)`), given back otherwise.
        Concurrent tries cannot overrun the allowance."""
        kid = key_id(request)
        self.misses.check(kid, what="lookups of unknown cards or mobiles (M-17, M-18)", field="card_no")
        try:
            result = await call()
        except NotFound:
            raise  # the reserved token stays spent
        except BaseException:
            self.misses.give_back(kid)
            raise
        if not missed(result):
            self.misses.give_back(kid)
        return result
