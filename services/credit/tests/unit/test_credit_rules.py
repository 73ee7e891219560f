"""Credit rules C-02…C-07 as pure functions (no I/O, dates given)."""

from __future__ import annotations

import io
from datetime import date

from credit.domain.aging import OpenItem, aging, to_csv, to_xlsx
from credit.domain.rules import (
    Exposure,
    Limits,
    OpenInvoice,
    aging_bucket,
    allocate,
    authorize,
    cheque_clears_on,
    credit_class,
    default_case_limit,
    due_date,
    liability,
    reminder_due,
)


def test_c02_organisations_get_10_cases_individuals_and_small_businesses_5() -> None:
    for cls in ("government", "soe", "enterprise_institution", "group_company"):
        assert default_case_limit(cls) == 10
    for cls in ("small_business", "individual"):
        assert default_case_limit(cls) == 5


def test_c03_organisations_settle_by_the_10th_of_the_next_month() -> None:
    assert due_date("government", date(2026, 3, 31)) == date(2026, 4, 10)
    assert due_date("group_company", date(2026, 12, 1)) == date(2027, 1, 10)  # year end
    assert due_date("enterprise_institution", date(2026, 1, 10)) == date(2026, 2, 10)


def test_c03_individuals_and_small_businesses_settle_within_20_days() -> None:
    assert due_date("individual", date(2026, 2, 15)) == date(2026, 3, 7)
    assert due_date("small_business", date(2026, 12, 20)) == date(2027, 1, 9)


def test_c04_authorisation_within_limits_is_granted() -> None:
    assert authorize(Limits(10, 100_000), Exposure(7, 60_000), 3, 40_000) is None


def test_c02_cases_past_the_limit_are_refused() -> None:
    r = authorize(Limits(10, 1_000_000), Exposure(8, 0), 3, 1)
    assert r is not None and (r.rule, r.field) == ("C-02", "cases")


def test_c02_amount_past_the_limit_is_refused() -> None:
    r = authorize(Limits(10, 100_000), Exposure(0, 99_999), 1, 2)
    assert r is not None and (r.rule, r.field) == ("C-02", "amount")


def test_c04_overdue_invoice_refuses_even_within_limits() -> None:
    r = authorize(Limits(10, 100_000, overdue=True), Exposure(0, 0), 1, 1)
    assert r is not None and r.rule == "C-04"


def test_c01_suspended_credit_is_refused() -> None:
    r = authorize(Limits(10, 100_000, suspended=True), Exposure(0, 0), 1, 1)
    assert r is not None and r.rule == "C-01"


def test_c05_allocation_pays_oldest_first() -> None:
    inv = [OpenInvoice("b", 500, date(2026, 2, 1)), OpenInvoice("a", 300, date(2026, 1, 1)),
           OpenInvoice("c", 900, date(2026, 3, 1))]
    assert allocate(600, inv) == {"a": 300, "b": 300}


def test_c05_allocation_to_a_named_invoice_first() -> None:
    inv = [OpenInvoice("a", 300, date(2026, 1, 1)), OpenInvoice("c", 900, date(2026, 3, 1))]
    assert allocate(1000, inv, named="c") == {"c": 900, "a": 100}


def test_c05_cheque_is_pending_for_3_days() -> None:
    assert cheque_clears_on(date(2026, 1, 30)) == date(2026, 2, 2)


def test_c07_aging_buckets() -> None:
    due = date(2026, 1, 10)
    cases = {date(2026, 1, 10): "current", date(2026, 1, 11): "d1_30", date(2026, 2, 9): "d1_30",
             date(2026, 2, 10): "d31_60", date(2026, 3, 11): "d31_60", date(2026, 3, 12): "d61_90",
             date(2026, 4, 10): "d61_90", date(2026, 4, 11): "over_90"}
    for as_of, bucket in cases.items():
        assert aging_bucket(due, as_of) == bucket, as_of


def test_c07_aging_report_per_dimension_sums_to_the_fen() -> None:
    items = [OpenItem("ORG-1", "S1", "XA-1", "029", date(2026, 1, 1), 101),
             OpenItem("ORG-1", "S2", "XA-1", "029", date(2025, 9, 1), 202),
             OpenItem("ORG-2", "S1", "SZ-1", "755", date(2026, 3, 1), 303)]
    as_of = date(2026, 2, 1)
    by_customer = aging(items, as_of, "customer")
    assert by_customer[0] == {"customer": "ORG-1", "current": 0, "d1_30": 0, "d31_60": 101, "d61_90": 0,
                              "over_90": 202, "total": 303}
    assert by_customer[1]["current"] == 303
    for by in ("staff", "store", "region"):
        assert sum(int(r["total"]) for r in aging(items, as_of, by)) == 606
    assert to_csv(aging(items, as_of, "region"), "region").splitlines()[0] == \
        "region,current,d1_30,d31_60,d61_90,over_90,total"
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(to_xlsx({"store": aging(items, as_of, "store")}, as_of)))
    assert [c.value for c in wb["store"][3]] == ["SZ-1", 303, 0, 0, 0, 0, 303]


def test_c06_writeoff_charges_staff_in_full_and_fines_line_leader_10_percent() -> None:
    assert liability(123_456) == (123_456, 12_346)
    assert liability(100) == (100, 10)


def test_c07_reminders_on_first_overdue_day_then_weekly() -> None:
    assert reminder_due(None, date(2026, 1, 11))
    assert not reminder_due(date(2026, 1, 11), date(2026, 1, 12))
    assert reminder_due(date(2026, 1, 11), date(2026, 1, 18))


def test_m14_member_file_classes_are_credit_classes() -> None:
    assert credit_class("state_owned") == "soe"  # the members service's name of the class
    assert credit_class("government") == "government" and credit_class("individual") == "individual"
    assert credit_class("key") is None and credit_class(None) is None  # an account size is not a class


def test_c07_each_invoice_is_aged_on_its_own_stores_date() -> None:
    due = date(2026, 3, 21)
    items = [OpenItem("C1", "S1", "XA-1", "029", due, 100, as_of=date(2026, 3, 22)),  # past midnight in Xi'an
             OpenItem("C2", "S1", "UR-1", "991", due, 200, as_of=date(2026, 3, 21))]  # not yet in Urumqi
    rows = {r["store"]: r for r in aging(items, date(2026, 3, 22), "store")}
    assert (rows["XA-1"]["d1_30"], rows["UR-1"]["current"], rows["UR-1"]["d1_30"]) == (100, 200, 0)
