"""POST /v1/sales:batch on the running gateway and credit (POS API: offline catch-up): 207 with a status per
receipt; a malformed or refused receipt fails alone and spends nothing (C-09), the others are recorded."""

from __future__ import annotations

from devstack.testing import Stack, sql_value

from tests.credit.conftest import cstack  # noqa: F401 - the credit stack (members, gateway, credit) as a fixture
from tests.credit.helpers import pos
from tests.credit.test_coupon_release import coupons_in_hand
from tests.credit.test_pos_coupons import coupon_row, coupon_sale


async def test_c09_batch_one_bad_receipt_fails_alone_and_spends_none_of_its_coupons(
        cstack: Stack) -> None:  # noqa: F811
    key = await cstack.add_store("XA-1", "generic", region_code="029")
    nos = await coupons_in_hand(cstack, "BT-", 5)
    malformed = coupon_sale("R-B2", [nos[1]], 10_000)
    malformed["lines"][0]["qty"] = 0
    beyond_bigint = coupon_sale("R-B3", [nos[2]], 10_000)
    beyond_bigint["lines"][0]["unit_price"] = 2**64
    nul = coupon_sale("R-B4\x00", [nos[3]], 10_000)
    async with pos(cstack, key) as till:
        r = await till.post("/v1/sales:batch", json={"sales": [
            coupon_sale("R-B1", [nos[0]], 10_000),   # recorded, its coupon spent
            malformed,                                # 422, its coupon untouched
            beyond_bigint,                            # 422, its coupon untouched
            nul,                                      # 422, its coupon untouched
            coupon_sale("R-B5", [nos[0]], 10_000),   # 422 C-09: spent by R-B1 a moment ago
            coupon_sale("R-B6", [nos[4]], 10_000),   # recorded
        ]})
    assert r.status_code == 207, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == [201, 422, 422, 422, 422, 201], res
    assert [x["receipt_no"] for x in res] == ["R-B1", "R-B2", "R-B3", None, "R-B5", "R-B6"]
    assert res[1]["errors"][0]["field"] == "lines.0.qty"
    assert res[2]["errors"][0]["field"] == "lines.0.unit_price"
    assert res[4]["errors"][0]["rule"] == "C-09"
    for no in nos[1:4]:
        assert (await coupon_row(cstack, no)).startswith("(sold,"), no  # never spent
    for no in (nos[0], nos[4]):
        assert not (await coupon_row(cstack, no)).startswith("(sold,"), no
    recorded = await sql_value(cstack.cfg, "gateway", "SELECT string_agg(receipt_no, ',' ORDER BY receipt_no) "
                                                      "FROM sales")
    assert recorded == "R-B1,R-B6"
