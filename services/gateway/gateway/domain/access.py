"""O-02: a POS terminal is the machine identity of one store; its key acts for that store only."""

from __future__ import annotations

from vipcore.errors import Forbidden


def same_store(key_store: str, store_id: str, field: str = "store_id") -> None:
    """O-02: refuse a call naming another store than the one the API key belongs to."""
    if key_store != store_id:
        raise Forbidden("O-02", field, f"a key of store {key_store} cannot act for {store_id}")
