"""What happens when a sale, a refund or a store arrives: load, apply the rules, write ledger + outbox.

Batched: one read of stores, one locked read of accounts, one ledger insert and one account upsert per batch.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.loyalty import PointsEarned, PointsExpired, PointsReversed, RewardReady, TierChanged
from vipcore.contracts.members import (
    CardExpired,
    CardReplaced,
    MemberRegistered,
    MemberUpdated,
    OpeningBalance,
    StoreRegistered,
)
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.events import Envelope, EventData
from vipcore.topics import LOYALTY_EVENTS

from ..adapters import state
from ..adapters.stores import DEFAULT_TZ
from ..adapters.tables import accounts, ledger, members, stores, tier_changes
from ..domain.account import Account, Entry, Lot, TierChange
from ..domain.program import Program, ProgramBook
from ..domain.rules import Line, may_earn
from .stored_value import give_back_on_refunds, open_balances, spend_from_sales

OPENING = uuid.UUID("5a1d6c1e-0c3e-4f57-9a59-0be9e0f1a0c0")  # namespace of opening-balance causes (M-19)


def opening_cause(member_id: str) -> uuid.UUID:
    """The cause of a member's opening entry: one per member, whichever event brings it (L-02)."""
    return uuid.uuid5(OPENING, member_id)


def _why(o: OpeningBalance, d: Delivery[Any]) -> dict[str, Any]:
    """An opening entry's cause (L-02): the import, its row, who started it, and the event that brought it."""
    return {"reason": f"opening balance (M-19): import {o.import_id} row {o.row_no}", "import_id": o.import_id,
            "row_no": o.row_no, "operator": o.operator, "event_id": str(d.env.id)}


def tier_row(acct: Account, change: TierChange, cause: str, at: datetime) -> dict[str, Any]:
    """One row of the tier history: from, to, why (L-04, L-05) and the event that caused it."""
    return {"member_id": acct.member_id, "program": acct.program, "from_tier": change.from_tier,
            "to_tier": change.to_tier.code, "reason": change.reason, "cause_event_id": cause, "occurred_at": at}


def tier_event(acct: Account, program: Program, change: TierChange, cause: str, at: datetime) -> TierChanged:
    return TierChanged(member_id=acct.member_id, program=program.id, brand=program.brand,
                       from_tier=change.from_tier, to_tier=change.to_tier.code, to_tier_name=change.to_tier.name,
                       reason=change.reason, cause_event_id=cause, occurred_at=at)


def entry_row(acct: Account, e: Entry, store_id: str | None, receipt_no: str | None) -> dict[str, Any]:
    return {"member_id": acct.member_id, "program": acct.program, "kind": e.kind, "points": e.points,
            "spend": e.spend, "store_id": store_id, "receipt_no": receipt_no, "cause_event_id": uuid.UUID(e.cause),
            "occurred_at": e.occurred_at, "detail": {str(k): v for k, v in e.detail.items()}}


