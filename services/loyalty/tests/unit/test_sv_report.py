"""Stored-value money report (R-03, L-11): opening + top-ups + bonus - spend + refunds = closing, to the fen."""

from __future__ import annotations

from loyalty.domain.sv_report import Movement, movement, report, to_csv


def test_r03_l11_stored_value_period_reconciles_to_the_fen() -> None:
    m = movement(50000, [("topup", 110000, 100000, 10000), ("spend", -30001, 0, 0), ("refund", 1, 0, 0)])
    assert (m.opening, m.top_ups, m.bonus, m.spend, m.refunds, m.closing) == (50000, 100000, 10000, 30001, 1, 130000)
    assert m.reconciled
    assert not Movement(opening=1, closing=2).reconciled


def test_r03_l11_report_checks_the_ledger_against_the_balances_and_exports_csv() -> None:
    out = {"program": {"generic": 130000}, "store": {"HT-001": 130000}, "region": {"029": 130000}}
    m = movement(50000, [("topup", 110000, 100000, 10000), ("spend", -30000, 0, 0)])
    rep = report("2026-11-01", "2026-12-01", {"generic": m}, out, {"generic": 130000, "jewelry": 5})
    assert rep["programs"]["generic"]["reconciled"] is True and rep["programs"]["generic"]["closing"] == 130000
    assert rep["ledger_matches_balances"] == {"generic": True, "jewelry": False}
    lines = to_csv(rep).splitlines()
    assert lines[0] == "scope,key,opening,top_ups,bonus,imported,spend,refunds,closing,reconciled,outstanding"
    assert lines[1] == "program,generic,50000,100000,10000,0,30000,0,130000,True,130000"
    assert lines[2:] == ["store,HT-001,,,,,,,,,130000", "region,029,,,,,,,,,130000"]
