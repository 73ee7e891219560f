"""Redeeming points at the till (L-07): the member named as for a sale and proven present (SMS code or PIN, judged
by members), the decision is loyalty's."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import NotFound, RuleViolation, Unavailable
from vipcore.httpclient import InternalClient, Reply, Unreachable

from ..domain.access import same_store
from ..entrypoints.schemas import RedemptionIn
from .directory import Directory
from .proofs import MemberProofs


class Redemptions:
    def __init__(self, engine: AsyncEngine, directory: Directory, loyalty: InternalClient,
                 proofs: MemberProofs) -> None:
        self.engine, self.directory, self.loyalty, self.proofs = engine, directory, loyalty, proofs

    async def send_code(self, store: str, card_no: str, store_id: str, cashier: str | None) -> dict[str, Any]:
        """Text a one-time spending code to the card holder's registered mobile (L-07, L-11)."""
        same_store(store, store_id)
        async with self.engine.connect() as conn:
            (found,) = await self.directory.resolve_full(conn, [{"card_no": card_no}], store)  # O-02, L-11
        if found is None:
            raise NotFound("card_no", "no member with this card", "M-18")
        member_id, _, card_status = found
        if card_status not in (None, "active"):
            raise RuleViolation("M-17", "card_no", f"a {card_status} card cannot spend")
        return {**await self.proofs.send_code(member_id, store_id, cashier), "member_id": member_id}

    async def redeem(self, store: str, body: RedemptionIn) -> tuple[str, Reply]:
        """(member_id, loyalty's answer): 2xx with the redemption, or loyalty's refusal naming its rule (L-07)."""
        same_store(store, body.store_id)
        async with self.engine.connect() as conn:
            (found,) = await self.directory.resolve_full(conn, [body.member.model_dump()], store)
        if found is None:
            raise NotFound("member", "no member with these details", "M-18")
        member_id, _, card_status = found
        if card_status not in (None, "active"):
            raise RuleViolation("M-17", "member.card_no", f"a {card_status} card cannot redeem")
        redemption_id = str(body.redemption_id or uuid.uuid4())
        spends = f"reward:{body.reward_id}" if body.reward_id is not None else f"points:{body.points_to_cash}"
        token = await self.proofs.prove(member_id=member_id, store_id=body.store_id, cashier=body.cashier_staff_id,
                                        purpose="redeem", ref=redemption_id, amount=spends, proof=body.proof,
                                        id_verified=body.id_verified)
        try:
            resp = await self.loyalty.post("/internal/redemptions", {
                "redemption_id": redemption_id, "store_id": body.store_id,
                "member_id": member_id, "reward_id": body.reward_id, "points_to_cash": body.points_to_cash,
                "id_verified": body.id_verified, "proof_token": token})
        except Unreachable:
            raise Unavailable("redemption_id", "loyalty is unavailable; try again with the same redemption_id",
                              "L-07") from None
        if resp.status >= 500 or not isinstance(resp.body, dict):
            raise Unavailable("redemption_id", "loyalty is unavailable; try again with the same redemption_id",
                              "L-07")
        return member_id, resp
