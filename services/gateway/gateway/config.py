"""Gateway settings."""

from __future__ import annotations

from pydantic import Field, SecretStr
from vipcore.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    http_port: int = 8000
    loyalty_url: str = "http://127.0.0.1:8002"
    credit_url: str = "http://127.0.0.1:8003"
    members_url: str = "http://127.0.0.1:8001"  # L-07, L-11: members judges the member's code or PIN
    pii_index_key: SecretStr  # same key as the members service: finds members by mobile/name
    api_key_cache_seconds: float = 30.0

    # Rate limits per store API key (token buckets: `*_per_s` refill, `*_burst` the most at once); 429 with
    # Retry-After past them. docs/architecture.md "Limits" says why these numbers.
    pos_rate_scale: float = Field(
        1.0, gt=0, description="Multiplies every per-key rate and burst below (not the misses): a load test that "
                               "plays a whole chain through a few keys raises it")
    pos_writes_per_s: float = Field(
        20.0, gt=0, description="sales, refunds, redemptions, credit calls per key: the busiest store (40 tills, a "
                                "sale every 30 s each at peak) does ~1.5/s")
    pos_writes_burst: int = Field(200, ge=1, description="a POS back online replays its queue at once")
    pos_quotes_per_s: float = Field(40.0, gt=0, description="quotes per key: a basket may be priced a few times")
    pos_quotes_burst: int = Field(400, ge=1)
    pos_lookups_per_s: float = Field(5.0, gt=0, description="member lookups per key: one per customer at most")
    pos_lookups_burst: int = Field(60, ge=1)
    pos_batch_receipts_per_s: float = Field(
        50.0, gt=0, description="receipts per key uploaded by sales:batch (a batch counts its receipts)")
    pos_batch_receipts_burst: int = Field(
        5000, ge=1, description="a store offline for a whole day uploads its receipts in one go")
    pos_misses_per_min: float = Field(
        6.0, gt=0, description="lookups (and redemptions) naming a card or mobile that finds nobody, per key: a "
                               "mistyped card happens a few times an hour; walking the card range needs millions")
    pos_misses_burst: int = Field(20, ge=1)

    # In-memory queues (the sale coalescer, the quote batcher): past this many waiting, 503 with Retry-After.
    sale_queue_max: int = Field(
        2000, ge=1, description="sales admitted (paid, waiting to be written) at once; ~10 group commits' worth")
    quote_queue_max: int = Field(2000, ge=1, description="quotes waiting for loyalty at once")
