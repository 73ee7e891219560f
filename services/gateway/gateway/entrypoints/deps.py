"""Who is calling: a POS terminal authenticates with its store's API key (O-02)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from vipcore.http import FieldError, Problem

from ..service.apikeys import KeyVerifier


def terminal_store(keys: KeyVerifier) -> Callable[[Request], Awaitable[str]]:
    """A dependency answering the store of the request's `Authorization: Bearer <store API key>`, or 401."""

    async def store_of_key(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Problem(401, "Unauthorized", "Authorization: Bearer <store API key> is required",
                          [FieldError("Authorization", "missing store API key")])
        store = await keys.store_of(auth[7:].strip())
        if store is None:
            raise Problem(401, "Unauthorized", "unknown or revoked API key",
                          [FieldError("Authorization", "unknown store API key")])
        return store

    return store_of_key