class AccountStore:
    """Small persistence of accounts and ledger entries, shared by consumers, HTTP commands and jobs."""

    def __init__(self, books: dict[str, ProgramBook], default_program: str) -> None:
        self.books = books
        self.default_program = default_program

    async def stores_of(self, conn: AsyncConnection, store_ids: set[str]) -> dict[str, tuple[str, str]]:
        rows = await conn.execute(sa.select(stores.c.store_id, stores.c.program, stores.c.timezone)
                                  .where(stores.c.store_id.in_(store_ids)))
        known = {r.store_id: (r.program if r.program in self.books else self.default_program, r.timezone)
                 for r in rows}
        return {s: known.get(s, (self.default_program, DEFAULT_TZ)) for s in store_ids}

    async def load(self, conn: AsyncConnection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Account]:
        if not keys:
            return {}
        rows = await conn.execute(
            sa.select(accounts).where(sa.tuple_(accounts.c.member_id, accounts.c.program).in_(keys))
            .with_for_update())
        found = {(r.member_id, r.program): state.load(r.member_id, r.program, r.tier, r.points_balance,
                                                      r.tier_spend, r.state) for r in rows}
        for member_id, program in keys - found.keys():
            found[(member_id, program)] = Account(member_id, program, self.books[program].current.entry_tier.code)
        return found

    async def save(self, conn: AsyncConnection, accts: list[Account], entries: list[dict[str, Any]],
                   tiers: list[dict[str, Any]] | None = None) -> None:
        if tiers:  # the tier history with reasons (L-04, L-05), read on the member page
            await conn.execute(pg_insert(tier_changes).on_conflict_do_nothing(), tiers)
        if entries:
            await conn.execute(pg_insert(ledger).on_conflict_do_nothing(), entries)
        if accts:
            stmt = pg_insert(accounts)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["member_id", "program"],
                set_={"tier": stmt.excluded.tier, "points_balance": stmt.excluded.points_balance,
                      "tier_spend": stmt.excluded.tier_spend, "state": stmt.excluded.state,
                      "updated_at": sa.func.now()}),
                [{"member_id": a.member_id, "program": a.program, "tier": a.tier, "points_balance": a.balance,
                  "tier_spend": a.tier_spend, "state": state.dump(a)} for a in accts])


