"""Refund rules: never refund more than was sold, line by line (L-03)."""

from __future__ import annotations

from typing import Any

from vipcore.errors import RuleViolation


def refund_errors(sold: dict[int, dict[str, Any]], already: dict[int, dict[str, Any]],
                  lines: list[dict[str, Any]]) -> list[RuleViolation]:
    """L-03: one refusal per refund line exceeding what remains of the original sale's line."""
    errors = []
    for i, ln in enumerate(lines):
        orig = sold.get(ln["line_no"])
        if orig is None:
            errors.append(RuleViolation("L-03", f"lines.{i}.line_no", "no such line on the original receipt"))
            continue
        done = already.get(ln["line_no"], {"qty": 0, "paid": 0})
        if ln["qty"] + done["qty"] > orig["qty"]:
            errors.append(RuleViolation("L-03", f"lines.{i}.qty",
                                        f"refunding more than was sold ({orig['qty'] - done['qty']} left)"))
        if ln["paid"] + done["paid"] > orig["paid"]:
            errors.append(RuleViolation("L-03", f"lines.{i}.paid",
                                        f"refunding more than was paid ({orig['paid'] - done['paid']} fen left)"))
    return errors


def check_refund(sold: dict[int, dict[str, Any]], already: dict[int, dict[str, Any]],
                 lines: list[dict[str, Any]]) -> None:
    """Raise the first L-03 refusal, if any line refunds more than remains."""
    errors = refund_errors(sold, already, lines)
    if errors:
        raise errors[0]
