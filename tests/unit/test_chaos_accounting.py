"""The chaos run's account (devstack/chaos/accounting.py) reports what it is fed: a lost sale, a doubled one, a
sale nobody was told of, a wrong tier, a missing or doubled SMS, a coupon spent twice, a stray dead letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devstack.chaos import accounting as acc

T0 = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def test_every_expected_key_once_is_clean() -> None:
    c = acc.count_ledger([("S", "1"), ("S", "2")], [("S", "2"), ("S", "1")])
    assert (c.expected, c.lost, c.duplicated, c.unexpected, c.ok) == (2, 0, 0, 0, True)


def test_a_lost_and_a_doubled_entry_are_reported() -> None:
    c = acc.count_ledger([("S", "1"), ("S", "2"), ("S", "3")], [("S", "1"), ("S", "1"), ("S", "1"), ("S", "3")])
    assert (c.lost, c.duplicated, c.unexpected, c.ok) == (1, 2, 0, False)
    assert "lost ('S', '2')" in c.examples


def test_an_entry_nobody_expected_is_reported_unless_its_answer_was_lost() -> None:
    assert acc.count_ledger([("S", "1")], [("S", "1"), ("S", "9")]).unexpected == 1
    # the POS got no answer for S/9: the gateway may have stored it (once), never twice
    assert acc.count_ledger([("S", "1")], [("S", "1"), ("S", "9")], allowed=[("S", "9")]).ok
    assert acc.count_ledger([("S", "1")], [("S", "1"), ("S", "9"), ("S", "9")], allowed=[("S", "9")]).duplicated == 1


JEWELRY = [acc.TierRule("normal"), acc.TierRule("vip", single_receipt_min=68000, rolling_spend_min=100000,
                                                 rolling_months=12)]
GENERIC = [acc.TierRule("normal"), acc.TierRule("silver", 500000, 500000, 12),
           acc.TierRule("gold", 1000000, 1000000, 12)]
PROGRAMS = {"jewelry": JEWELRY, "generic": GENERIC}


def row(i: int, member: str, kind: str, spend: int, receipt: str, program: str = "jewelry",
        minutes: int = 0) -> acc.LedgerRow:
    return acc.LedgerRow(i, member, program, kind, spend, ("S", receipt), T0 + timedelta(minutes=minutes))


def test_tiers_are_recomputed_from_single_receipts_and_the_rolling_window() -> None:
    rows = [row(1, "a", "earn", 70000, "1"),  # one receipt reaches VIP
            row(2, "b", "earn", 60000, "2"), row(3, "b", "earn", 50000, "3", minutes=1),  # the window does
            row(4, "c", "earn", 60000, "4"), row(5, "c", "reverse", -60000, "4", minutes=1),
            row(6, "c", "earn", 50000, "5", minutes=2),  # refunded first: 50,000 in the window, stays normal
            row(7, "d", "earn", 600000, "6", "generic"), row(8, "d", "earn", 500000, "7", "generic", 1)]
    r = acc.recompute_tiers(rows, PROGRAMS)
    assert {k[0]: (v.tier, v.upgrades) for k, v in r.items()} == {
        "a": ("vip", 1), "b": ("vip", 1), "c": ("normal", 0), "d": ("gold", 2)}
    stored = {("a", "jewelry"): "vip", ("b", "jewelry"): "vip", ("c", "jewelry"): "normal", ("d", "generic"): "gold",
              ("e", "jewelry"): "normal"}
    assert acc.tier_mismatches(r, stored, {"jewelry": "normal", "generic": "normal"}) == []
    # an earn applied twice would have lifted c; a tier nobody's ledger explains is reported
    wrong = {**stored, ("c", "jewelry"): "vip", ("e", "jewelry"): "vip"}
    assert len(acc.tier_mismatches(r, wrong, {"jewelry": "normal", "generic": "normal"})) == 2


def test_a_doubled_earn_changes_the_recomputed_tier() -> None:
    once = acc.recompute_tiers([row(1, "b", "earn", 60000, "2")], PROGRAMS)
    twice = acc.recompute_tiers([row(1, "b", "earn", 60000, "2"), row(2, "b", "earn", 60000, "2")], PROGRAMS)
    assert once[("b", "jewelry")].tier == "normal" and twice[("b", "jewelry")].tier == "vip"


def test_sms_lost_doubled_and_pending_are_reported() -> None:
    msgs = [("m1", "tier_changed", "a", "sent"), ("m2", "card_issued", "a", "delivered"),
            ("m3", "card_issued", "b", "queued")]
    clean = acc.count_sms(msgs, ["m1", "m2"], {("a", "tier_changed"): 1})
    assert (clean.lost, clean.duplicated, clean.pending) == (0, 0, 1)
    lost = acc.count_sms(msgs, ["m1"], {("a", "tier_changed"): 1})  # m2 sent, the simulator never got it
    assert lost.lost == 1
    stray = acc.count_sms(msgs, ["m1", "m2", "zz"], {("a", "tier_changed"): 1})  # sent under a key of no message
    assert stray.duplicated == 1
    twice = acc.count_sms([*msgs, ("m4", "tier_changed", "a", "sent")], ["m1", "m2", "m4"],
                          {("a", "tier_changed"): 1})  # two messages for one upgrade
    assert twice.duplicated == 1
    missing = acc.count_sms(msgs, ["m1", "m2"], {("a", "tier_changed"): 2})  # two upgrades, one message
    assert missing.lost == 1


def test_coupons_spent_once_for_their_sale() -> None:
    spent = {"C1": ("S", "1"), "C2": ("S", "2")}
    assert acc.count_coupons(spent, [("C1", "redeemed", "S", "1"), ("C2", "redeemed", "S", "2")]).ok
    c = acc.count_coupons(spent, [("C1", "redeemed", "S", "9"), ("C2", "sold", None, None),
                                  ("C3", "redeemed", "S", "3")])
    assert (c.lost, c.duplicated, c.unexpected) == (1, 1, 1)


def test_receivables_gap_and_dead_letters() -> None:
    sales = {("S", "1"): 500, ("S", "2"): 700}
    assert acc.receivables_gap(sales, [("S", "1", 500), ("S", "2", 700)]) == 0
    assert acc.receivables_gap(sales, [("S", "1", 500)]) == 700
    assert acc.receivables_gap(sales, [("S", "1", 500), ("S", "1", 500), ("S", "2", 700)]) == -500
    d = acc.count_dlq([("pos.sales.dlq", b"chaos-poison-0"), ("pos.sales.dlq", b"M-1"), ("x.dlq", None)],
                      {b"chaos-poison-0"})
    assert (d.poison, d.unexpected) == (1, 2)