class LoyaltyHandlers:
    """Batch handlers; each call runs inside the consumer's transaction (inbox + effect + outbox)."""

    def __init__(self, books: dict[str, ProgramBook], default_program: str) -> None:
        self.books = books
        self.store = AccountStore(books, default_program)

    async def on_store_registered(self, tx: Tx, batch: list[Delivery[StoreRegistered]]) -> None:
        rows = {d.data.store_id: {"store_id": d.data.store_id, "program": d.data.program,
                                  "timezone": d.data.timezone, "region_code": d.data.region_code}
                for d in batch if isinstance(d.data, StoreRegistered)}
        stmt = pg_insert(stores).values(list(rows.values()))
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=["store_id"],
            set_={"program": stmt.excluded.program, "timezone": stmt.excluded.timezone,
                  "region_code": stmt.excluded.region_code}))

    async def on_members(self, tx: Tx, batch: list[Delivery[MemberRegistered | MemberUpdated]]) -> None:
        """Keep each member's home store and birthday (birthday prices L-06, birthday events L-10)."""
        rows = {d.data.member_id: {"member_id": d.data.member_id, "store_id": d.data.store_id,
                                   "birthday": d.data.birthday}
                for d in batch if isinstance(d.data, MemberRegistered | MemberUpdated)}
        if rows:
            stmt = pg_insert(members).values(list(rows.values()))
            await tx.conn.execute(stmt.on_conflict_do_update(
                index_elements=["member_id"], set_={"store_id": stmt.excluded.store_id,
                                                    "birthday": stmt.excluded.birthday}))
        if any(isinstance(d.data, MemberRegistered) and d.data.opening is not None for d in batch):
            await self._open(tx, batch)

    async def _open(self, tx: Tx, deliveries: list[Delivery[MemberRegistered | MemberUpdated]]) -> None:
        """Opening balances of imported members (M-19): ONE `opening` ledger entry per member, ever (L-02), and ONE
        `opening` stored-value entry when the row brought prepaid money (L-11).

        The entries' cause is derived from the member id (`opening_cause`), not from the event: a redelivered event
        stops at the inbox, and the same member announced again under a new event id (a re-sent registration)
        finds its entry in the ledger and changes nothing. The import, row and operator are the entry's detail.
        A row that brought only stored value (no points column value, no tier) writes no points entry."""
        given = [(d, d.data.opening) for d in deliveries
                 if isinstance(d.data, MemberRegistered) and d.data.opening is not None]
        where = await self.store.stores_of(tx.conn, {d.data.store_id for d, _ in given})
        await open_balances(tx.conn, [{
            "member_id": d.data.member_id, "program": where[d.data.store_id][0], "amount": o.stored_value,
            "store_id": d.data.store_id, "staff_id": o.operator, "cause_id": opening_cause(d.data.member_id),
            "occurred_at": d.env.time, "detail": _why(o, d)} for d, o in given if o.stored_value])
        batch = [(d, o) for d, o in given if o.points or o.tier or not o.stored_value]
        if not batch:
            return
        causes = {d.data.member_id: opening_cause(d.data.member_id) for d, _ in batch}
        done = set((await tx.conn.execute(sa.select(ledger.c.cause_event_id).where(
            ledger.c.kind == "opening", ledger.c.cause_event_id.in_(list(causes.values()))))).scalars())
        todo: dict[str, tuple[Delivery[MemberRegistered | MemberUpdated], OpeningBalance]] = {}
        for d, o in batch:
            if causes[d.data.member_id] not in done:
                todo.setdefault(d.data.member_id, (d, o))  # the same member twice in one batch: the first one
        if not todo:
            return
        accts = await self.store.load(tx.conn, {(m, where[d.data.store_id][0]) for m, (d, _) in todo.items()})
        entries, tiers = [], []
        for member_id, (d, o) in todo.items():
            pid, at = where[d.data.store_id][0], d.env.time
            program = self.books[pid].at(at)
            acct = accts[(member_id, pid)]
            cause = str(causes[member_id])
            entry, change = acct.open(program, points=o.points, tier=o.tier, cause=cause, at=at,
                                      detail={**_why(o, d), "tier": o.tier})
            entries.append(entry_row(acct, entry, d.data.store_id, None))
            if change is not None:  # the tier history with its reason, and the event other services follow (L-05)
                self._emit(tx, acct, tier_event(acct, program, change, cause, at), d)
                tiers.append(tier_row(acct, change, cause, at))
        await self.store.save(tx.conn, list(accts.values()), entries, tiers)

    def _emit(self, tx: Tx, acct: Account, data: Any, d: Delivery[EventData]) -> None:
        tx.emit(LOYALTY_EVENTS, acct.member_id, Envelope.new(data, source="loyalty", subject=acct.member_id),
                cause=d)

    async def on_sales(self, tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
        """Earn points and check tiers for each eligible member sale (L-01, L-02, L-04, M-04, M-17)."""
        members_sales = [d for d in batch if isinstance(d.data, SaleRecorded) and d.data.member_id]
        if not members_sales:
            return
        where = await self.store.stores_of(tx.conn, {d.data.store_id for d in members_sales})
        await spend_from_sales(tx.conn, [(d, where[d.data.store_id][0]) for d in members_sales])  # L-11
        sales = [d for d in members_sales if may_earn(d.data.member_status, d.data.card_status)]
        if not sales:
            return
        accts = await self.store.load(tx.conn, {(str(d.data.member_id), where[d.data.store_id][0]) for d in sales})
        earned = await self._earned_before(tx.conn, sales, accts, where)
        entries, tiers = [], []
        for d in sales:
            sale: SaleRecorded = d.data
            pid, tz = where[sale.store_id]
            program = self.books[pid].at(sale.occurred_at)  # the version in force at the sale
            acct = accts[(str(sale.member_id), pid)]
            if (acct.member_id, f"{sale.store_id}/{sale.receipt_no}") in earned:
                continue  # earned once already (L-02), before the state was merged
            lines = [Line(ln.line_no, ln.paid, ln.special_price) for ln in sale.lines]
            entry, change = acct.earn(program, key=f"{sale.store_id}/{sale.receipt_no}", cause=str(d.env.id),
                                      at=sale.occurred_at, tz=tz, lines=lines)
            if entry is not None:
                entries.append(entry_row(acct, entry, sale.store_id, sale.receipt_no))
                for reward in program.redemption.catalogue:  # L-09: crossing a desk-claim threshold
                    if reward.desk_claim and acct.balance - entry.points < reward.points <= acct.balance:
                        self._emit(tx, acct, RewardReady(
                            member_id=acct.member_id, program=pid, brand=program.brand, reward_id=reward.id,
                            reward_name=reward.name, points_required=reward.points), d)
                if entry.points:
                    self._emit(tx, acct, PointsEarned(
                        member_id=acct.member_id, program=pid, brand=program.brand, points=entry.points,
                        balance_after=acct.balance, receipt_no=sale.receipt_no, store_id=sale.store_id,
                        cause_event_id=str(d.env.id), occurred_at=sale.occurred_at), d)
            if change is not None:
                self._emit(tx, acct, tier_event(acct, program, change, str(d.env.id), sale.occurred_at), d)
                tiers.append(tier_row(acct, change, str(d.env.id), sale.occurred_at))
        await self.store.save(tx.conn, list(accts.values()), entries, tiers)

    async def _merged_receipts(self, conn: AsyncConnection, refunds: list[Delivery[SaleRefunded]],
                               accts: dict[tuple[str, str], Account],
                               where: dict[str, tuple[str, str]]) -> dict[tuple[str, str], Lot]:
        """Lines of refunded receipts whose lots were merged or pruned, read back from the ledger in one query:
        what the earn entry gave per line, less what earlier refunds took (their ids too: a refund reverses once)."""
        missing = []
        for d in refunds:
            acct = accts[(str(d.data.member_id), where[d.data.store_id][0])]
            key = f"{d.data.store_id}/{d.data.original_receipt_no}"
            if not any(lt.key == key for lt in acct.lots):
                missing.append((acct.member_id, d.data.store_id, d.data.original_receipt_no))
        if not missing:
            return {}
        receipt = sa.func.coalesce(ledger.c.detail["receipt"].astext, ledger.c.store_id + "/" + ledger.c.receipt_no)
        rows = await conn.execute(sa.select(ledger.c.member_id, ledger.c.kind, ledger.c.occurred_at, receipt,
                                            ledger.c.detail).where(
            ledger.c.member_id.in_({m for m, _, _ in missing}), ledger.c.kind.in_(("earn", "reverse")),
            receipt.in_({f"{s}/{r}" for _, s, r in missing})).order_by(ledger.c.id))
        out: dict[tuple[str, str], Lot] = {}
        for member_id, kind, occurred_at, key, detail in rows:
            det = detail or {}
            if kind == "earn":
                out[(member_id, key)] = Lot(key, occurred_at, occurred_at, None, 0,
                                            {int(k): v for k, v in det.get("lines", {}).items()},
                                            {int(k): v for k, v in det.get("spend_lines", {}).items()})
            elif (lot := out.get((member_id, key))) is not None:
                for n, p in det.get("line_points", {}).items():
                    lot.line_points[int(n)] = lot.line_points.get(int(n), 0) - p
                for n, sp in det.get("line_spend", {}).items():
                    lot.line_spend[int(n)] = lot.line_spend.get(int(n), 0) - sp
                lot.refunds.append(str(det.get("refund_id")))
        return out

    async def _earned_before(self, conn: AsyncConnection, sales: list[Delivery[SaleRecorded]],
                             accts: dict[tuple[str, str], Account],
                             where: dict[str, tuple[str, str]]) -> set[tuple[str, str]]:
        """(member, store/receipt) of sales that earned already although the account state no longer lists them
        (merged or pruned): asked of the ledger only for such accounts and old receipts (L-02)."""
        ask = [(str(d.data.member_id), d.data.store_id, d.data.receipt_no) for d in sales
               if accts[(str(d.data.member_id), where[d.data.store_id][0])].may_have_forgotten(d.data.occurred_at)]
        if not ask:
            return set()
        rows = await conn.execute(sa.select(ledger.c.member_id, ledger.c.store_id, ledger.c.receipt_no).where(
            ledger.c.kind == "earn", sa.tuple_(ledger.c.member_id, ledger.c.store_id, ledger.c.receipt_no).in_(ask)))
        return {(m, f"{s}/{r}") for m, s, r in rows}

    async def on_refunds(self, tx: Tx, batch: list[Delivery[SaleRefunded]]) -> None:
        """Reverse the points and tier spend of refunded lines (L-03) under the program's return policy (L-13)."""
        refunds = [d for d in batch if isinstance(d.data, SaleRefunded) and d.data.member_id]
        if not refunds:
            return
        where = await self.store.stores_of(tx.conn, {d.data.store_id for d in refunds})
        await give_back_on_refunds(tx.conn, [(d, where[d.data.store_id][0]) for d in refunds])  # L-11
        accts = await self.store.load(tx.conn, {(str(d.data.member_id), where[d.data.store_id][0])
                                                for d in refunds})
        hints = await self._merged_receipts(tx.conn, refunds, accts, where)
        entries = []
        for d in refunds:
            r: SaleRefunded = d.data
            pid = where[r.store_id][0]
            acct = accts[(str(r.member_id), pid)]
            key = f"{r.store_id}/{r.original_receipt_no}"
            lot = next((lt for lt in acct.lots if lt.key == key), None) or hints.get((acct.member_id, key))
            program = self.books[pid].at(lot.earned_at if lot else r.occurred_at)  # the sale's version
            lines = [Line(ln.line_no, ln.paid, ln.special_price) for ln in r.lines]
            e = acct.reverse(program, key=key, refund_id=r.refund_id, cause=str(d.env.id), at=r.occurred_at,
                             lines=lines, hint=hints.get((acct.member_id, key)))
            if e is None:
                continue
            entries.append(entry_row(acct, e, r.store_id, r.receipt_no))
            self._emit(tx, acct, PointsReversed(
                member_id=acct.member_id, program=pid, points=-e.points, shortfall=e.detail["shortfall"],
                balance_after=acct.balance, receipt_no=r.original_receipt_no, cause_event_id=str(d.env.id),
                occurred_at=r.occurred_at), d)
        await self.store.save(tx.conn, list(accts.values()), entries)

    async def on_cards(self, tx: Tx, batch: list[Delivery[CardReplaced | CardExpired]]) -> None:
        """A replaced card (M-17) forfeits the points of programs that do not carry them to a new card; an expired
        card (L-08) zeroes the whole balance of programs whose points live as long as the card. Otherwise the
        points stay with the member (accounts are the member's, not the card's)."""
        cards = [d for d in batch if isinstance(d.data, CardReplaced | CardExpired)]
        if not cards:
            return
        keys = set((await tx.conn.execute(sa.select(accounts.c.member_id, accounts.c.program).where(
            accounts.c.member_id.in_({d.data.member_id for d in cards})))).tuples().all())
        accts = await self.store.load(tx.conn, {k for k in keys if k[1] in self.books})
        entries = []
        for d in cards:
            c, at = d.data, d.env.time
            for (mid, pid), acct in sorted(accts.items()):
                if mid != c.member_id:
                    continue
                program = self.books[pid].at(at)
                if isinstance(c, CardReplaced):
                    if program.carry_points_on_replacement:
                        continue
                    reason = (f"M-17: card {c.old_card_no} replaced by {c.new_card_no}; program {pid} does not "
                              "carry points to a renewed card")
                    detail = {"old_card_no": c.old_card_no, "new_card_no": c.new_card_no}
                else:
                    if program.expiry.policy != "card_validity":
                        continue
                    reason = f"L-08: card {c.card_no} reached the end of its validity; the whole balance expires"
                    detail = {"card_no": c.card_no}
                e = acct.forfeit(at=at, cause=str(uuid.uuid5(d.env.id, pid)), reason=reason, detail=detail)
                if e is None:
                    continue
                entries.append(entry_row(acct, e, None, None))
                self._emit(tx, acct, PointsExpired(member_id=mid, program=pid, points=-e.points,
                                                   balance_after=acct.balance, occurred_at=at, reason=reason), d)
        await self.store.save(tx.conn, list(accts.values()), entries)
