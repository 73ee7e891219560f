"""Test support for member-present proof (L-07, L-11): a PIN set at the desk, a code read from the SMS simulator."""

from __future__ import annotations

import re

import httpx
from devstack.testing import Stack, wait_for
from vipcore.auth import Principal, Role, TokenIssuer

PIN = "480213"


async def set_pin(stack: Stack, member_id: str, store_id: str, pin: str = PIN, staff_id: str = "S-DESK") -> None:
    """The member types a PIN at the desk of their store; a store's staff member saves it (members)."""
    token = TokenIssuer(stack.cfg.staff_keys[0]).issue(Principal(staff_id, store_id, None, Role.STAFF))
    async with httpx.AsyncClient(base_url=stack.url("members")) as c:
        r = await c.put(f"/v1/member-files/{member_id}/pin", json={"pin": pin},
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


async def sms_codes(stack: Stack, mobile: str) -> list[str]:
    """The one-time codes the SMS simulator received for `mobile`, oldest first."""
    async with httpx.AsyncClient(base_url=stack.url("smssim")) as c:
        msgs = (await c.get("/v1/messages", params={"to": mobile})).json()["messages"]
    return [m.group(1) for x in msgs if (m := re.search(r"(?:验证码为|code is )(\d{6})", x["body"]))]


async def new_code(stack: Stack, pos: httpx.AsyncClient, card_no: str, store_id: str, mobile: str,
                   cashier: str | None = "S-1") -> str:
    """Ask the gateway for a code for the card and read it from the simulator's log, as the member would."""
    before = len(await sms_codes(stack, mobile))
    r = await pos.post(f"/v1/members/{card_no}/proof-codes", json={"store_id": store_id, "cashier_staff_id": cashier})
    assert r.status_code == 201, r.text

    async def arrived() -> list[str] | None:
        codes = await sms_codes(stack, mobile)
        return codes if len(codes) > before else None

    return str((await wait_for(arrived, 30, "the code's SMS"))[-1])
