"""Cards and points on the real stack: a replaced card carries the points or not by program setting (M-17), an
expired card zeroes the balance of programs whose points live as long as the card (L-08)."""

from __future__ import annotations

import httpx
from devstack.testing import Stack, produce, sql_value, wait_for
from vipcore.auth import Principal, Role, TokenIssuer
from vipcore.contracts.members import CardExpired
from vipcore.events import Envelope

from tests.e2e.test_sale_fanout import sale

POINTS = "SELECT coalesce(sum(points), 0) FROM ledger WHERE member_id=$1"
EXPIRES = "SELECT string_agg(detail->>'reason', ' | ') FROM ledger WHERE member_id=$1 AND kind='expire'"


async def test_m17_l08_replaced_and_expired_cards_forfeit_points_only_where_the_program_says(stack: Stack) -> None:
    keys = {s: await stack.add_store(s, p) for s, p in (("CS-001", "cosmetics"), ("JW-001", "jewelry"))}
    cos, jew = [(await stack.add_members([{"store_id": s, "full_name": n, "mobile": mob}]))[0]
                for s, n, mob in (("CS-001", "许静怡", "13612340001"), ("JW-001", "唐振华", "13612340002"))]
    for store, m in (("CS-001", cos), ("JW-001", jew)):
        await stack.wait_directory(keys[store], m["card_no"])
        async with httpx.AsyncClient(base_url=stack.url("gateway"),
                                     headers={"Authorization": f"Bearer {keys[store]}"}) as pos:
            assert (await pos.post("/v1/sales", json=sale(store, "R1", m["card_no"], 30000))).status_code == 201
    for m in (cos, jew):
        await wait_for(lambda m=m: _eq(sql_value(stack.cfg, "loyalty", POINTS, m["member_id"]), 300), 30, "points")

    issuer = TokenIssuer(stack.cfg.staff_keys[0])
    new_cards = {}
    for store, m in (("CS-001", cos), ("JW-001", jew)):
        token = issuer.issue(Principal("CSM-1", store, "755", Role.STORE_CS_MANAGER))
        async with httpx.AsyncClient(base_url=stack.url("members"),
                                     headers={"Authorization": f"Bearer {token}"}) as c:
            r = await c.post(f"/v1/member-files/{m['member_id']}/card:report-lost")
            assert r.status_code == 200, r.text
            new_cards[store] = r.json()["card_no"]

    # cosmetics forbids carrying points to a renewed card: the balance is expired, citing M-17 and both cards
    await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", POINTS, cos["member_id"]), 0), 30, "M-17 forfeit")
    why = await sql_value(stack.cfg, "loyalty", EXPIRES, cos["member_id"])
    assert why.startswith("M-17") and cos["card_no"] in why and new_cards["CS-001"] in why
    # the new cosmetics card earns again; when it expires, the whole balance goes (card-validity program, L-08);
    # the jewelry card's expiry leaves its points to their own dates (per-entry program)
    await stack.wait_directory(keys["CS-001"], new_cards["CS-001"])
    async with httpx.AsyncClient(base_url=stack.url("gateway"),
                                 headers={"Authorization": f"Bearer {keys['CS-001']}"}) as pos:
        r = await pos.post("/v1/sales", json=sale("CS-001", "R2", new_cards["CS-001"], 20000))
        assert r.status_code == 201
    await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", POINTS, cos["member_id"]), 200), 30, "new points")
    envs = [Envelope.new(CardExpired(member_id=m["member_id"], card_no=new_cards[store]), source="members",
                         subject=m["member_id"]) for m, store in ((jew, "JW-001"), (cos, "CS-001"))]
    await produce(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "members.events",
                  [(e.subject.encode(), e.body(), e.kafka_headers()) for e in envs if e.subject])
    await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", POINTS, cos["member_id"]), 0), 30, "L-08 zeroing")
    assert "L-08" in await sql_value(stack.cfg, "loyalty", EXPIRES, cos["member_id"])

    # jewelry carries points to the new card and keeps them past the card's expiry (its points expire per
    # entry). Events of one member share a partition, so once the expiry is handled, the replacement was too.
    handled = "SELECT count(*) FROM inbox WHERE event_id=$1"
    await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", handled, envs[0].id), 1), 30, "jewelry card events")
    assert await sql_value(stack.cfg, "loyalty", POINTS, jew["member_id"]) == 300
    assert await sql_value(stack.cfg, "loyalty", EXPIRES, jew["member_id"]) is None


async def _eq(value: object, want: int) -> bool:
    return bool(await value == want)  # type: ignore[misc]
