"""HTTP commands on accounts: redemption (L-07, L-09), adjustments with a second approver (L-02, M-18).

Each runs in one transaction: account locked, ledger entry, balance, outbox row; then the relay is woken.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.contracts.loyalty import PointsRedeemed
from vipcore.errors import NotFound, RuleViolation
from vipcore.events import Envelope, EventData
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.proof import ProofVerifier
from vipcore.topics import LOYALTY_EVENTS

from ..adapters.stores import DEFAULT_TZ
from ..adapters.tables import adjustments, ledger
from .handlers import AccountStore, entry_row

PRIVATE = ("reward_name", "operator")  # kept in the ledger entry's detail, not in the redemption's answer


def spend_of(reward_id: str | None, points_to_cash: int | None) -> str:
    """What a redemption spends, as members' proof names it (vipcore.proof)."""
    return f"reward:{reward_id}" if reward_id is not None else f"points:{points_to_cash}"


@dataclass(frozen=True)
class RedeemCommand:
    redemption_id: uuid.UUID
    store_id: str
    member_id: str
    reward_id: str | None
    points_to_cash: int | None
    id_verified: bool
    proof_token: str | None = None


class Commands:
    def __init__(self, engine: AsyncEngine, store: AccountStore, topic_prefix: str,
                 clock: Callable[[], datetime], wake: Callable[[], None],
                 proofs: ProofVerifier | None = None) -> None:
        self.engine, self.store, self.prefix, self.clock, self.wake = engine, store, topic_prefix, clock, wake
        self.proofs = proofs or ProofVerifier(None)

    def _out(self, member_id: str, data: EventData) -> OutgoingEvent:
        return OutgoingEvent(self.prefix + LOYALTY_EVENTS.name, member_id,
                             Envelope.new(data, source="loyalty", subject=member_id))

    async def redeem(self, c: RedeemCommand) -> dict[str, Any]:
        """Spend points for a reward or as money (L-07); final: there is no cancel. Idempotent on its id.

        Only with members' proof that the member is present, bound to this very redemption (member, store, id,
        reward or points); a threshold reward (L-09) also needs the proof to name the cashier who checked the ID."""
        proof = self.proofs.verify(c.proof_token, member_id=c.member_id, purpose="redeem", store_id=c.store_id,
                                   ref=str(c.redemption_id), amount=spend_of(c.reward_id, c.points_to_cash))
        now = self.clock()
        async with self.engine.begin() as conn:
            done = (await conn.execute(sa.select(ledger.c.points, ledger.c.detail).where(
                ledger.c.cause_event_id == c.redemption_id, ledger.c.kind == "redeem"))).first()
            if done is not None:
                return {"redemption_id": str(c.redemption_id), "points_spent": -done.points,
                        **{k: v for k, v in (done.detail or {}).items() if k not in PRIVATE}, "replayed": True}
            pid, tz = (await self.store.stores_of(conn, {c.store_id}))[c.store_id]
            program = self.store.books[pid].at(now)
            detail: dict[str, Any] = {}
            if c.reward_id is not None:
                reward = program.reward(c.reward_id)
                if reward is None:
                    raise RuleViolation("L-07", "reward_id", f"{c.reward_id} is not in the {pid} catalogue")
                if reward.desk_claim and not proof.id_checked_by:
                    raise RuleViolation("L-09", "id_verified", "a threshold reward is claimed with ID at the desk "
                                                               "(id_verified with the cashier_staff_id who checked)")
                points, detail = reward.points, {"reward_id": reward.id, "reward_name": reward.name}
                if proof.id_checked_by:  # L-09: the ledger names who checked the ID and handed the reward out
                    detail["operator"] = proof.id_checked_by
            else:
                rate = program.redemption.points_per_yuan_cash
                if rate is None:
                    raise RuleViolation("L-07", "points_to_cash", f"program {pid} does not convert points to money")
                points = int(c.points_to_cash or 0)
                if points % rate:
                    raise RuleViolation("L-07", "points_to_cash", f"convert in multiples of {rate} points (1 yuan)")
                detail = {"cash_value": points * 100 // rate}
            acct = (await self.store.load(conn, {(c.member_id, pid)}))[(c.member_id, pid)]
            e = acct.redeem(program, points=points, cause=str(c.redemption_id), at=now, tz=tz or DEFAULT_TZ,
                            detail=detail)
            await self.store.save(conn, [acct], [entry_row(acct, e, c.store_id, None)])
            await add_to_outbox(conn, [self._out(c.member_id, PointsRedeemed(
                member_id=c.member_id, program=pid, redemption_id=str(c.redemption_id), points=points,
                balance_after=acct.balance, reward_id=detail.get("reward_id"), cash_value=detail.get("cash_value"),
                store_id=c.store_id, occurred_at=now))])
        self.wake()
        return {"redemption_id": str(c.redemption_id), "points_spent": points, "balance_after": acct.balance,
                **{k: v for k, v in detail.items() if k not in PRIVATE}}

    async def request_adjustment(self, *, member_id: str, program: str, points: int, reason: str,
                                 receipt_no: str | None, requested_by: str) -> uuid.UUID:
        """A manual adjustment or back-filled receipt waits for a second person (L-02, M-18)."""
        if points == 0:
            raise RuleViolation("L-02", "points", "an adjustment adds or takes points; 0 changes nothing")
        if program not in self.store.books:
            raise RuleViolation("L-02", "program", f"unknown program {program}")
        adj_id = uuid.uuid4()
        async with self.engine.begin() as conn:
            await conn.execute(adjustments.insert().values(
                id=adj_id, member_id=member_id, program=program, points=points, reason=reason,
                receipt_no=receipt_no, requested_by=requested_by, status="requested"))
        return adj_id

    async def list_adjustments(self, *, status: str, requested_by: str | None, limit: int) -> list[dict[str, Any]]:
        """Adjustments in one state, oldest first, for the second person to find (L-02, M-18)."""
        q = sa.select(adjustments).where(adjustments.c.status == status).order_by(adjustments.c.requested_at)
        if requested_by is not None:
            q = q.where(adjustments.c.requested_by == requested_by)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q.limit(limit))).mappings().all()
        return [{"adjustment_id": str(r["id"]), "member_id": r["member_id"], "program": r["program"],
                 "points": r["points"], "reason": r["reason"], "receipt_no": r["receipt_no"],
                 "requested_by": r["requested_by"], "requested_at": r["requested_at"].isoformat(),
                 "status": r["status"], "decided_by": r["decided_by"],
                 "decided_at": r["decided_at"].isoformat() if r["decided_at"] else None} for r in rows]

    async def decide_adjustment(self, adj_id: uuid.UUID, *, approve: bool, decided_by: str) -> dict[str, Any]:
        """Approve (applies the entry) or reject; never by the person who asked (L-02, M-18)."""
        now = self.clock()
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(adjustments).where(adjustments.c.id == adj_id)
                                      .with_for_update())).first()
            if row is None:
                raise NotFound("adjustment_id", "no such adjustment", rule="exists")
            if row.status != "requested":
                raise RuleViolation("L-02", "adjustment_id", f"already {row.status}")
            if row.requested_by == decided_by:
                raise RuleViolation("L-02", "decided_by", "a second person must approve an adjustment")
            balance = None
            if approve:
                acct = (await self.store.load(conn, {(row.member_id, row.program)}))[(row.member_id, row.program)]
                reason = f"{row.reason} (requested by {row.requested_by}, approved by {decided_by})"
                e = acct.adjust(points=row.points, cause=str(adj_id), at=now, reason=reason)
                await self.store.save(conn, [acct], [entry_row(acct, e, None, row.receipt_no)])
                balance = acct.balance
            await conn.execute(adjustments.update().where(adjustments.c.id == adj_id).values(
                status="approved" if approve else "rejected", decided_by=decided_by, decided_at=now))
        return {"adjustment_id": str(adj_id), "status": "approved" if approve else "rejected",
                "balance_after": balance}
