"""Member directory read model: who a card or (mobile, name) belongs to, fed by members.events."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.members import MemberRegistered, StoreRegistered
from vipcore.pii import blind_index

from ..adapters.tables import member_directory, stores


class Directory:
    def __init__(self, index_key: str) -> None:
        self.index_key = index_key

    async def on_stores(self, tx: Tx, batch: list[Delivery]) -> None:
        rows = [d.data.model_dump(include={"store_id", "name", "region_code", "timezone", "program"})
                for d in batch if isinstance(d.data, StoreRegistered)]
        stmt = pg_insert(stores)
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=["store_id"], set_={c: stmt.excluded[c] for c in
                                               ("name", "region_code", "timezone", "program")}), rows)

    async def on_members(self, tx: Tx, batch: list[Delivery]) -> None:
        cols = ("member_id", "store_id", "card_no", "mobile_index", "name_index", "display_name",
                "card_status", "status", "birthday")
        latest = {d.data.member_id: d.data.model_dump(include=set(cols))
                  for d in batch if isinstance(d.data, MemberRegistered)}
        stmt = pg_insert(member_directory)
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=["member_id"], set_={c: stmt.excluded[c] for c in cols[1:]}),
            list(latest.values()))

    async def resolve(self, conn: AsyncConnection, refs: list[dict | None]) -> list[str | None]:
        """member_id for each member reference (card, or mobile+name), None when unknown."""
        return [m[0] if m else None for m in await self.resolve_full(conn, refs)]

    async def resolve_full(self, conn: AsyncConnection,
                           refs: list[dict | None]) -> list[tuple[str, str, str] | None]:
        """(member_id, member status, status of the presented card) for each reference, None when unknown."""
        cards = {r["card_no"] for r in refs if r and r.get("card_no")}
        pairs = {(blind_index(self.index_key, r["mobile"]), blind_index(self.index_key, r["name"]))
                 for r in refs if r and not r.get("card_no")}
        by_card: dict[str, tuple[str, str, str]] = {}
        by_pair: dict[tuple[str, str], tuple[str, str, str]] = {}
        if cards:
            rows = await conn.execute(sa.select(member_directory.c.card_no, member_directory.c.member_id,
                                                member_directory.c.status, member_directory.c.card_status)
                                      .where(member_directory.c.card_no.in_(cards)))
            by_card = {r.card_no: (r.member_id, r.status, r.card_status) for r in rows}
        if pairs:
            rows = await conn.execute(sa.select(member_directory.c.mobile_index, member_directory.c.name_index,
                                                member_directory.c.member_id, member_directory.c.status,
                                                member_directory.c.card_status)
                                      .where(sa.tuple_(member_directory.c.mobile_index,
                                                       member_directory.c.name_index).in_(pairs)))
            by_pair = {(r.mobile_index, r.name_index): (r.member_id, r.status, r.card_status) for r in rows}
        out: list[tuple[str, str, str] | None] = []
        for r in refs:
            if not r:
                out.append(None)
            elif r.get("card_no"):
                out.append(by_card.get(r["card_no"]))
            else:
                out.append(by_pair.get((blind_index(self.index_key, r["mobile"]),
                                        blind_index(self.index_key, r["name"]))))
        return out
