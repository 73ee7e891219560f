"""Rate limits of the POS API per store API key (vipcore.limits token buckets; 429 with Retry-After).

Writes, quotes, lookups and the receipts of batch uploads each have their own bucket per key; lookups are the
tightest. A lookup (or redemption) that names a card or mobile nobody has is a *miss*: misses have a much smaller
bucket of their own, so walking the card range (M-17: region + sequence) gets a handful of tries a minute."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from vipcore.errors import NotFound, TooManyRequests
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
        """The configured limits are per key across the whole chain: with INSTANCE_COUNT gateways each keeps its share
        (a key's connections are spread over the instances), so a key gets the configured rate, not a multiple."""
        k, n = s.pos_rate_scale, s.instance_count
        kw: dict[str, Any] = {"clock": clock} if clock is not None else {}
        share = RateLimiter.share_of
        return cls(writes=share(s.pos_writes_per_s * k, s.pos_writes_burst * k, n, **kw),
                   quotes=share(s.pos_quotes_per_s * k, s.pos_quotes_burst * k, n, **kw),
                   lookups=share(s.pos_lookups_per_s * k, s.pos_lookups_burst * k, n, **kw),
                   batch_receipts=share(s.pos_batch_receipts_per_s * k, s.pos_batch_receipts_burst * k, n, **kw),
                   misses=share(s.pos_misses_per_min / 60, s.pos_misses_burst, n, **kw))

    @classmethod
    def defaults(cls, clock: Clock | None = None) -> PosLimits:
        """The limits of a gateway with default settings."""
        f = GatewaySettings.model_fields
        return cls.from_settings(GatewaySettings.model_construct(**{
            n: f[n].default for n in f if n.startswith("pos_") or n == "instance_count"}), clock)

    def gate(self, bucket: RateLimiter, what: str) -> Callable[[str], None]:
        """The check terminal_store runs once the key is verified: one token of `bucket` for this request."""
        return lambda kid: bucket.check(kid, what=what)

    def receipts(self, request: Request, n: int) -> None:
        """A batch upload counts its receipts (429 when the key's receipts allowance is used up)."""
        self.batch_receipts.check(key_id(request), n, what="receipts uploaded", field="sales")

    async def unless_missed(self, request: Request, call: Callable[[], Awaitable[T]],
                            missed: Callable[[T], bool] = lambda _: False) -> T:
        """Run a lookup that may find nobody: refused at once (429, before any database read) while the key's misses
        allowance is used up; a try that found nobody (NotFound, or `missed(result)`) is charged to it afterwards.
        Tries that ran together are all charged (the allowance goes into debt), so concurrency does not raise the
        rate of misses; lookups that find their member never count."""
        kid = key_id(request)
        wait = self.misses.wait(kid)
        if wait > 0:
            raise TooManyRequests("card_no", f"too many lookups of unknown cards or mobiles (M-17, M-18): retry in "
                                             f"{math.ceil(wait)} s", retry_after_s=max(1, math.ceil(wait)))
        try:
            result = await call()
        except NotFound:
            self.misses.charge(kid)
            raise
        if missed(result):
            self.misses.charge(kid)
        return result
