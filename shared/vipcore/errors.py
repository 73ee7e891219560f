"""What domain and service code raise when a command is refused. No HTTP here: one handler in
`vipcore.http` turns each into RFC 9457 problem details, and consumers log or dead-letter them.

Every refusal names the rule (an ID from `docs/rules.md`, or a contract check such as `exists`)
and the field it concerns, so the person at the till or desk knows what to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self


class Refused(Exception):
    """A command refused; `status` is the HTTP status the edge answers with."""

    status = 422
    title = "Refused by a rule"

    def __init__(self, rule: str | None, field: str, message: str,
                 also: Sequence[tuple[str, str, str | None]] = ()) -> None:
        super().__init__(f"{rule}: {message}" if rule else message)
        self.rule, self.field, self.message = rule, field, message
        self.also = list(also)  # further (field, message, rule) at fault in the same command, answered together

    @classmethod
    def each(cls, problems: Sequence[tuple[str, str, str | None]]) -> Self:
        """One refusal naming every (field, message, rule) at fault, the first one as its headline."""
        (field, message, rule), *rest = problems
        return cls(rule, field, message, also=rest)


class RuleViolation(Refused):
    """A business rule says no (422)."""


class NotFound(Refused):
    """The named object does not exist, or is not visible to the caller (404)."""

    status = 404
    title = "Not found"

    def __init__(self, field: str, message: str, rule: str | None = None) -> None:
        super().__init__(rule, field, message)


class Conflict(Refused):
    """The object's current state does not allow the command, or it was done already (409)."""

    status = 409
    title = "Conflict"


class Forbidden(Refused):
    """The caller's role or store may not do this (403)."""

    status = 403
    title = "Forbidden"


class Unauthorized(Refused):
    """No valid credential (401)."""

    status = 401
    title = "Unauthorized"


class Unavailable(Refused):
    """A dependency (another service, a queue) cannot take the command now; try again (503)."""

    status = 503
    title = "Service unavailable"

    def __init__(self, field: str, message: str, rule: str | None = None, retry_after_s: int = 1) -> None:
        super().__init__(rule, field, message)
        self.retry_after_s = retry_after_s


class TooManyRequests(Refused):
    """The caller used up its allowance (a rate limit per API key, account or address); try again later (429)."""

    status = 429
    title = "Too many requests"

    def __init__(self, field: str, message: str, rule: str | None = None, retry_after_s: int = 1) -> None:
        super().__init__(rule, field, message)
        self.retry_after_s = retry_after_s
