"""Issue 10 in credit: every request model, path and query parameter is built from vipcore.inputs, every route
declares what it answers, and no hostile value gets past the edge to PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from credit.entrypoints import coupons_http, desk_http, http
from credit.entrypoints import schemas as s
from credit.service.context import Credit
from fastapi import FastAPI
from pydantic import ValidationError
from vipcore.auth import TokenVerifier, new_keypair

NUL, SURROGATE = "R-\x00", "R-\ud800"


def refused(model: type[Any], body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as e:
        model.model_validate(body)
    assert field in {str(err["loc"][0]) for err in e.value.errors()}, e.value


def test_c09_redemption_refuses_nul_lone_surrogates_and_amounts_beyond_bigint() -> None:
    ok = {"store_id": "XA-1", "receipt_no": "R-1", "coupon_nos": ["GB-000001"], "amount": 100}
    assert s.RedemptionIn.model_validate(ok).amount == 100
    for field, bad in (("receipt_no", NUL), ("receipt_no", SURROGATE), ("receipt_no", ""), ("store_id", NUL),
                       ("coupon_nos", [NUL]), ("coupon_nos", [SURROGATE]), ("coupon_nos", []),
                       ("amount", 2**70), ("amount", -1), ("amount", "100"), ("extra", 1)):
        refused(s.RedemptionIn, {**ok, field: bad}, field)


def test_c04_authorization_amounts_and_cases_are_strict_bounded_integers() -> None:
    ok = {"store_id": "XA-1", "customer_id": "ORG-1", "cases": 1, "amount": 100, "responsible_staff_id": "S-1"}
    s.AuthorizationIn.model_validate(ok)
    for field, bad in (("cases", 0), ("cases", 2**31), ("amount", 0), ("amount", 2**64), ("amount", 1.5),
                       ("customer_id", NUL), ("responsible_staff_id", SURROGATE)):
        refused(s.AuthorizationIn, {**ok, field: bad}, field)


def test_dates_months_times_and_zones_stay_in_range() -> None:
    for bad in ("0001-01-01", "9999-12-31"):
        refused(s.ExtensionIn, {"new_due_date": bad, "reason": "asked"}, "new_due_date")
        refused(s.RebateRunIn, {"start": bad, "end": "2026-10-31"}, "start")
    for bad in ("0000-01", "9999-12", "2026-13", "2026-1"):
        refused(s.CloseIn, {"month": bad}, "month")
    assert s.CloseIn.model_validate({"month": "2026-10"}).month == "2026-10"
    for bad in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-11-22T12:30:00"):
        refused(s.ReleaseIn, {"as_of": bad}, "as_of")
    for bad in ("Mars/Olympus", NUL, "", "../etc/passwd"):
        refused(s.DailyRunIn, {"date": "2026-11-30", "timezone": bad}, "timezone")
    assert s.DailyRunIn.model_validate({"date": "2026-11-30", "timezone": "Asia/Urumqi"}).timezone == "Asia/Urumqi"


def test_contact_mobile_is_normalised_m02_and_text_has_no_control_characters() -> None:
    ok = {"name": "西安市高新区管委会", "store_id": "XA-1", "responsible_staff_id": "S-1", "limit_amount": 100}
    assert s.AccountIn.model_validate({**ok, "contact_mobile": "+86 139-1234-5678"}).contact_mobile == "13912345678"
    refused(s.AccountIn, {**ok, "contact_mobile": "12345"}, "contact_mobile")
    refused(s.AccountIn, {**ok, "name": "A\x00B"}, "name")
    refused(s.SuspendIn, {"reason": "x" * 501}, "reason")
    refused(s.CouponSaleIn, {"store_id": "XA-1", "unit": "Unit", "contact": "Li", "phone": "１３９１２３４５６７８",
                             "payment_method": "cash", "coupon_nos": ["A"]}, "phone")


def test_every_route_declares_its_answer_a_docstring_and_problem_responses() -> None:
    pub, _ = new_keypair()
    c = Credit(engine=None)  # type: ignore[arg-type]

    async def guard() -> None:
        return None

    app = FastAPI()
    for r in (http.staff_router(c, TokenVerifier(pub)), coupons_http.coupons_router(c, TokenVerifier(pub)),
              http.internal_router(c, guard), coupons_http.redemption_router(c, guard),
              desk_http.desk_router(c, TokenVerifier(pub))):
        app.include_router(r)
    ops = [(path, op) for path, item in app.openapi()["paths"].items() for op in item.values()]
    assert len(ops) == 46
    for path, op in ops:
        ok = op["responses"].get("201") or op["responses"]["200"]
        assert ok["content"]["application/json"]["schema"].get("$ref"), path
        assert op.get("description") and "\n" not in op["description"], path  # one-line docstring
        assert {"401", "404", "422", "500"} <= set(op["responses"]), path
        for p in op.get("parameters", []):
            assert p["schema"].get("maxLength") or p["schema"].get("enum") or p["schema"].get("maximum") \
                or p["schema"].get("format") == "date" or p["schema"].get("pattern") \
                or p["schema"].get("type") == "boolean" \
                or any(x.get("maxLength") or x.get("format") == "date" or x.get("maximum") or x.get("enum")
                       or x.get("type") == "boolean"
                       for x in p["schema"].get("anyOf", [])), (path, p)
    aging = dict(ops)["/v1/reports/aging"]["responses"]["200"]["content"]
    assert {"text/csv", http.XLSX} <= set(aging)
