"""Redemption windows and the same-day rule are judged by the store's calendar and the injected clock (L-07, L-14):
the POS request carries no time, so the service's clock decides, read in the store's time zone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from devstack.testing import Stack, produce, sql_value, wait_for
from loyalty.domain.program import load_books
from loyalty.service.commands import Commands, RedeemCommand
from loyalty.service.handlers import AccountStore
from vipcore.contracts.pos import SaleRecorded
from vipcore.db import make_engine
from vipcore.errors import RuleViolation
from vipcore.events import Envelope
from vipcore.proof import ProofIssuer, ProofVerifier, SpendProof


async def test_l07_l14_outdoor_windows_and_same_day_use_the_store_calendar_and_the_injected_clock(
        stack: Stack) -> None:
    r = await stack.admin.post(f"{stack.url('members')}/v1/stores", json={
        "store_id": "OD-LA", "name": "Outdoor LA", "region_code": "755", "timezone": "America/Los_Angeles",
        "program": "outdoor"})
    r.raise_for_status()
    mid = f"M-od-{uuid.uuid4().hex[:8]}"
    sold_at = datetime(2026, 7, 20, 18, 0, tzinfo=UTC)  # 11:00 on 20 July in Los Angeles
    data = SaleRecorded(sale_id=str(uuid.uuid4()), store_id="OD-LA", terminal_id="T1", receipt_no="OD1",
                        occurred_at=sold_at, member_id=mid, member_status="active", card_status="active",
                        lines=[{"line_no": 1, "sku": "S", "qty": 1, "unit_price": 100000, "paid": 100000}],
                        payments=[{"method": "cash", "amount": 100000}])
    env = Envelope.new(data, source="gateway", subject=mid)
    await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM stores WHERE "
                                                              "timezone='America/Los_Angeles'"), 1), 30, "the store")
    await produce(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "pos.sales",
                  [(mid.encode(), env.body(), env.kafka_headers())])
    await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", "SELECT points_balance FROM accounts "
                                                              "WHERE member_id=$1", mid), 1000), 30, "points")

    settings = stack.cfg.settings("loyalty")
    books = load_books(settings.programs_dir)
    engine = make_engine(stack.cfg.db_url("loyalty"), pool_size=1)
    now = [datetime(2026, 8, 1, 3, 0, tzinfo=UTC)]  # 1 August in UTC and Shanghai, 31 July 20:00 in Los Angeles
    commands = Commands(engine, AccountStore(books, "generic"), stack.cfg.topic_prefix, lambda: now[0], lambda: None,
                        ProofVerifier(stack.cfg.staff_keys[1]))
    issuer = ProofIssuer(stack.cfg.staff_keys[0])

    def redeem(reward: str = "r500") -> RedeemCommand:  # with members' proof of the member's presence (L-07)
        rid = uuid.uuid4()
        token = issuer.issue(SpendProof(mid, "redeem", "OD-LA", str(rid), f"reward:{reward}", "pin"))
        return RedeemCommand(rid, "OD-LA", mid, reward, None, False, token)

    try:
        with pytest.raises(RuleViolation) as e:
            await commands.redeem(redeem())
        assert e.value.rule == "L-07" and e.value.field == "occurred_at"  # still July at the store
        now[0] = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)  # 01:00 on 1 August in Los Angeles
        out = await commands.redeem(redeem())
        assert out["points_spent"] == 500 and out["balance_after"] == 500

        # points earned at 23:30 store time on 1 August (already 2 August in UTC) are pending until the store's
        # next day starts, 07:00 UTC on 2 August
        late = datetime(2026, 8, 2, 6, 30, tzinfo=UTC)
        data2 = data.model_copy(update={"receipt_no": "OD2", "sale_id": str(uuid.uuid4()), "occurred_at": late})
        env2 = Envelope.new(data2, source="gateway", subject=mid)
        await produce(stack.cfg.kafka_bootstrap, stack.cfg.topic_prefix + "pos.sales",
                      [(mid.encode(), env2.body(), env2.kafka_headers())])
        await wait_for(lambda: _eq(sql_value(stack.cfg, "loyalty", "SELECT points_balance FROM accounts "
                                                                  "WHERE member_id=$1", mid), 1500), 30, "points")
        now[0] = datetime(2026, 8, 2, 6, 50, tzinfo=UTC)  # 23:50 on 1 August at the store
        with pytest.raises(RuleViolation) as e:
            await commands.redeem(redeem("r1000"))
        assert e.value.rule == "L-14"
        now[0] = datetime(2026, 8, 2, 7, 0, tzinfo=UTC)  # 00:00 on 2 August at the store
        out = await commands.redeem(redeem("r1000"))
        assert out["balance_after"] == 500
    finally:
        await engine.dispose()


async def _eq(value: object, want: int) -> bool:
    return bool(await value == want)  # type: ignore[misc]
