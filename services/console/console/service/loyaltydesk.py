"""The loyalty screens' calls (issue 12): the program viewer (loyalty's programs, every version), and desk claims
of threshold rewards (L-09): the list of the store's members who reached one (loyalty), the SMS code and the claim
itself through the gateway's staff routes, which prove the member present (L-07), record the logged-in staff member
as the one who checked the ID and let loyalty deduct the points. Every call carries the staff member's token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..adapters.upstream import Refusal, Upstream
from .desk import Session

READY_PAGE = 20  # members listed per page at the desk (paged at loyalty by member id)


@dataclass(frozen=True)
class DeskList:
    """One page of the store's members who reached a desk-claim reward, with the rewards of the store's program."""

    store_id: str
    program: str
    rewards: list[dict[str, Any]]
    members: list[dict[str, Any]]
    after: str | None  # the cursor this page was asked with
    next_after: str | None


async def programs(up: Upstream, s: Session) -> list[dict[str, Any]]:
    """Every program with its version in force (loyalty refuses roles other than HQ's)."""
    return list((await up.call("loyalty", "GET", "/v1/programs", s.token))["programs"])


async def program(up: Upstream, s: Session, program_id: str) -> dict[str, Any]:
    """Every version of one program, newest first: tiers, earn rules, catalogue, expiry (L-01, L-04, L-07, L-08)."""
    return dict(await up.call("loyalty", "GET", f"/v1/programs/{program_id}", s.token))


def own_store(s: Session) -> str:
    """Desk claims are made at the desk of the staff member's own store (O-02); the token names it."""
    if not s.who.store_id:
        raise Refusal("console", 403, "Forbidden", "desk claims are made at a store's desk",
                      [{"field": "store_id", "message": "a staff member of a store", "rule": "O-02"}])
    return s.who.store_id


async def ready(up: Upstream, s: Session, after: str | None, reward_id: str | None = None) -> DeskList:
    """L-09: members of this store who reached a desk-claim reward (or `reward_id`), to be told and to claim; paged
    at loyalty by member id."""
    store = own_store(s)
    ans = await up.call("loyalty", "GET", "/v1/desk/rewards", s.token,
                        params={"store_id": store, "after": after, "limit": READY_PAGE, "reward_id": reward_id})
    return DeskList(ans["store_id"], ans["program"], list(ans["rewards"]), list(ans["members"]), after,
                    ans.get("next_after"))


async def send_code(up: Upstream, s: Session, card_no: str) -> dict[str, Any]:
    """Text the card holder a one-time code for the claim (L-07); the gateway names this staff member."""
    return dict(await up.call("gateway", "POST", "/v1/desk/proof-codes", s.token, json={"card_no": card_no}))


async def claim(up: Upstream, s: Session, *, claim_id: uuid.UUID, card_no: str, reward_id: str, id_checked: bool,
                otp: str, pin: str) -> dict[str, Any]:
    """Hand out the reward (L-09): the gateway refuses without the ID check or the member's proof (L-07); loyalty
    deducts the points once per claim id (a double submit is a replay) and its ledger names this staff member."""
    proof = {"otp": otp} if otp else {"pin": pin} if pin else None
    if proof is None:
        raise Refusal("console", 422, "invalid form", errors=[
            {"field": "proof", "message": "the SMS code the member received, or their PIN", "rule": "L-07"}])
    return dict(await up.call("gateway", "POST", "/v1/desk/claims", s.token, json={
        "claim_id": str(claim_id), "card_no": card_no, "reward_id": reward_id, "id_checked": id_checked,
        "proof": proof}))
