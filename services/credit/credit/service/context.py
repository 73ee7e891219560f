"""What every credit command needs: the engine, the outbox, the clock and the store calendar."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.events import Envelope, EventData
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring, decrypt, encrypt
from vipcore.topics import CREDIT_EVENTS

from ..adapters.sql import local_sql, zone_sql
from ..adapters.tables import stores

Clock = Callable[[], datetime]
CLEAR_MOBILE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")  # phones stored before they were encrypted


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Credit:
    engine: AsyncEngine
    topic_prefix: str = ""
    wake: Callable[[], None] = lambda: None
    clock: Clock = utc_now
    default_tz: str = "Asia/Shanghai"
    authorization_ttl_s: int = 1800
    enc_key: Keyring | None = None  # credit's at-rest keys (PII_KEYS): mobiles, coupon buyers' phones
    coupon_release_s: int = 1800  # C-09: a till spend whose sale has not arrived by then is released
    event_keys: Keyring | None = None  # personal fields inside events (EVENT_PII_KEYS)
    index_key: str = ""  # blind index of coupon buyers' phones
    _tz_cache: dict[str, str] = field(default_factory=dict)

    def seal(self, mobile: str | None) -> str | None:
        """N-06: a customer's mobile at rest, AES-GCM encrypted."""
        return encrypt(self.keys, mobile) if mobile else None

    def unseal(self, stored: str | None) -> str | None:
        """The mobile back; accounts opened before mobiles were encrypted hold it as given."""
        if not stored:
            return None
        return stored if CLEAR_MOBILE.fullmatch(stored) else decrypt(self.keys, stored)

    @property
    def keys(self) -> Keyring:
        if self.enc_key is None:
            raise RuntimeError("credit needs its PII_KEYS to read or write personal data")
        return self.enc_key

    def seal_event(self, value: str | None) -> str | None:
        """A personal field of an event, sealed with the events key (nothing personal in clear on Kafka)."""
        if value is None:
            return None
        if self.event_keys is None:
            raise RuntimeError("credit needs EVENT_PII_KEYS to put personal data on events")
        return self.event_keys.encrypt(value)

    async def emit(self, conn: AsyncConnection, events: Sequence[tuple[str, EventData]]) -> None:
        """Credit events keyed by customer, through the outbox in the caller's transaction."""
        await add_to_outbox(conn, [
            OutgoingEvent(self.topic_prefix + CREDIT_EVENTS.name, key,
                          Envelope.new(data, source="credit", subject=key)) for key, data in events])

    async def store_tz(self, conn: AsyncConnection, store_id: str) -> str:
        if store_id not in self._tz_cache:
            tz = await conn.scalar(sa.select(stores.c.timezone).where(stores.c.store_id == store_id))
            if tz is None:
                return self.default_tz  # not cached: the store may be announced later
            self._tz_cache[store_id] = tz
        return self._tz_cache[store_id]

    async def zones(self, conn: AsyncConnection) -> list[str]:
        """Every time zone a known store runs in, and the default one (stores not announced yet)."""
        return sorted({self.default_tz, *(await conn.scalars(sa.select(stores.c.timezone).distinct()))})

    def zone_sql(self, *store_ids: Any) -> Any:
        """SQL: the time zone of the first of these stores that is known, else the default zone."""
        return zone_sql(self.default_tz, *store_ids)

    def local_sql(self, at: Any, store_id: Any) -> Any:
        """SQL: the store-time wall clock of the instant `at` (a timestamp without zone)."""
        return local_sql(self.default_tz, at, store_id)

    def business_date(self, tz: str, at: datetime | None = None) -> date:
        """The date at `at` (default now) in the store's time zone."""
        return (at or self.clock()).astimezone(ZoneInfo(tz)).date()
