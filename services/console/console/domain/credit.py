"""The credit screens (issue 12, C-01..C-09) as plain data: which list each tab reads from credit and the filters
it passes, the states a filter offers, money typed in yuan turned into fen, coupon numbers typed in a box. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..adapters.upstream import Refusal


@dataclass(frozen=True)
class Tab:
    """One list of credit's desk routes: its path, the key of its rows, the filters it takes, its states."""

    path: str
    key: str
    filters: tuple[str, ...]
    states: tuple[str, ...] = ()


TABS: dict[str, Tab] = {
    "accounts": Tab("/v1/accounts", "accounts", ("q", "store_id", "overdue", "suspended")),
    "authorizations": Tab("/v1/authorizations", "authorizations", ("customer_id", "store_id", "status"),
                          ("held", "captured", "released")),
    "receivables": Tab("/v1/receivables", "receivables", ("customer_id", "store_id", "overdue", "open")),
    "extensions": Tab("/v1/extensions", "extensions", ("customer_id", "store_id", "status"),
                      ("pending", "approved", "rejected")),
    "payments": Tab("/v1/payments", "payments", ("customer_id", "store_id", "status"),
                    ("pending", "cleared", "bounced")),
    "writeoffs": Tab("/v1/writeoffs", "writeoffs", ("customer_id", "store_id", "status"),
                     ("pending", "approved", "rejected")),
    "rebates": Tab("/v1/rebates", "rebates", ("customer_id", "store_id", "status", "period"),
                   ("pending", "approved", "rejected", "collected")),
    "batches": Tab("/v1/coupon-batches", "batches", ()),
    "coupon_sales": Tab("/v1/coupon-sales", "sales", ("store_id", "cheque_status", "unit"),
                        ("pending", "cleared", "bounced")),
    "tiers": Tab("/v1/rebate-tiers", "versions", ()),
    "conflicts": Tab("/v1/reports/coupon-conflicts", "conflicts", ("store_id", "receipt_no", "coupon_no")),
    "refusals": Tab("/v1/credit-refusals", "refusals", ("customer_id", "store_id", "receipt_no")),
}
"""tab -> credit's list (services/credit/credit/entrypoints/desk_http.py, coupons_http.py)."""

NAV: tuple[tuple[str, str], ...] = (
    ("accounts", "credit"), ("authorizations", "credit"), ("receivables", "credit"),
    ("extensions", "credit.lists"), ("payments", "credit"), ("writeoffs", "credit.lists"), ("staff", "credit"),
    ("rebates", "credit"), ("tiers", "credit.lists"), ("batches", "credit.lists"), ("coupon_sales", "credit"),
    ("tally", "credit.lists"), ("conflicts", "credit.lists"), ("refusals", "credit.lists"),
    ("reconciliation", "credit.lists"),
)
"""The credit tabs in order, each with the screen (domain/screens.py) whose roles credit lets read it (O-02): staff
get their store's accounts, holds, invoices, payments, rebates, coupon sales and their own liabilities."""

TIER_ROWS = 6  # rows of the rebate-tier form (C-08)
_PERCENT = re.compile(r"^\s*([0-9]{1,3})(?:\.([0-9]{1,2}))?\s*%?\s*$")

PAYMENT_METHODS = ("cash", "cheque", "transfer", "wire")  # C-05
_YUAN = re.compile(r"^\s*([0-9]{1,12})(?:\.([0-9]{1,2}))?\s*$")
_COUPON = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")


def params_of(tab: Tab, given: dict[str, str], page: int, limit: int) -> dict[str, str | int]:
    """The query credit gets for a tab: only the tab's filters that were filled in, the page and its size."""
    out: dict[str, str | int] = {k: v.strip() for k, v in given.items() if k in tab.filters and v.strip()}
    return out | {"page": page, "limit": limit}


def to_fen(text: str, field: str, rule: str = "C-05") -> int:
    """Money typed in yuan (at most two decimals) as fen; anything else is refused naming the field."""
    m = _YUAN.match(text)
    if m is None:
        raise Refusal("console", 422, "invalid form", errors=[
            {"field": field, "message": "an amount in yuan, e.g. 1280.50", "rule": rule}])
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def coupon_numbers(text: str, field: str = "coupon_nos", rule: str = "C-09") -> list[str]:
    """Coupon numbers typed one per line or separated by commas or spaces."""
    nos = [n for n in re.split(r"[\s,，;；]+", text) if n]
    if not nos or len(nos) > 500 or not all(_COUPON.match(n) for n in nos):
        raise Refusal("console", 422, "invalid form", errors=[
            {"field": field, "message": "1 to 500 coupon numbers", "rule": rule}])
    return nos


def decision(value: str) -> bool:
    """approve -> True, reject -> False; anything else is refused."""
    if value not in ("approve", "reject"):
        raise Refusal("console", 422, "invalid form", errors=[{"field": "decision", "message": "approve or reject"}])
    return value == "approve"


def yuan(fen: int | None) -> str:
    """Fen shown as yuan with two decimals."""
    return "—" if fen is None else f"{fen / 100:,.2f}"


def tiers_from_form(form: dict[str, str]) -> list[dict[str, int]]:
    """C-08: the rebate tiers typed in the form's rows (purchases floor in yuan, rate in percent with at most two
    decimals) as credit takes them (fen, basis points); empty rows are skipped, a half-filled one is refused."""
    tiers = []
    for i in range(1, TIER_ROWS + 1):
        floor, rate = form.get(f"floor_{i}", "").strip(), form.get(f"rate_{i}", "").strip()
        if not floor and not rate:
            continue
        m = _PERCENT.match(rate)
        if m is None or not floor:
            raise Refusal("console", 422, "invalid form", errors=[
                {"field": f"rate_{i}" if floor else f"floor_{i}",
                 "message": "a purchases floor in yuan and a rate in percent, e.g. 50000 and 1.5", "rule": "C-08"}])
        tiers.append({"min_purchases": to_fen(floor, f"floor_{i}", "C-08"),
                      "rate_bp": int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))})
    return tiers
