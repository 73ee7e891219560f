"""Refund rules: never refund more than was sold, line by line (L-03)."""

from __future__ import annotations

from vipcore.http import FieldError


def refund_errors(sold: dict[int, dict], already: dict[int, dict], lines: list[dict]) -> list[FieldError]:
    """Errors for refund lines exceeding what remains of the original sale's lines."""
    errors = []
    for i, ln in enumerate(lines):
        orig = sold.get(ln["line_no"])
        if orig is None:
            errors.append(FieldError(f"lines.{i}.line_no", "no such line on the original receipt", "L-03"))
            continue
        done = already.get(ln["line_no"], {"qty": 0, "paid": 0})
        if ln["qty"] + done["qty"] > orig["qty"]:
            errors.append(FieldError(f"lines.{i}.qty",
                                     f"refunding more than was sold ({orig['qty'] - done['qty']} left)", "L-03"))
        if ln["paid"] + done["paid"] > orig["paid"]:
            errors.append(FieldError(f"lines.{i}.paid",
                                     f"refunding more than was paid ({orig['paid'] - done['paid']} fen left)",
                                     "L-03"))
    return errors
