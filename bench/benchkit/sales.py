"""POS sale bodies (docs/pos-api.md), pre-serialised so the client spends little CPU per request.

Regular sales stay below every single-receipt tier threshold (jewelry VIP at 68,000 fen, generic silver
at 500,000 fen), so only the deliberate upgrade sales of the paced phase send SMS.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import orjson

CST = timezone(timedelta(hours=8))
JEWELRY_VIP_FEN = 68000
MAX_REGULAR_FEN = {"jewelry": 60000, "generic": 90000}
METHODS = ("wechat", "alipay", "cash", "bank_card")


@dataclass(frozen=True)
class Sale:
    store_id: str
    receipt_no: str
    member_id: str | None
    mobile: str | None
    body: bytes  # JSON of one sale
    doc: dict  # the same sale as a dict (for batches)
    upgrade: bool = False


def _sale_doc(rng: random.Random, store_id: str, receipt_no: str, card_no: str | None,
              lines: list[tuple[int, int, bool]]) -> dict:
    """lines: (unit_price, qty, special_price); paid = unit_price * qty."""
    doc_lines = [{"line_no": i, "sku": f"SKU-{rng.randrange(1, 400):03d}", "qty": qty, "unit_price": price,
                  "paid": price * qty, "special_price": special}
                 for i, (price, qty, special) in enumerate(lines, 1)]
    total = sum(ln["paid"] for ln in doc_lines)
    doc = {"store_id": store_id, "terminal_id": f"T{rng.randrange(1, 5)}", "receipt_no": receipt_no,
           "occurred_at": datetime.now(CST).isoformat(timespec="seconds"),
           "cashier_staff_id": f"S-{store_id}-{rng.randrange(1, 5)}",
           "lines": doc_lines, "payments": [{"method": rng.choice(METHODS), "amount": total}]}
    if card_no is not None:
        doc["member"] = {"card_no": card_no}
    return doc


def regular_sale(rng: random.Random, store_id: str, program: str, receipt_no: str,
                 member: dict | None) -> Sale:
    """A member (or anonymous) sale of 1-3 lines under the program's single-receipt thresholds."""
    cap = MAX_REGULAR_FEN[program]
    n = rng.choice((1, 1, 1, 2, 3))
    lines = []
    for i in range(n):
        price = rng.randrange(20, cap // 100 // n) * 100
        # the first line is regular: a receipt of special-price items only earns nothing (L-01), writes no
        # ledger row, and could never be counted as "points committed"
        lines.append((price, 1, i > 0 and rng.random() < 0.1))
    doc = _sale_doc(rng, store_id, receipt_no, member["card_no"] if member else None, lines)
    return Sale(store_id, receipt_no, member["member_id"] if member else None,
                member["mobile"] if member else None, orjson.dumps(doc), doc)


def upgrade_sale(rng: random.Random, store_id: str, receipt_no: str, member: dict) -> Sale:
    """A fresh jewelry member's first receipt at or above the VIP threshold: one tier change, one SMS."""
    price = rng.randrange(JEWELRY_VIP_FEN // 100, 1500) * 100
    doc = _sale_doc(rng, store_id, receipt_no, member["card_no"], [(price, 1, False)])
    return Sale(store_id, receipt_no, member["member_id"], member["mobile"], orjson.dumps(doc), doc,
                upgrade=True)
