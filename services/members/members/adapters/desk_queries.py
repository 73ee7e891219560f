"""Read-only queries behind the console's member-file desk (issue 12): blacklist pages (M-16), a file's change
record (M-13) and a file's likely duplicates in its store (M-06). Rows out; the service masks and access-logs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import blacklist, file_changes, members


async def blacklist_page(conn: AsyncConnection, mobile_index: str | None, store_id: str | None, page: int,
                         limit: int, lifted: bool = False) -> tuple[list[Any], int]:
    """M-16: blacklist entries in force (or the lifted ones), newest first, filtered by phone (keyed hash) and
    listing store; and their count."""
    cond = sa.and_(blacklist.c.lifted_at.is_not(None) if lifted else blacklist.c.lifted_at.is_(None),
                   *([blacklist.c.mobile_index == mobile_index] if mobile_index else []),
                   *([blacklist.c.store_id == store_id] if store_id else []))
    rows = (await conn.execute(sa.select(blacklist).where(cond)
                               .order_by(blacklist.c.since.desc(), blacklist.c.entry_id.desc())
                               .offset((page - 1) * limit).limit(limit))).all()
    total = await conn.scalar(sa.select(sa.func.count()).select_from(blacklist).where(cond))
    return list(rows), int(total or 0)


async def file_steps(conn: AsyncConnection, member_id: str, page: int, limit: int) -> tuple[list[Any], int]:
    """M-13: a file's changes and review decisions, newest first; and their count."""
    rows = (await conn.execute(sa.select(file_changes).where(file_changes.c.member_id == member_id)
                               .order_by(file_changes.c.id.desc()).offset((page - 1) * limit).limit(limit))).all()
    total = await conn.scalar(sa.select(sa.func.count()).select_from(file_changes)
                              .where(file_changes.c.member_id == member_id))
    return list(rows), int(total or 0)


async def likely_duplicates(conn: AsyncConnection, m: Any, closed: tuple[str, ...], limit: int) -> list[Any]:
    """M-06: other open files of `m`'s store with the same full name (keyed hash) or the same ID card."""
    same = [members.c.name_index == m.name_index]
    if m.id_card_index:
        same.append(members.c.id_card_index == m.id_card_index)
    return list((await conn.execute(sa.select(members).where(
        members.c.store_id == m.store_id, members.c.member_id != m.member_id, members.c.status.not_in(closed),
        sa.or_(*same)).order_by(members.c.created_at).limit(limit))).all())
