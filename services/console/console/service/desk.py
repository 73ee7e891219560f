"""What the console's screens do: each is a call (or a few) to the service that owns the data, made with the
staff member's own token so that service decides what this person may see and do (O-02, M-07)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import jwt
from vipcore.auth import Principal, Role, TokenVerifier

from ..adapters.upstream import Refusal, Upstream

ACCESS_REASON = "console"  # M-07: every file read is logged by members with a reason


@dataclass(frozen=True)
class Session:
    """The logged-in staff member: their token (kept in the httponly cookie) and who it says they are."""

    token: str
    who: Principal
    refresh_token: str | None = None


@dataclass
class Section:
    """One part of a page from one owning service: its data, or why that service refused (the ops page)."""

    data: Any = None
    refusal: Refusal | None = None


class Desk:
    def __init__(self, upstream: Upstream, verifier: TokenVerifier) -> None:
        self.up = upstream
        self.verifier = verifier

    async def login(self, staff_id: str, password: str) -> Session:
        """O-02: members checks the password and signs the token; the console only keeps it."""
        ans = await self.up.call("members", "POST", "/v1/auth/login",
                                 json={"staff_id": staff_id, "password": password})
        return replace(self.session(str(ans["token"])), refresh_token=ans.get("refresh_token"))

    async def refresh(self, refresh_token: str) -> Session:
        """O-03: a new staff token (and refresh token) from members; Refusal once the person left or changed."""
        ans = await self.up.call("members", "POST", "/v1/auth/token:refresh", json={"refresh_token": refresh_token})
        return replace(self.session(str(ans["token"])), refresh_token=ans.get("refresh_token"))

    async def logout(self, refresh_token: str) -> None:
        """O-03: members revokes the refresh token (it renews nothing after); the console then drops its cookies."""
        await self.up.call("members", "POST", "/v1/auth/logout", json={"refresh_token": refresh_token})

    @staticmethod
    def expiring(token: str, within_s: float) -> bool:
        """True when the token expires within `within_s` seconds (or cannot be read): time to renew it."""
        try:
            exp = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            return True
        return exp - time.time() < within_s

    def session(self, token: str) -> Session:
        """The session of a cookie; an unsigned, expired or foreign token raises (the user logs in again)."""
        if self.verifier.key is not None:
            return Session(token, self.verifier.verify(token))
        # No public key configured: read the claims for display only; every owning service still verifies.
        c = jwt.decode(token, options={"verify_signature": False, "require": ["exp", "sub", "role"]})
        return Session(token, Principal(c["sub"], c.get("store"), c.get("region"), Role(c["role"])))

    async def search(self, s: Session, card_no: str, mobile: str, name: str) -> list[dict[str, Any]]:
        """Member files by card, mobile or name; members shows only what this person may see (M-07)."""
        ans = await self.up.call("members", "GET", "/v1/member-files", s.token,
                                 params={"card_no": card_no.strip(), "mobile": mobile.strip(),
                                         "name": name.strip()},
                                 headers={"X-Access-Reason": ACCESS_REASON + ": search"})
        return list(ans["members"])

    async def member(self, s: Session, member_id: str) -> dict[str, Any]:
        """The member file as members lets this person see it (M-07 decides, the read is logged); the page's other
        sections load on their own from their owning services (service/memberpage.py)."""
        return dict(await self.up.call("members", "GET", f"/v1/member-files/{member_id}", s.token,
                                       headers={"X-Access-Reason": ACCESS_REASON + ": member page"}))

    async def review_queue(self, s: Session, page: int, limit: int) -> dict[str, Any]:
        """One page of the files waiting for review, oldest first, with their age, overdue past 12 hours, and the
        queue's total (M-04); members cuts the page."""
        return dict(await self.up.call("members", "GET", "/v1/review-queue", s.token,
                                       params={"page": page, "limit": limit}))

    async def review(self, s: Session, member_id: str, approve: bool, note: str) -> dict[str, Any]:
        """Approve (members issues the card) or send back with a reason (M-04); members records the reviewer."""
        if not approve and not note.strip():
            raise Refusal("console", 422, "a reason is required", "M-04: a file is sent back with its reason",
                          [{"field": "note", "message": "required", "rule": "M-04"}])
        body: dict[str, Any] = {"decision": "approve" if approve else "reject"}
        if note.strip():
            body["note"] = note.strip()
        return dict(await self.up.call("members", "POST", f"/v1/member-files/{member_id}/review", s.token,
                                       json=body))

    async def aging(self, s: Session, by: str) -> dict[str, Any]:
        """Receivables aging per customer / staff / store / region (C-07); credit scopes store roles to their
        store and refuses roles that may not read it."""
        return dict(await self.up.call("credit", "GET", "/v1/reports/aging", s.token, params={"by": by}))

    async def aging_file(self, s: Session, fmt: str, by: str) -> tuple[bytes, str, str]:
        """The aging workbook (one sheet per dimension) or CSV exactly as credit makes it (C-07)."""
        r = await self.up.download("credit", "/v1/reports/aging", s.token, {"format": fmt, "by": by})
        return r.content, r.headers.get("content-type", "application/octet-stream"), \
            r.headers.get("content-disposition", f'attachment; filename="aging.{fmt}"')

    async def request_adjustment(self, s: Session, member_id: str, program: str, points: int, reason: str,
                                 receipt_no: str) -> dict[str, Any]:
        """A manual adjustment or back-filled receipt; loyalty keeps it until a second person decides (L-02)."""
        body: dict[str, Any] = {"member_id": member_id, "program": program, "points": points, "reason": reason}
        if receipt_no:
            body["receipt_no"] = receipt_no
        return dict(await self.up.call("loyalty", "POST", "/v1/adjustments", s.token, json=body))

    async def adjustments(self, s: Session) -> list[dict[str, Any]]:
        """Adjustments waiting for a decision (loyalty shows HQ all, a store manager their own)."""
        return list((await self.up.call("loyalty", "GET", "/v1/adjustments", s.token,
                                        params={"status": "requested"}))["items"])

    async def decide_adjustment(self, s: Session, adjustment_id: str, approve: bool) -> dict[str, Any]:
        """Approve (loyalty books the points) or reject; loyalty refuses the requester's own (L-02)."""
        return dict(await self.up.call("loyalty", "POST", f"/v1/adjustments/{adjustment_id}/"
                                       f"{'approve' if approve else 'reject'}", s.token))
