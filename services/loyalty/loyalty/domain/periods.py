"""Report periods (R-03): [since, until) in UTC dates."""

from __future__ import annotations

from datetime import date

from vipcore.errors import RuleViolation


def check_period(since: date, until: date) -> None:
    """A period ends after it starts (R-03)."""
    if until <= since:
        raise RuleViolation("R-03", "until", "must be after since")
