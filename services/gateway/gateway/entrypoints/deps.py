"""Who is calling: a POS terminal authenticates with its store's API key (O-02)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from vipcore.http import FieldError, Problem

from ..service.apikeys import KeyVerifier


def terminal_store(keys: KeyVerifier,
                   limit: Callable[[str], None] | None = None) -> Callable[[Request], Awaitable[str]]:
    """A dependency answering the store of the request's `Authorization: Bearer <store API key>`, or 401.

    `limit` (entrypoints/limits.py) then spends this request's token of the key's bucket, or answers 429: only a
    verified key is counted, so nobody can use up another store's allowance."""

    async def store_of_key(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Problem(401, "Unauthorized", "Authorization: Bearer <store API key> is required",
                          [FieldError("Authorization", "missing store API key")])
        key = auth[7:].strip()
        store = await keys.store_of(key)
        if store is None:
            raise Problem(401, "Unauthorized", "unknown or revoked API key",
                          [FieldError("Authorization", "unknown store API key")])
        parts = key.split("_", 2)  # vip_<key id>_<secret>, as store_of checked
        request.state.api_key_id = parts[1] if len(parts) == 3 else key
        if limit is not None:
            limit(request.state.api_key_id)
        return store

    return store_of_key
