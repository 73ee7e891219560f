"""Identifying a member at the till (M-18), the shared blacklist first (M-16), with points and tier from loyalty and
the birthday on the store's calendar (L-06)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import NotFound, Unavailable
from vipcore.httpclient import InternalClient, Unreachable

from ..adapters.tables import member_directory, stores
from ..domain.members import blacklist_alone_answers, is_birthday, member_ref, store_today
from .directory import Directory

NOT_A_MEMBER: dict[str, Any] = {"member_id": None, "display_name": None, "tier": None, "points_balance": None,
                                "card_status": None, "status": None, "birthday_today": False}


class MemberLookup:
    def __init__(self, engine: AsyncEngine, directory: Directory, loyalty: InternalClient,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine, self.directory, self.loyalty, self.clock = engine, directory, loyalty, clock

    async def find(self, store: str, card_no: str | None, mobile: str | None, name: str | None) -> dict[str, Any]:
        """The member named by card or by mobile and name (M-18), flagged when the phone is blacklisted (M-16)."""
        async with self.engine.connect() as conn:
            listed = await self.directory.blacklisted(conn, self.directory.mobile_index(mobile)) if mobile else None
            if blacklist_alone_answers(listed, card_no, name):
                return {**NOT_A_MEMBER, "blacklisted": listed}
            ref = member_ref(card_no, mobile, name)
            (found,) = await self.directory.resolve_full(conn, [ref], store)  # O-02, L-11
            if found is None:
                if listed:
                    return {**NOT_A_MEMBER, "blacklisted": listed}
                raise NotFound("card_no" if card_no else "mobile", "no member with these details", "M-18")
            member_id, _, card_status = found
            m = (await conn.execute(sa.select(member_directory).where(
                member_directory.c.member_id == member_id))).one()
            listed = listed or await self.directory.blacklisted(conn, m.mobile_index)
            tz = await conn.scalar(sa.select(stores.c.timezone).where(stores.c.store_id == store))
        try:
            acct = await self.loyalty.get(f"/internal/accounts/{member_id}", params={"store_id": store})
        except Unreachable:
            raise Unavailable("member", "points and tier cannot be read right now; retry") from None
        if acct.status != 200:
            raise Unavailable("member", f"loyalty answered {acct.status} to an account read; retry")
        a = acct.body
        return {"member_id": member_id, "display_name": m.display_name, "tier": a["tier"],
                "points_balance": a["points_balance"], "card_status": card_status, "status": m.status,
                "points_available": a.get("points_available", a["points_balance"]),  # L-14: spendable now
                "blacklisted": listed,
                "birthday_today": is_birthday(m.birthday, store_today(self.clock(), tz))}
