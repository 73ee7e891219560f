"""M-01, M-02, M-03, M-14: validation of member files with the cases the chains meet."""

import pytest
from members.domain import validation as v


@pytest.mark.parametrize("name", ["王先生", "李女士", "张总", "X先生", "x先生", "欧阳先生", "刘小姐", "陈经理", "王"])
def test_m02_honorific_only_name_is_refused(name: str) -> None:
    assert v.name_problem(name) is not None


@pytest.mark.parametrize("name", ["王建国", "李娜", "欧阳娜娜", "张总成"])
def test_m02_real_full_name_is_accepted(name: str) -> None:
    assert v.name_problem(name) is None


@pytest.mark.parametrize("mobile", ["02988886666", "4008123123", "029-8888666", "1380013800", "138001380001",
                                    "12800138000", "95588", "1380013800a"])
def test_m02_landline_switchboard_and_wrong_length_mobiles_are_refused(mobile: str) -> None:
    assert v.mobile_problem(mobile) is not None


def test_m02_mainland_mobile_is_accepted() -> None:
    assert v.mobile_problem("13800138000") is None
    assert v.mobile_problem("19912345678") is None


@pytest.mark.parametrize("addr", ["西安市", "高新路", "西安市高新区", "陕西省西安市雁塔区", "西安市雁塔区高新路"])
def test_m02_bare_city_district_or_road_address_is_refused(addr: str) -> None:
    assert v.address_problem(addr) is not None


def test_m02_specific_address_is_accepted() -> None:
    assert v.address_problem("西安市雁塔区高新路25号3栋1201室") is None


@pytest.mark.parametrize("d", ["1990/03/08", "3月8日", "08-03-1990", "1990-02-30", "--13-01", "yesterday"])
def test_m02_dates_must_be_iso_from_the_picker(d: str) -> None:
    with pytest.raises(ValueError):
        v.parse_birth(d)


def test_m01_birth_year_is_optional_never_made_up() -> None:
    assert v.parse_birth("--02-29") == (None, 2, 29)
    assert v.parse_birth("1990-03-08") == (1990, 3, 8)


def test_m02_check_names_field_and_rule() -> None:
    errs = v.check(v.FileFields(full_name="王先生", mobile="02988886666", address="西安市", birth_date="3月8日",
                                customer_class="alien"))
    assert {(f, r) for f, _, r in errs} == {("full_name", "M-02"), ("mobile", "M-02"), ("address", "M-02"),
                                            ("birth_date", "M-02"), ("customer_class", "M-14")}


def test_m03_stages_basic_then_complete() -> None:
    f = v.FileFields(full_name="王建国", mobile="13800138000", gender="male")
    assert v.stage_of(f) == 0 and v.missing(f, v.STAGE1) == ["birth_date"]
    f.birth_date = "--03-08"
    assert v.stage_of(f) == 1
    f.address, f.work_unit, f.position = "西安市高新路25号", "西安某公司", "经理"
    f.customer_class, f.account_size = "enterprise_institution", "key"
    assert v.stage_of(f) == 2
