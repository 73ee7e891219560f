"""Card repository (M-17): numbers from a per-region sequence, gap-free under concurrency, and card rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.cards import card_number, valid_until
from .tables import card_sequences, cards, members


async def next_numbers(conn: AsyncConnection, region_code: str, n: int) -> list[str]:
    """Reserve n consecutive numbers of a region inside the caller's transaction.

    The UPDATE locks the region's row until commit, so concurrent issuers queue; a rolled-back issue
    gives its numbers back (no gaps), and no two transactions can read the same last_seq (no duplicates)."""
    await conn.execute(pg_insert(card_sequences).values(region_code=region_code, last_seq=0)
                       .on_conflict_do_nothing())
    top = int(await conn.scalar(
        card_sequences.update().where(card_sequences.c.region_code == region_code)
        .values(last_seq=card_sequences.c.last_seq + n).returning(card_sequences.c.last_seq)) or 0)
    return [card_number(region_code, s) for s in range(top - n + 1, top + 1)]


async def record_cards(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Card rows issued in the caller's transaction (the card history)."""
    if rows:
        await conn.execute(cards.insert(), rows)


async def block_and_replace(conn: AsyncConnection, member_id: str, region_code: str, now: datetime,
                            years: int) -> tuple[str, str, date]:
    """M-17 loss report: the old card is blocked at once and a new number issued (same transaction)."""
    m = (await conn.execute(sa.select(members.c.card_no, members.c.store_id)
                            .where(members.c.member_id == member_id).with_for_update())).one()
    (new,) = await next_numbers(conn, region_code, 1)
    until = valid_until(now.date(), years)
    await conn.execute(cards.update().where(cards.c.card_no == m.card_no).values(status="blocked", replaced_by=new))
    await record_cards(conn, [{"card_no": new, "member_id": member_id, "store_id": m.store_id, "status": "active",
                               "issued_at": now, "valid_until": until}])
    await conn.execute(members.update().where(members.c.member_id == member_id)
                       .values(card_no=new, card_status="active"))
    return m.card_no, new, until
