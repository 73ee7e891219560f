"""Stored-value persistence (L-11): top-ups, holds for POS payments, capture by the sale, refunds give back.

Lock order everywhere: hold rows first, then the member's stored_value row (FOR UPDATE). The row lock on the
balance is what keeps two terminals from spending the same money: each hold checks `balance - held` under it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.auth import Principal, Role
from vipcore.consumer import Delivery
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.errors import Forbidden, RuleViolation
from vipcore.scheduler import Ticker

from ..adapters.tables import stored_value, stored_value_holds, stored_value_ledger
from ..domain import stored_value as sv
from ..domain.program import ProgramBook

Key = tuple[str, str]  # (member_id, program)


async def _balances(conn: AsyncConnection, keys: set[Key]) -> dict[Key, list[int]]:
    """[balance, held] per member and program, rows locked; missing rows are created first, so a concurrent
    first top-up and spend serialise on the same row instead of overwriting each other."""
    await conn.execute(pg_insert(stored_value).on_conflict_do_nothing(),
                       [{"member_id": m, "program": p, "balance": 0, "held": 0} for m, p in sorted(keys)])
    rows = await conn.execute(sa.select(stored_value).where(
        sa.tuple_(stored_value.c.member_id, stored_value.c.program).in_(keys))
        .order_by(stored_value.c.member_id, stored_value.c.program).with_for_update())
    found = {(r.member_id, r.program): [r.balance, r.held] for r in rows}
    return {k: found.get(k, [0, 0]) for k in keys}


async def _save(conn: AsyncConnection, balances: dict[Key, list[int]], rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(pg_insert(stored_value_ledger).on_conflict_do_nothing(), rows)
    if not balances:
        return
    stmt = pg_insert(stored_value)
    await conn.execute(stmt.on_conflict_do_update(index_elements=["member_id", "program"],
                                                  set_={"balance": stmt.excluded.balance, "held": stmt.excluded.held}),
                       [{"member_id": m, "program": p, "balance": b, "held": h}
                        for (m, p), (b, h) in balances.items()])


def _paid_with(sale: SaleRecorded) -> int:
    return sum(p.amount for p in sale.payments if p.method == "stored_value")


async def spend_from_sales(conn: AsyncConnection, sales: list[tuple[Delivery[SaleRecorded], str]]) -> None:
    """Capture the hold of each member sale paid with `stored_value` (L-11), one query per step per batch.

    Only a receipt the gateway took a hold for moves value: the hold is where the member proved presence (an SMS
    code or PIN, L-11). A sale whose hold expired (or was released) spends what the balance covers beyond other
    terminals' holds; the rest is recorded as a shortfall, never as a negative balance. A sale paid with stored
    value that never had a hold for that member (an event not from the gateway's checkout) takes nothing: its
    whole amount is recorded as a shortfall.
    """
    paying = [(d, pid) for d, pid in sales if _paid_with(d.data)]
    if not paying:
        return
    receipts = {(d.data.store_id, d.data.receipt_no) for d, _ in paying}
    holds = {(h.store_id, h.receipt_no): h for h in await conn.execute(
        sa.select(stored_value_holds).where(
            sa.tuple_(stored_value_holds.c.store_id, stored_value_holds.c.receipt_no).in_(receipts))
        .order_by(stored_value_holds.c.store_id, stored_value_holds.c.receipt_no).with_for_update())}
    balances = await _balances(conn, {(str(d.data.member_id), pid) for d, pid in paying})
    rows, captured = [], []
    for d, pid in paying:
        sale: SaleRecorded = d.data
        k, r = (str(sale.member_id), pid), (sale.store_id, sale.receipt_no)
        hold = holds.get(r)
        if hold is not None and hold.status == "captured":
            continue  # this receipt's payment was taken already (L-02)
        proven = hold is not None and (hold.member_id, hold.program) == k  # L-11: the member was at the till
        if hold is not None and proven and hold.status == "held":
            balances[k][1] -= hold.amount  # the hold turns into the spend below
            captured.append(r)  # (a hold of someone else stays held until it expires)
        mv = sv.spend(balances[k][0] if proven else 0, _paid_with(sale), held=balances[k][1] if proven else 0)
        balances[k][0] += mv.amount
        rows.append({"member_id": k[0], "program": pid, "kind": "spend", "amount": mv.amount,
                     "shortfall": mv.shortfall, "store_id": sale.store_id, "receipt_no": sale.receipt_no,
                     "cause_id": d.env.id, "occurred_at": sale.occurred_at})
    if captured:
        await conn.execute(stored_value_holds.update().where(
            sa.tuple_(stored_value_holds.c.store_id, stored_value_holds.c.receipt_no).in_(captured))
            .values(status="captured", settled_at=sa.func.now()))
    await _save(conn, balances, rows)


async def give_back_on_refunds(conn: AsyncConnection, refunds: list[tuple[Delivery[SaleRefunded], str]]) -> None:
    """A refund returns stored value first, up to what its receipt paid with it and was not yet returned."""
    if not refunds:
        return
    keys = {(str(d.data.member_id), d.data.store_id, d.data.original_receipt_no) for d, _ in refunds}
    rows = await conn.execute(
        sa.select(stored_value_ledger.c.member_id, stored_value_ledger.c.store_id,
                  stored_value_ledger.c.receipt_no, stored_value_ledger.c.kind,
                  sa.func.sum(stored_value_ledger.c.amount))
        .where(stored_value_ledger.c.kind.in_(("spend", "refund")),
               sa.tuple_(stored_value_ledger.c.member_id, stored_value_ledger.c.store_id,
                         stored_value_ledger.c.receipt_no).in_(keys))
        .group_by(stored_value_ledger.c.member_id, stored_value_ledger.c.store_id,
                  stored_value_ledger.c.receipt_no, stored_value_ledger.c.kind))
    spent: dict[tuple[str, str, str], int] = {}
    back: dict[tuple[str, str, str], int] = {}
    for m, s, rno, kind, total in rows:
        (spent if kind == "spend" else back)[(m, s, rno)] = abs(int(total))
    due = [(d, pid) for d, pid in refunds
           if spent.get((str(d.data.member_id), d.data.store_id, d.data.original_receipt_no))]
    if not due:
        return
    balances = await _balances(conn, {(str(d.data.member_id), pid) for d, pid in due})
    out = []
    for d, pid in due:
        r: SaleRefunded = d.data
        rk = (str(r.member_id), r.store_id, r.original_receipt_no)
        mv = sv.refund_back(spent[rk], back.get(rk, 0), sum(ln.paid for ln in r.lines))
        if mv.amount:
            back[rk] = back.get(rk, 0) + mv.amount
            balances[(rk[0], pid)][0] += mv.amount
            out.append({"member_id": rk[0], "program": pid, "kind": "refund", "amount": mv.amount,
                        "store_id": r.store_id, "receipt_no": r.original_receipt_no, "cause_id": d.env.id,
                        "occurred_at": r.occurred_at})
    await _save(conn, balances, out)


async def open_balances(conn: AsyncConnection, openings: list[dict[str, Any]]) -> int:
    """Imported prepaid balances (M-19, L-11): ONE `opening` entry per member and program, ever; returns how many
    were written. Each item is a ledger row (member_id, program, amount, store_id, staff_id = the import's operator,
    cause_id, occurred_at, detail = reason, import, row, operator). The balance rows are locked first, then the
    entries already written are looked up under that lock, so a redelivered or re-sent registration adds nothing."""
    if not openings:
        return 0
    balances = await _balances(conn, {(o["member_id"], o["program"]) for o in openings})
    done = set((await conn.execute(sa.select(stored_value_ledger.c.cause_id).where(
        stored_value_ledger.c.kind == "opening",
        stored_value_ledger.c.cause_id.in_([o["cause_id"] for o in openings])))).scalars())
    rows = []
    for o in openings:
        if o["cause_id"] in done:
            continue
        done.add(o["cause_id"])
        mv = sv.opening(o["amount"])
        balances[(o["member_id"], o["program"])][0] += mv.amount
        rows.append({**o, "kind": mv.kind, "amount": mv.amount})
    await _save(conn, balances, rows)
    return len(rows)


def check_own_store(who: Principal, store_id: str) -> None:
    """O-02: store staff act for their own store only; HQ admins (and staff of no store) for any."""
    if who.store_id is not None and who.role != Role.HQ_ADMIN and who.store_id != store_id:
        raise Forbidden("O-02", "store_id", f"staff of store {who.store_id} cannot act for store {store_id}")


class StoredValueDesk:
    def __init__(self, engine: AsyncEngine, books: dict[str, ProgramBook], clock: Callable[[], datetime]) -> None:
        self.engine, self.books, self.clock = engine, books, clock

    async def top_up(self, *, topup_id: uuid.UUID, member_id: str, program: str, store_id: str, pay: int,
                     staff_id: str) -> dict[str, Any]:
        """Top up with the program's bonus (L-11); idempotent on `topup_id`."""
        now = self.clock()
        mv = sv.top_up(self.books[program].at(now), pay)
        async with self.engine.begin() as conn:
            done = await conn.scalar(sa.select(stored_value_ledger.c.amount).where(
                stored_value_ledger.c.cause_id == topup_id, stored_value_ledger.c.kind == "topup"))
            k = (member_id, program)
            balances = await _balances(conn, {k})
            if done is None:
                balances[k][0] += mv.amount
                await _save(conn, balances, [{
                    "member_id": member_id, "program": program, "kind": "topup", "amount": mv.amount,
                    "paid": mv.paid, "bonus": mv.bonus, "store_id": store_id, "staff_id": staff_id,
                    "cause_id": topup_id, "occurred_at": now}])
        return {"topup_id": str(topup_id), "paid": mv.paid, "bonus": mv.bonus, "credited": mv.amount,
                "balance_after": balances[k][0], "replayed": done is not None}

    async def balance(self, member_id: str, program: str) -> int:
        async with self.engine.connect() as conn:
            b = await conn.scalar(sa.select(stored_value.c.balance).where(
                stored_value.c.member_id == member_id, stored_value.c.program == program))
        return int(b or 0)

    async def hold(self, *, store_id: str, receipt_no: str, member_id: str, program: str,
                   amount: int) -> dict[str, Any]:
        """Hold `amount` for a sale the cashier is ringing up (L-11); refused when the free balance is short.

        Idempotent per (store, receipt): the same receipt again answers with its hold (a POS retry).
        """
        now = self.clock()
        async with self.engine.begin() as conn:
            prior = (await conn.execute(sa.select(stored_value_holds).where(
                stored_value_holds.c.store_id == store_id, stored_value_holds.c.receipt_no == receipt_no)
                .with_for_update())).first()
            if prior is not None and prior.status != "released":
                if (prior.member_id, prior.amount) != (member_id, amount):
                    raise RuleViolation("L-11", "amount", f"receipt {receipt_no} already holds "
                                                          f"{prior.amount} fen of another payment")
                return self._held(prior.amount, prior.expires_at, replayed=True)
            k = (member_id, program)
            balances = await _balances(conn, {k})
            sv.check_hold(balances[k][0], balances[k][1], amount)
            balances[k][1] += amount
            values = {"member_id": member_id, "program": program, "amount": amount, "status": "held",
                      "created_at": now, "expires_at": now + sv.HOLD_TTL, "settled_at": None}
            stmt = pg_insert(stored_value_holds).values(store_id=store_id, receipt_no=receipt_no, **values)
            await conn.execute(stmt.on_conflict_do_update(index_elements=["store_id", "receipt_no"], set_=values))
            await _save(conn, balances, [])
        return self._held(amount, now + sv.HOLD_TTL, replayed=False)

    @staticmethod
    def _held(amount: int, expires_at: datetime, replayed: bool) -> dict[str, Any]:
        return {"amount": amount, "status": "held", "expires_at": expires_at.isoformat(), "replayed": replayed}

    async def release(self, store_id: str, receipt_no: str) -> int:
        """Release a receipt's hold at once: the till refused the sale after the hold was taken (L-11; e.g. its
        group-buy coupons were refused)."""
        return await self._release(sa.and_(stored_value_holds.c.store_id == store_id,
                                           stored_value_holds.c.receipt_no == receipt_no))

    async def release_expired(self, now: datetime | None = None) -> int:
        """Release holds whose sale never arrived within `HOLD_TTL` (L-11); runnable for a given time."""
        return await self._release(stored_value_holds.c.expires_at <= (now or self.clock()))

    async def _release(self, where: Any) -> int:
        async with self.engine.begin() as conn:
            rows = (await conn.execute(sa.select(stored_value_holds).where(
                where, stored_value_holds.c.status == "held")
                .order_by(stored_value_holds.c.store_id, stored_value_holds.c.receipt_no).limit(1000)
                .with_for_update(skip_locked=True))).all()
            if not rows:
                return 0
            balances = await _balances(conn, {(h.member_id, h.program) for h in rows})
            for h in rows:
                balances[(h.member_id, h.program)][1] -= h.amount
            await conn.execute(stored_value_holds.update().where(
                sa.tuple_(stored_value_holds.c.store_id, stored_value_holds.c.receipt_no).in_(
                    [(h.store_id, h.receipt_no) for h in rows])).values(status="released", settled_at=self.clock()))
            await _save(conn, balances, [])
        return len(rows)


class HoldReleaser(Ticker):
    """Releases expired stored-value holds every tick (L-11)."""

    def __init__(self, desk: StoredValueDesk, every_s: float = 60.0) -> None:
        super().__init__(every_s, "stored-value holds")
        self.desk = desk

    async def tick(self) -> None:
        await self.desk.release_expired()
