"""The chaos run's account, from each service's own tables and the SMS simulator's log — never from the services'
own counters. Pure functions over rows, so they can be fed a known loss or duplicate (tests/unit)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LedgerCount:
    """One ledger against what must be in it: `lost` expected and absent, `duplicated` extra copies of an expected
    key, `unexpected` present but never expected (a sale nobody was told of, booked anyway)."""

    expected: int
    lost: int
    duplicated: int
    unexpected: int
    examples: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unexpected == 0


def count_ledger(expected: Iterable[Hashable], seen: Iterable[Hashable],
                 allowed: Iterable[Hashable] = ()) -> LedgerCount:
    """Each expected key exactly once in `seen`. `allowed`: keys that may be present once without being expected
    (a sale whose answer never reached the POS: the gateway may have stored it, and then it must flow on as any
    other — it is expected by the downstream ledgers, not by the POS)."""
    want = set(expected)
    may = set(allowed) - want
    counts = Counter(seen)
    lost = [k for k in want if counts[k] == 0]
    dup = sum(n - 1 for k, n in counts.items() if n > 1 and (k in want or k in may))
    unexpected = [k for k in counts if k not in want and k not in may]
    examples = tuple(f"lost {k}" for k in lost[:3]) + tuple(f"unexpected {k}" for k in unexpected[:3]) + tuple(
        f"{n}x {k}" for k, n in counts.items() if n > 1)[:3]
    return LedgerCount(len(want), len(lost), dup, sum(counts[k] for k in unexpected), examples)


# -- tiers: an independent recomputation from the ledger ------------------------------------------------------------

@dataclass(frozen=True)
class TierRule:
    code: str
    single_receipt_min: int | None = None
    rolling_spend_min: int | None = None
    rolling_months: int | None = None


@dataclass(frozen=True)
class LedgerRow:
    id: int
    member_id: str
    program: str
    kind: str  # earn | reverse | redeem | ...
    spend: int
    receipt: tuple[str, str] | None  # (store_id, receipt_no) of the sale an earn or a reversal is about
    occurred_at: datetime


def _months_back(at: datetime, months: int) -> datetime:
    y, m = divmod(at.month - 1 - months, 12)
    year, month = at.year + y, m + 1
    import calendar

    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


@dataclass
class TierReplay:
    tier: str
    upgrades: int = 0


def recompute_tiers(rows: Iterable[LedgerRow],
                    programs: Mapping[str, list[TierRule]]) -> dict[tuple[str, str], TierReplay]:
    """Replay each account's earns and reversals in the order loyalty committed them (ledger id) and say the tier
    L-04 gives: the highest tier a single receipt's spend or the rolling window's spend reaches at each earn; tiers
    only rise here (the yearly downgrade, L-05, does not run within a chaos run). `upgrades` counts the rises (each
    one a tier-changed SMS)."""
    spends: dict[tuple[str, str], list[list[Any]]] = {}
    out: dict[tuple[str, str], TierReplay] = {}
    for r in sorted(rows, key=lambda r: r.id):
        acct = (r.member_id, r.program)
        tiers = programs[r.program]
        rank = {t.code: i for i, t in enumerate(tiers)}
        state = out.setdefault(acct, TierReplay(tiers[0].code))
        mine = spends.setdefault(acct, [])
        if r.kind == "reverse" and r.receipt is not None:
            for s in mine:
                if s[1] == r.receipt:
                    s[2] += r.spend  # a reversal's spend is negative
            continue
        if r.kind != "earn":
            continue
        mine.append([r.occurred_at, r.receipt, r.spend])
        best = tiers[0]
        for t in tiers[1:]:
            if t.single_receipt_min is not None and r.spend >= t.single_receipt_min:
                best = t
            elif t.rolling_months is not None and t.rolling_spend_min is not None:
                start = _months_back(r.occurred_at, t.rolling_months)
                window = sum(s[2] for s in mine if start < s[0] <= r.occurred_at)
                if window >= t.rolling_spend_min:
                    best = t
        if rank[best.code] > rank[state.tier]:
            state.tier = best.code
            state.upgrades += 1
    return out


def tier_mismatches(replayed: Mapping[tuple[str, str], TierReplay], accounts: Mapping[tuple[str, str], str],
                    entry_tiers: Mapping[str, str]) -> list[str]:
    """Accounts whose stored tier differs from the recomputation; an account without an earn keeps its program's
    entry tier."""
    bad = [f"{k}: stored {accounts.get(k)}, recomputed {v.tier}" for k, v in replayed.items()
           if accounts.get(k, v.tier) != v.tier]
    bad += [f"{k}: stored {t}, no earn in the ledger" for k, t in accounts.items()
            if k not in replayed and t != entry_tiers.get(k[1], t)]
    return bad


# -- SMS ------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmsCount:
    triggers: int  # messages notify made (one per cause, template, recipient)
    sent: int  # of them, handed to the simulator
    lost: int  # a message notify says it sent that the simulator never received, or an expected trigger missing
    duplicated: int  # a trigger made twice, or a simulator entry no message of notify explains
    pending: int  # still queued or sending at the end
    examples: tuple[str, ...] = ()


SENT = {"sent", "delivered", "undelivered"}


def count_sms(messages: Iterable[tuple[str, str, str | None, str]], sim_keys: Iterable[str],
              expected_per_member: Mapping[tuple[str, str], int]) -> SmsCount:
    """messages: (message_id, template, member_id, status) from notify's table; sim_keys: the idempotency keys in
    the simulator's log (notify sends each message under its id); expected_per_member: {(member_id, template):
    how many triggers the ledger says there were} for the templates recomputed independently (tier changes)."""
    msgs = list(messages)
    sim = Counter(sim_keys)
    ids = {m[0] for m in msgs}
    examples: list[str] = []
    lost = 0
    for mid, tpl, member, status in msgs:
        if status in SENT and sim[mid] == 0:
            lost += 1
            examples.append(f"sent but not received: {tpl} {member} {mid}")
    dup = sum(n - 1 for n in sim.values() if n > 1)
    strays = [k for k in sim if k not in ids]
    dup += sum(sim[k] for k in strays)
    examples += [f"simulator entry of no message: {k}" for k in strays[:3]]
    made = Counter((m[2], m[1]) for m in msgs if m[2] is not None)
    for key, n in expected_per_member.items():
        got = made.get(key, 0)
        if got < n:
            lost += n - got
            examples.append(f"{key}: {got} of {n} messages")
        elif got > n:
            dup += got - n
            examples.append(f"{key}: {got} messages for {n} triggers")
    templates = {t for _, t in expected_per_member}
    for key, n in made.items():
        if key[1] in templates and key not in expected_per_member:
            dup += n
            examples.append(f"{key}: {n} messages, no trigger")
    pending = sum(1 for m in msgs if m[3] in ("queued", "sending"))
    return SmsCount(len(msgs), sum(1 for m in msgs if m[3] in SENT), lost, dup, pending, tuple(examples[:6]))


# -- coupons, receivables, DLQ ------------------------------------------------------------------------------------

def count_coupons(spent: Mapping[str, tuple[str, str]],
                  rows: Iterable[tuple[str, str, str | None, str | None]]) -> LedgerCount:
    """spent: {coupon_no: (store_id, receipt_no) of the accepted sale that paid with it}; rows: credit's coupons
    (coupon_no, status, redeemed_store_id, redeemed_receipt_no). A coupon is spent once: redeemed for its sale;
    redeemed for another receipt, or redeemed without a sale the POS was told of, is a duplicate spend."""
    seen = {c: (st, s, r) for c, st, s, r in rows}
    lost = [c for c, rc in spent.items() if seen.get(c, ("", None, None))[0] != "redeemed"]
    wrong = [c for c, rc in spent.items() if c not in lost and seen[c][1:] != rc]
    extra = [c for c, (st, _, _) in seen.items() if st == "redeemed" and c not in spent]
    ex = tuple([f"lost {c}" for c in lost[:3]] + [f"other receipt {c}" for c in wrong[:3]] +
               [f"unexpected {c}" for c in extra[:3]])
    return LedgerCount(len(spent), len(lost), len(wrong), len(extra), ex)


def receivables_gap(credit_sales: Mapping[tuple[str, str], int], receivables: Iterable[tuple[str, str, int]]) -> int:
    """Credit sales (fen) minus receivables booked for them (fen): 0 when every accepted credit sale is owed once."""
    booked = sum(a for s, r, a in receivables if (s, r) in credit_sales)
    return sum(credit_sales.values()) - booked


@dataclass
class DlqCount:
    poison: int = 0  # dead-lettered records that were the run's intended poison
    unexpected: int = 0  # everything else: an event a consumer gave up on
    examples: list[str] = field(default_factory=list)


def count_dlq(records: Iterable[tuple[str, bytes | None]], poison_keys: set[bytes]) -> DlqCount:
    """records: (dlq topic, record key) of every dead-lettered record."""
    out = DlqCount()
    for topic, key in records:
        if key is not None and key in poison_keys:
            out.poison += 1
        else:
            out.unexpected += 1
            if len(out.examples) < 5:
                out.examples.append(f"{topic}: {key!r}")
    return out
