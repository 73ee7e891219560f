"""Per-store API keys: shown once, stored as a hash, verified with a short in-memory cache."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..adapters.tables import api_keys

KEY_CHARS = re.compile(r"[\x21-\x7e]{1,200}")  # a header may carry anything; a key is printable ASCII


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_key(engine: AsyncEngine, store_id: str) -> str:
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(api_keys.insert().values(key_id=key_id, store_id=store_id, secret_hash=_hash(secret)))
    return f"vip_{key_id}_{secret}"


class KeyVerifier:
    def __init__(self, engine: AsyncEngine, cache_seconds: float) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[str, float]] = {}

    async def store_of(self, key: str) -> str | None:
        """The store a key belongs to, or None for an unknown, malformed or revoked key."""
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit and hit[1] > now:
            return hit[0]
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "vip" or not KEY_CHARS.fullmatch(key):
            return None
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(api_keys.c.store_id, api_keys.c.secret_hash).where(
                api_keys.c.key_id == parts[1], api_keys.c.revoked_at.is_(None)))).first()
        if row is None or not hmac.compare_digest(row.secret_hash, _hash(parts[2])):
            return None
        self._cache[key] = (row.store_id, now + self.cache_seconds)
        return str(row.store_id)
