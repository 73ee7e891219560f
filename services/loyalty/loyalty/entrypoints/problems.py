"""A refused command as RFC 9457 problem details naming the field and the rule."""

from __future__ import annotations

from vipcore.http import FieldError, Problem

from ..domain.account import RuleViolation


def refused(e: RuleViolation) -> Problem:
    return Problem(422, "Refused by a rule", f"{e.rule}: {e.message}", [FieldError(e.field, e.message, e.rule)])
