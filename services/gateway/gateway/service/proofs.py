"""Member-present proof for spending (L-07, L-11), asked of members: the gateway names the member and the spend,
members judges the SMS code or PIN (counting and auditing every attempt) and answers a short-lived proof token that
loyalty requires before it moves points or stored value. The code or PIN itself is never stored here."""

from __future__ import annotations

from typing import Any

from vipcore.errors import Forbidden, NotFound, Refused, RuleViolation, Unavailable
from vipcore.httpclient import InternalClient, Reply, Unreachable
from vipcore.proof import RULE

from ..entrypoints.schemas import ProofIn


def _refusal(resp: Reply, rule: str, field: str) -> Refused:
    """Members' refusal as the gateway's own, keeping its status, rule, field and message."""
    err = ((resp.body.get("errors") if isinstance(resp.body, dict) else None) or [{}])[0]
    r, f, msg = err.get("rule") or rule, err.get("field") or field, err.get("message") or "refused"
    if resp.status == 403:
        return Forbidden(r, f, msg)
    if resp.status == 404:
        return NotFound(f, msg, r)
    if resp.status == 422:
        return RuleViolation(r, f, msg)
    return Unavailable(field, f"the member's proof could not be checked ({resp.status}); try again shortly", rule)


class MemberProofs:
    def __init__(self, members: InternalClient) -> None:
        self.members = members

    async def send_code(self, member_id: str, store_id: str, cashier: str | None) -> dict[str, Any]:
        """Ask members to text a one-time code to the member's registered mobile."""
        resp = await self._call(f"/internal/members/{member_id}/proof-codes",
                                {"store_id": store_id, "cashier_staff_id": cashier}, "L-07")
        if resp.status != 201:
            raise _refusal(resp, "L-07", "proof")
        return dict(resp.body)

    async def prove(self, *, member_id: str, store_id: str, cashier: str | None, purpose: str, ref: str,
                    amount: str, proof: ProofIn | None, id_verified: bool = False) -> str:
        """The proof token for this spend, or the refusal naming the rule and `proof` (422/403)."""
        rule = RULE[purpose]
        if proof is None:
            raise RuleViolation(rule, "proof", "spending needs the member present: send proof.otp (the SMS code "
                                               "from POST /v1/members/{card_no}/proof-codes) or proof.pin, as the "
                                               "store's program says")
        resp = await self._call(f"/internal/members/{member_id}/proofs:verify", {
            "store_id": store_id, "cashier_staff_id": cashier, "purpose": purpose, "ref": ref, "amount": amount,
            "proof": proof.model_dump(exclude_none=True), "id_verified": id_verified}, rule)
        if resp.status != 200 or not isinstance(resp.body, dict) or "proof_token" not in resp.body:
            raise _refusal(resp, rule, "proof")
        return str(resp.body["proof_token"])

    async def _call(self, path: str, body: dict[str, Any], rule: str) -> Reply:
        try:
            return await self.members.post(path, body)
        except Unreachable:
            raise Unavailable("proof", "the member's proof cannot be checked now; try again shortly", rule) from None
