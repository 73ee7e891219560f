"""What happens when a sale, a refund or a store arrives: load, apply the rules, write ledger + outbox."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.loyalty import TierChanged
from vipcore.contracts.members import StoreRegistered
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.events import Envelope
from vipcore.topics import LOYALTY_EVENTS

from ..adapters.tables import accounts, ledger, stores
from ..domain.program import Program
from ..domain.rules import Line, eligible_paid, points_for, upgrade_on_receipt


@dataclass
class Account:
    member_id: str
    program: str
    tier: str
    points_balance: int
    tier_spend: int


class LoyaltyHandlers:
    """Batch handlers; each call runs inside the consumer's transaction (inbox + effect + outbox)."""

    def __init__(self, programs: dict[str, Program], default_program: str) -> None:
        self.programs = programs
        self.default_program = default_program

    async def on_store_registered(self, tx: Tx, batch: list[Delivery]) -> None:
        rows = [{"store_id": d.data.store_id, "program": d.data.program, "timezone": d.data.timezone}
                for d in batch if isinstance(d.data, StoreRegistered)]
        stmt = pg_insert(stores).values(rows)
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=["store_id"],
            set_={"program": stmt.excluded.program, "timezone": stmt.excluded.timezone}))

    async def _programs_of(self, tx: Tx, store_ids: set[str]) -> dict[str, str]:
        rows = await tx.conn.execute(sa.select(stores.c.store_id, stores.c.program)
                                     .where(stores.c.store_id.in_(store_ids)))
        known = {r.store_id: r.program for r in rows}
        return {s: known.get(s, self.default_program) for s in store_ids}

    async def _load_accounts(self, tx: Tx, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Account]:
        if not keys:
            return {}
        rows = await tx.conn.execute(
            sa.select(accounts).where(sa.tuple_(accounts.c.member_id, accounts.c.program).in_(keys))
            .with_for_update())
        found = {(r.member_id, r.program): Account(r.member_id, r.program, r.tier, r.points_balance,
                                                   r.tier_spend) for r in rows}
        for member_id, program in keys - found.keys():
            found[(member_id, program)] = Account(
                member_id, program, self.programs[program].entry_tier.code, 0, 0)
        return found

    async def _save(self, tx: Tx, accts: dict[tuple[str, str], Account], entries: list[dict]) -> None:
        if entries:
            await tx.conn.execute(pg_insert(ledger).on_conflict_do_nothing(), entries)
        if accts:
            stmt = pg_insert(accounts)
            await tx.conn.execute(stmt.on_conflict_do_update(
                index_elements=["member_id", "program"],
                set_={"tier": stmt.excluded.tier, "points_balance": stmt.excluded.points_balance,
                      "tier_spend": stmt.excluded.tier_spend, "updated_at": sa.func.now()}),
                [a.__dict__ for a in accts.values()])

    async def on_sales(self, tx: Tx, batch: list[Delivery]) -> None:
        """Earn points and check tiers for each member sale (L-01, L-02, L-04)."""
        sales = [d for d in batch if isinstance(d.data, SaleRecorded) and d.data.member_id]
        if not sales:
            return
        progs = await self._programs_of(tx, {d.data.store_id for d in sales})
        accts = await self._load_accounts(tx, {(str(d.data.member_id), progs[d.data.store_id]) for d in sales})
        entries = []
        for d in sales:
            sale: SaleRecorded = d.data
            program = self.programs[progs[sale.store_id]]
            acct = accts[(str(sale.member_id), program.id)]
            lines = [Line(ln.line_no, ln.paid, ln.special_price) for ln in sale.lines]
            points, spend = points_for(program, lines), eligible_paid(lines)
            acct.points_balance += points
            acct.tier_spend += spend
            entries.append({"member_id": acct.member_id, "program": program.id, "kind": "earn",
                            "points": points, "spend": spend, "store_id": sale.store_id,
                            "receipt_no": sale.receipt_no, "cause_event_id": d.env.id,
                            "occurred_at": sale.occurred_at})
            new_tier = upgrade_on_receipt(program, acct.tier, spend)
            if new_tier is not None:
                event = TierChanged(
                    member_id=acct.member_id, program=program.id, brand=program.brand,
                    from_tier=acct.tier,
                    to_tier=new_tier.code, to_tier_name=new_tier.name, cause_event_id=str(d.env.id),
                    occurred_at=sale.occurred_at,
                    reason=f"L-04: one receipt of {spend / 100:.2f} yuan reaches {new_tier.name}")
                acct.tier = new_tier.code
                tx.emit(LOYALTY_EVENTS, acct.member_id,
                        Envelope.new(event, source="loyalty", subject=acct.member_id), cause=d)
        await self._save(tx, accts, entries)

    async def on_refunds(self, tx: Tx, batch: list[Delivery]) -> None:
        """Reverse the points and tier spend of refunded lines (L-03), never below zero (L-13 default)."""
        refunds = [d for d in batch if isinstance(d.data, SaleRefunded) and d.data.member_id]
        if not refunds:
            return
        progs = await self._programs_of(tx, {d.data.store_id for d in refunds})
        accts = await self._load_accounts(tx, {(str(d.data.member_id), progs[d.data.store_id]) for d in refunds})
        entries = []
        for d in refunds:
            r: SaleRefunded = d.data
            program = self.programs[progs[r.store_id]]
            acct = accts[(str(r.member_id), program.id)]
            lines = [Line(ln.line_no, ln.paid, ln.special_price) for ln in r.lines]
            points = min(points_for(program, lines), acct.points_balance)
            spend = min(eligible_paid(lines), acct.tier_spend)
            acct.points_balance -= points
            acct.tier_spend -= spend
            entries.append({"member_id": acct.member_id, "program": program.id, "kind": "reverse",
                            "points": -points, "spend": -spend, "store_id": r.store_id,
                            "receipt_no": r.receipt_no, "cause_event_id": d.env.id,
                            "occurred_at": r.occurred_at})
        await self._save(tx, accts, entries)
