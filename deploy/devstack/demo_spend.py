"""Demo: members who can spend (L-07, L-11) and how a redemption proves the member present.

A few members per store get a purchase dated ten days back, past every program's pending window (L-14: 1 day,
7 for cosmetics), so their points are spendable now; members of the PIN stores get a PIN set at the desk. The
result is written to `.run/demo.json` as `redemption_proof`, for trying a redemption from outside."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from .testing import StackConfig, wait_for

CST = timezone(timedelta(hours=8))
PER_STORE = 3
DEMO_PIN = "480213"
PROOFS = {"jewelry": ["sms_code", "pin"], "generic": ["pin"], "cosmetics": ["sms_code"]}  # programs/*.yaml


async def prepare_spending(cfg: StackConfig, keys: dict[str, str], members: list[dict[str, Any]],
                           stores: list[dict[str, Any]], run: str) -> dict[str, Any]:
    from vipcore.auth import Principal, Role, TokenIssuer

    gw, chosen = cfg.url("gateway"), []
    when = (datetime.now(CST) - timedelta(days=10)).replace(hour=15, minute=0, second=0, microsecond=0)
    async with httpx.AsyncClient(timeout=60) as c:
        for s in stores:
            mine = [m for m in members if m["store_id"] == s["store_id"]][:PER_STORE]
            for n, m in enumerate(mine):
                r = await c.post(f"{gw}/v1/sales", headers={"Authorization": f"Bearer {keys[s['store_id']]}"}, json={
                    "store_id": s["store_id"], "terminal_id": "T1", "receipt_no": f"SPEND-{run}-{s['store_id']}-{n}",
                    "occurred_at": when.isoformat(), "member": {"card_no": m["card_no"]},
                    "lines": [{"line_no": 1, "sku": "GIFT-1", "qty": 1, "unit_price": 300000, "paid": 300000}],
                    "payments": [{"method": "cash", "amount": 300000}]})
                r.raise_for_status()
                entry = {"card_no": m["card_no"], "store_id": s["store_id"], "member_id": m["member_id"],
                         "program": s["program"], "proof": PROOFS.get(s["program"], ["sms_code"])}
                if "pin" in entry["proof"]:  # set at the desk by the member's store
                    desk = TokenIssuer(cfg.staff_keys[0]).issue(
                        Principal(f"S-{s['store_id']}-1", s["store_id"], s["region_code"], Role.STAFF))
                    (await c.put(f"{cfg.url('members')}/v1/member-files/{m['member_id']}/pin", json={"pin": DEMO_PIN},
                                 headers={"Authorization": f"Bearer {desk}"})).raise_for_status()
                    entry["pin"] = DEMO_PIN
                if "sms_code" in entry["proof"]:
                    entry["mobile"] = m["mobile"]
                chosen.append(entry)

        async def spendable() -> bool:
            for e in chosen:
                lk = (await c.get(f"{gw}/v1/members/lookup", params={"card_no": e["card_no"]},
                                  headers={"Authorization": f"Bearer {keys[e['store_id']]}"})).json()
                e["points_available"] = lk.get("points_available") or 0
            return all(e["points_available"] >= 1000 for e in chosen)

        await wait_for(spendable, 60, "the demo's spendable points", interval=0.5)
    return {
        "method": "per program: " + ", ".join(f"{p} = {' or '.join(m)}" for p, m in PROOFS.items()),
        "how": ("POST {gateway}/v1/redemptions with the store's API key and "
                "{store_id, member: {card_no}, points_to_cash: 1000, cashier_staff_id, proof: {pin} or {otp}}. "
                "pin: the member's `pin` below. otp: first POST {gateway}/v1/members/{card_no}/proof-codes "
                "{store_id}, then read the 6-digit code from the SMS simulator: GET {smssim}/v1/messages?to=<mobile> "
                "(the latest body); a code is valid 5 minutes and proves one spend; 5 wrong answers lock for 15 "
                "minutes. The same proof field pays a sale with stored_value (L-11)."),
        "sms_log": f"{cfg.url('smssim')}/v1/messages",
        "members": chosen,
    }
