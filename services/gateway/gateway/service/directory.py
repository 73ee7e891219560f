"""Member directory read model: who a card or (mobile, name) belongs to, fed by members.events.

It follows every event that changes a member's state or card, so the status stamped into each sale
(M-04: only approved members earn; M-17: a blocked or expired card earns nothing) is the current one,
and it keeps the shared blacklist (M-16) that every lookup by phone checks first."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.members import (
    CardExpired,
    CardIssued,
    CardLost,
    CardReplaced,
    MemberApproved,
    MemberBlacklisted,
    MemberBlacklistLifted,
    MemberRegistered,
    MemberStateChanged,
    MemberUpdated,
    StoreRegistered,
)
from vipcore.pii import mobile_index, name_index

from ..adapters.tables import blacklist, member_cards, member_directory, stores

md = member_directory


class Directory:
    MEMBER_CACHE_SECONDS = 60.0
    MEMBER_CACHE_SIZE = 100_000

    def __init__(self, index_key: str) -> None:
        self.index_key = index_key
        self._members: dict[tuple[str, ...], tuple[str, float]] = {}

    @staticmethod
    def _ref_key(ref: dict[str, Any], store: str) -> tuple[str, ...]:
        if ref.get("card_no"):
            return (store, "card", ref["card_no"])
        return (store, "pair", ref.get("mobile") or "", ref.get("name") or "")

    def cached_member(self, ref: dict[str, Any], store: str) -> str | None:
        """Which member a card or (mobile, name) names, from memory (quotes only, L-06).

        That answer does not change once known (a card number is never given to another member), so it is
        kept for a minute, per store (what a store's till reaches, O-02); the member's state is not cached: sales
        always read the directory (M-04, M-17)."""
        hit = self._members.get(self._ref_key(ref, store))
        return hit[0] if hit and hit[1] > time.monotonic() else None

    def remember_member(self, ref: dict[str, Any], store: str, member_id: str | None) -> None:
        if member_id is None:  # unknown today may be registered a moment later: never cache a miss
            return
        if len(self._members) >= self.MEMBER_CACHE_SIZE:
            self._members.clear()
        self._members[self._ref_key(ref, store)] = (member_id, time.monotonic() + self.MEMBER_CACHE_SECONDS)

    async def on_stores(self, tx: Tx, batch: list[Delivery[StoreRegistered]]) -> None:
        rows = [d.data.model_dump(include={"store_id", "name", "region_code", "timezone", "program"})
                for d in batch if isinstance(d.data, StoreRegistered)]
        stmt = pg_insert(stores)
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=["store_id"], set_={c: stmt.excluded[c] for c in
                                               ("name", "region_code", "timezone", "program")}), rows)

    async def on_members(self, tx: Tx, batch: list[Delivery[MemberRegistered]]) -> None:
        cols = ("member_id", "store_id", "card_no", "mobile_index", "name_index", "display_name",
                "card_status", "status", "birthday")
        latest = {d.data.member_id: d.data.model_dump(include=set(cols))
                  for d in batch if isinstance(d.data, MemberRegistered)}
        stmt = pg_insert(md)
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=["member_id"], set_={c: stmt.excluded[c] for c in cols[1:]}),
            list(latest.values()))
        await self._cards(tx.conn, [(m["card_no"], m["member_id"], m["card_status"]) for m in latest.values()])

    async def _cards(self, conn: AsyncConnection, cards: list[tuple[str, str, str]]) -> None:
        if not cards:
            return
        stmt = pg_insert(member_cards)
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=["card_no"], set_={"member_id": stmt.excluded.member_id,
                                              "card_status": stmt.excluded.card_status}),
            [{"card_no": c, "member_id": m, "card_status": s} for c, m, s in cards])

    async def on_updated(self, tx: Tx, batch: list[Delivery[MemberUpdated]]) -> None:
        """A file's name or mobile changed, or its indexes were recomputed (members.pii): lookups follow."""
        for d in batch:
            e = d.data
            if isinstance(e, MemberUpdated):
                await tx.conn.execute(md.update().where(md.c.member_id == e.member_id).values(
                    mobile_index=e.mobile_index, name_index=e.name_index, display_name=e.display_name))

    async def on_approved(self, tx: Tx, batch: list[Delivery[MemberApproved]]) -> None:
        """M-04: an approved file earns; only a file waiting for review becomes active here."""
        for d in batch:
            await tx.conn.execute(md.update().where(md.c.member_id == d.data.member_id,
                                                    md.c.status == "pending_review").values(status="active"))

    async def on_state_changed(self, tx: Tx, batch: list[Delivery[MemberStateChanged]]) -> None:
        """M-08: pending_review / active / dormant / public / blacklisted / deleted, in event order."""
        for d in batch:
            await tx.conn.execute(md.update().where(md.c.member_id == d.data.member_id)
                                  .values(status=d.data.to_state))

    async def on_blacklisted(self, tx: Tx, batch: list[Delivery[MemberBlacklisted]]) -> None:
        """M-16: the phone is listed for every store, naming the listing store; a member is blacklisted."""
        for d in batch:
            b: MemberBlacklisted = d.data
            stmt = pg_insert(blacklist).values(mobile_index=b.mobile_index, store_id=b.store_id,
                                               since=d.env.time, member_id=b.member_id)
            await tx.conn.execute(stmt.on_conflict_do_nothing())  # the first listing store stays named
            await tx.conn.execute(md.update().where(md.c.mobile_index == b.mobile_index)
                                  .values(status="blacklisted"))

    async def on_blacklist_lifted(self, tx: Tx, batch: list[Delivery[MemberBlacklistLifted]]) -> None:
        """M-16: the listing was lifted; lookups stop flagging the phone (the member's restored state follows as
        members.member.state_changed). A later listing inserts it again."""
        for d in batch:
            await tx.conn.execute(blacklist.delete().where(blacklist.c.mobile_index == d.data.mobile_index))

    async def on_card_issued(self, tx: Tx, batch: list[Delivery[CardIssued]]) -> None:
        for d in batch:
            await self._cards(tx.conn, [(d.data.card_no, d.data.member_id, "active")])
            await tx.conn.execute(md.update().where(md.c.member_id == d.data.member_id)
                                  .values(card_no=d.data.card_no, card_status="active"))

    async def on_card_lost(self, tx: Tx, batch: list[Delivery[CardLost]]) -> None:
        """M-17: a card reported lost is blocked at once."""
        for d in batch:
            await self._card_status(tx.conn, d.data.card_no, "blocked")

    async def on_card_expired(self, tx: Tx, batch: list[Delivery[CardExpired]]) -> None:
        """M-17: an expired card is still recognised but earns nothing."""
        for d in batch:
            await self._card_status(tx.conn, d.data.card_no, "expired")

    async def on_card_replaced(self, tx: Tx, batch: list[Delivery[CardReplaced]]) -> None:
        """M-17: the old number stays blocked, the new one is the member's card."""
        for d in batch:
            r: CardReplaced = d.data
            old = await tx.conn.scalar(sa.select(member_cards.c.card_status)
                                       .where(member_cards.c.card_no == r.old_card_no))
            await self._card_status(tx.conn, r.old_card_no, "blocked" if old in (None, "active") else old)
            await self._cards(tx.conn, [(r.new_card_no, r.member_id, "active")])
            await tx.conn.execute(md.update().where(md.c.member_id == r.member_id)
                                  .values(card_no=r.new_card_no, card_status="active"))

    async def _card_status(self, conn: AsyncConnection, card_no: str, status: str) -> None:
        await conn.execute(member_cards.update().where(member_cards.c.card_no == card_no)
                           .values(card_status=status))
        await conn.execute(md.update().where(md.c.card_no == card_no).values(card_status=status))

    async def blacklisted(self, conn: AsyncConnection, mobile_index: str) -> dict[str, Any] | None:
        """M-16: {store_id, since} when this phone is blacklisted by any store, else None."""
        row = (await conn.execute(sa.select(blacklist.c.store_id, blacklist.c.since)
                                  .where(blacklist.c.mobile_index == mobile_index))).first()
        return {"store_id": row.store_id, "since": row.since.isoformat()} if row else None

    def mobile_index(self, mobile: str) -> str:
        return mobile_index(self.index_key, mobile)

    async def resolve(self, conn: AsyncConnection, refs: list[dict | None], store: str) -> list[str | None]:
        """member_id for each member reference (card, or mobile+name) presented at `store`, None when unknown."""
        return [m[0] if m else None for m in await self.resolve_full(conn, refs, store)]

    async def resolve_full(self, conn: AsyncConnection, refs: list[dict | None],
                           store: str) -> list[tuple[str, str, str] | None]:
        """(member_id, member status, status of the presented card) for each reference presented at `store`, None
        when unknown there.

        O-02 with L-11: a store's till reaches the members of the stores of its own program (a member uses the
        card anywhere in the chain that runs the program, L-11), never another program's members — those are
        answered like an unknown card. Several files for one person (one per store) resolve to the file of
        this store first."""
        cards = {r["card_no"] for r in refs if r and r.get("card_no")}
        pairs = {(mobile_index(self.index_key, r["mobile"]), name_index(self.index_key, r["name"]))
                 for r in refs if r and not r.get("card_no")}
        reachable = md.c.store_id.in_(same_program(store))
        by_card: dict[str, tuple[str, str, str]] = {}
        by_pair: dict[tuple[str, str], tuple[str, str, str]] = {}
        if cards:
            rows = await conn.execute(sa.select(member_cards.c.card_no, md.c.member_id, md.c.status,
                                                member_cards.c.card_status)
                                      .join(md, md.c.member_id == member_cards.c.member_id)
                                      .where(member_cards.c.card_no.in_(cards), reachable))
            by_card = {r.card_no: (r.member_id, r.status, r.card_status) for r in rows}
        if pairs:
            rows = await conn.execute(sa.select(md.c.mobile_index, md.c.name_index, md.c.member_id, md.c.status,
                                                md.c.card_status, md.c.store_id)
                                      .where(sa.tuple_(md.c.mobile_index, md.c.name_index).in_(pairs), reachable)
                                      .order_by(md.c.store_id == store, md.c.member_id))
            by_pair = {(r.mobile_index, r.name_index): (r.member_id, r.status, r.card_status) for r in rows}
        out: list[tuple[str, str, str] | None] = []
        for r in refs:
            if not r:
                out.append(None)
            elif r.get("card_no"):
                out.append(by_card.get(r["card_no"]))
            else:
                out.append(by_pair.get((mobile_index(self.index_key, r["mobile"]),
                                        name_index(self.index_key, r["name"]))))
        return out


def same_program(store: str) -> sa.Select:
    """The stores that run the program of `store` (O-02, L-11): empty while `store` itself is unknown."""
    program = sa.select(stores.c.program).where(stores.c.store_id == store).scalar_subquery()
    return sa.select(stores.c.store_id).where(stores.c.program == program)
