"""Issue 11, item 5 (C-09, N-06): a coupon buyer's phone is stored encrypted under credit's own key with a blind
index, shown masked; phones stored in clear by an older version are sealed (and indexed) by credit's
re-encryption pass, and still read meanwhile."""

from __future__ import annotations

from datetime import timedelta

from credit.pii import sealed
from devstack.testing import Stack, sql_value
from vipcore.auth import Role
from vipcore.db import make_engine
from vipcore.pii import Keyring, mobile_index
from vipcore.pii_upkeep import rotate

from .helpers import draw_coupons, staff
from .test_coupons_and_rebates import sale_body
from .test_receivables_payments_overdue import tally_day, today


async def test_c09_coupon_buyers_phones_encrypted_indexed_and_old_clear_ones_sealed(cstack: Stack) -> None:
    await cstack.add_store("XA-1", "generic", region_code="029")
    keys, index_key = Keyring.parse(cstack.cfg.pii_keys["credit"]), cstack.cfg.credit_index_key
    async with staff(cstack, Role.HQ_ADMIN) as fin, staff(cstack, Role.STAFF) as clerk, \
            staff(cstack, Role.STORE_MANAGER) as mgr:
        expires = (today(cstack) + timedelta(days=30)).isoformat()
        nos = await draw_coupons(cstack, fin, "P-", 20_000, 2, expires)
        a = (await clerk.post("/v1/coupon-sales", json=sale_body([nos[0]], "cash"))).json()
        b = (await clerk.post("/v1/coupon-sales", json={**sale_body([nos[1]], "cash"),
                                                         "phone": "029-88886666"})).json()
        stored = await sql_value(cstack.cfg, "credit", "SELECT phone_enc FROM coupon_sales WHERE coupon_sale_id=$1",
                                 a["coupon_sale_id"])
        assert stored.startswith("k1:") and "13987654321" not in stored and keys.decrypt(stored) == "13987654321"
        assert await sql_value(cstack.cfg, "credit", "SELECT phone_index FROM coupon_sales WHERE "
                               "coupon_sale_id=$1", a["coupon_sale_id"]) == mobile_index(index_key, "139 8765 4321")
        # what a version before encryption left: the phone in clear, no index
        await sql_value(cstack.cfg, "credit", "UPDATE coupon_sales SET phone_enc='029-88886666', phone_index=NULL "
                        "WHERE coupon_sale_id=$1 RETURNING 1", b["coupon_sale_id"])
        tally = (await mgr.get("/v1/reports/coupon-tally", params={"date": tally_day(cstack).isoformat()})).json()
        assert sorted(s["phone"] for s in tally["sales"]) == ["029****6666", "139****4321"]  # read, masked
        engine = make_engine(cstack.cfg.db_url("credit"), 2)
        try:
            done = await rotate(engine, keys, sealed(index_key))
        finally:
            await engine.dispose()
        assert done["coupon_sales.phone_enc"] == 1
        row = await sql_value(cstack.cfg, "credit", "SELECT phone_enc || ' ' || phone_index FROM coupon_sales "
                              "WHERE coupon_sale_id=$1", b["coupon_sale_id"])
        enc, idx = row.split(" ")
        assert enc.startswith("k1:") and keys.decrypt(enc) == "029-88886666"
        assert idx == mobile_index(index_key, "02988886666")
        tally = (await mgr.get("/v1/reports/coupon-tally", params={"date": tally_day(cstack).isoformat()})).json()
        assert sorted(s["phone"] for s in tally["sales"]) == ["029****6666", "139****4321"]
        assert all("phone_enc" not in s and "phone_index" not in s for s in tally["sales"])
