"""Opening balances in an import (M-19): the optional opening_points / opening_tier columns, each bad value refusing
its row with the field and the rule; the event that carries the opening to loyalty stays additive (still v2)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from members.domain import importing
from members.service.validity import read_program_tiers
from pydantic import ValidationError
from vipcore.contracts.members import OPENING_POINTS_MAX, OPENING_STORED_VALUE_MAX, MemberRegistered, OpeningBalance
from vipcore.events import Envelope, decode

PROGRAMS = Path(__file__).resolve().parents[4] / "programs"
ROW = {"full_name": "王建国", "mobile": "13912345678"}


def fields(header: list[str], row: list[object]) -> dict[str, str]:
    return importing.row_fields(importing.header_map(header), row)  # type: ignore[arg-type]


def test_m19_opening_columns_are_read_under_their_chinese_and_english_headers() -> None:
    f = fields(["姓名", "手机", "期初积分", "期初等级"], ["王建国", "13912345678", "1,200", "vip"])
    assert (f["opening_points"], f["opening_tier"]) == ("1,200", "vip")
    f = fields(["name", "mobile", "opening_points", "opening_tier"], ["王建国", "13912345678", 1200.0, "vip"])
    assert f["opening_points"] == "1200"  # an Excel number cell (a float) reads as the whole number it is
    assert importing.validate(f) == []


@pytest.mark.parametrize("cell", ["0", "1200", "1,200", str(OPENING_POINTS_MAX)])
def test_m19_a_whole_number_of_points_up_to_the_maximum_is_an_opening_balance(cell: str) -> None:
    assert importing.validate({**ROW, "opening_points": cell}) == []
    assert importing.opening_points(cell) == int(cell.replace(",", ""))


@pytest.mark.parametrize("cell", ["-5", "12.5", "1200.01", "一千", "1e6", str(OPENING_POINTS_MAX + 1),
                                  "99999999999999999999", "１２００", "+100"])
def test_m19_a_bad_opening_balance_refuses_the_row_naming_the_field_and_rule(cell: str) -> None:
    reasons = importing.validate({**ROW, "opening_points": cell})
    assert reasons == [f"opening_points: must be a whole number of points from 0 to {OPENING_POINTS_MAX} (M-19)"]
    assert importing.opening_points(cell) is None


def test_l04_an_opening_tier_must_be_a_tier_of_the_stores_program() -> None:
    tiers = read_program_tiers(PROGRAMS)
    assert tiers["jewelry"] == ["normal", "vip"] and tiers["generic"][:3] == ["normal", "silver", "gold"]
    assert importing.opening_tier_reason("vip", "jewelry", tiers["jewelry"]) is None
    assert importing.opening_tier_reason(None, "jewelry", tiers["jewelry"]) is None
    bad = importing.opening_tier_reason("gold", "jewelry", tiers["jewelry"])
    assert bad == "opening_tier: 'gold' is not a tier of program jewelry (normal, vip) (L-04)"
    unknown = importing.opening_tier_reason("vip", "nowhere", None)
    assert unknown is not None and unknown.startswith("opening_tier:") and unknown.endswith("(L-04)")


def registered(opening: OpeningBalance | None) -> MemberRegistered:
    return MemberRegistered(member_id="M1", store_id="XA-1", display_name="王*国", name_index="n", mobile_index="m",
                            mobile_enc="e1:x", card_no="02900001", opening=opening)


def test_m19_the_opening_travels_on_member_registered_v2_and_is_absent_when_there_is_none() -> None:
    plain = Envelope.new(registered(None), source="members", subject="M1")
    assert "opening" not in orjson.loads(plain.body())  # every other registration reads exactly as before
    assert plain.dataschema == "urn:vip:members.member.registered:v2"
    o = OpeningBalance(points=1200, tier="vip", import_id="I1", row_no=3, operator="S1")
    env = Envelope.new(registered(o), source="members", subject="M1")
    back = decode(env.kafka_headers(), env.body())
    assert isinstance(back.data, MemberRegistered) and back.data.opening == o
    old = decode(plain.kafka_headers(), plain.body())  # an event written before the field existed still reads
    assert isinstance(old.data, MemberRegistered) and old.data.opening is None
    with pytest.raises(ValidationError):
        OpeningBalance(points=-1, import_id="I1", row_no=2)
    with pytest.raises(ValidationError):
        OpeningBalance(points=OPENING_POINTS_MAX + 1, import_id="I1", row_no=2)


SV_RULE = "opening_stored_value: must be an amount in yuan from 0 to 1000000.00 with at most 2 decimals (M-19, L-11)"


def test_m19_the_opening_stored_value_column_is_read_under_its_chinese_and_english_headers() -> None:
    f = fields(["姓名", "手机", "期初储值"], ["王建国", "13912345678", "1,234.50"])
    assert f["opening_stored_value"] == "1,234.50" and importing.validate(f) == []
    f = fields(["name", "mobile", "opening_stored_value"], ["王建国", "13912345678", 800.0])
    assert f["opening_stored_value"] == "800"  # an Excel number cell
    f = fields(["name", "mobile", "储值余额"], ["王建国", "13912345678", 99.9])
    assert importing.opening_stored_value(f["opening_stored_value"]) == 9990


@pytest.mark.parametrize(("cell", "fen"), [("0", 0), ("0.01", 1), ("12.5", 1250), ("1,234.56", 123456),
                                           ("800", 80000), ("1000000", OPENING_STORED_VALUE_MAX),
                                           ("1,000,000.00", OPENING_STORED_VALUE_MAX)])
def test_m19_l11_an_opening_stored_value_is_yuan_with_two_decimals_read_exactly_as_fen(cell: str, fen: int) -> None:
    assert importing.opening_stored_value(cell) == fen
    assert importing.validate({**ROW, "opening_stored_value": cell}) == []


@pytest.mark.parametrize("cell", ["-5", "12.345", "1000000.01", "2000000", "一百", "1e3", "¥100", "１００", "+1",
                                  ".5", "12.", "12.3.4", "99999999999999999999"])
def test_m19_a_bad_opening_stored_value_refuses_the_row_naming_the_field_and_rule(cell: str) -> None:
    assert importing.validate({**ROW, "opening_stored_value": cell}) == [SV_RULE]
    assert importing.opening_stored_value(cell) is None


def test_l11_the_opening_stored_value_travels_in_fen_and_is_left_out_when_there_is_none() -> None:
    o = OpeningBalance(points=0, import_id="I1", row_no=3, operator="S1", stored_value=123456)
    env = Envelope.new(registered(o), source="members", subject="M1")
    assert orjson.loads(env.body())["opening"]["stored_value"] == 123456
    back = decode(env.kafka_headers(), env.body())
    assert isinstance(back.data, MemberRegistered) and back.data.opening == o
    points_only = Envelope.new(registered(OpeningBalance(points=5, import_id="I1", row_no=2)), source="members",
                               subject="M1")
    assert "stored_value" not in orjson.loads(points_only.body())["opening"]  # reads as before the field
    with pytest.raises(ValidationError):
        OpeningBalance(points=0, import_id="I1", row_no=2, stored_value=OPENING_STORED_VALUE_MAX + 1)
    with pytest.raises(ValidationError):
        OpeningBalance(points=0, import_id="I1", row_no=2, stored_value=-1)
