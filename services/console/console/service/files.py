"""The member-file screens' calls (issue 12), each to members with the staff member's token, so members decides and
audits every one with the operator taken from that token: file changes with their review (M-13, M-04), merges by
agreement (M-06), the blacklist and its lifting (M-16) and deletion requests (M-15)."""

from __future__ import annotations

from typing import Any

from ..adapters.upstream import Refusal, Upstream
from .desk import ACCESS_REASON, Session


def _need(value: str, field: str, rule: str) -> None:
    if not value.strip():
        raise Refusal("console", 422, "invalid form", errors=[{"field": field, "message": "required", "rule": rule}])


class FileDesk:
    def __init__(self, up: Upstream) -> None:
        self.up = up

    async def file(self, s: Session, member_id: str, why: str) -> dict[str, Any]:
        """The file as members lets this person see it (M-07; the read is access-logged with `why`)."""
        return dict(await self.up.call("members", "GET", f"/v1/member-files/{member_id}", s.token,
                                       headers={"X-Access-Reason": f"{ACCESS_REASON}: {why}"}))

    async def change(self, s: Session, member_id: str, fields: dict[str, str]) -> dict[str, Any]:
        """M-13: change the file; members puts it back into review and records who changed what."""
        if not fields:
            raise Refusal("console", 422, "nothing changed", errors=[
                {"field": "file", "message": "change at least one field", "rule": "M-13"}])
        return dict(await self.up.call("members", "PATCH", f"/v1/member-files/{member_id}", s.token, json=fields))

    async def changes(self, s: Session, member_id: str, page: int, limit: int) -> dict[str, Any]:
        """M-13: the file's changes and review decisions, newest first, paged at members."""
        return dict(await self.up.call("members", "GET", f"/v1/member-files/{member_id}/changes", s.token,
                                       params={"page": page, "limit": limit},
                                       headers={"X-Access-Reason": ACCESS_REASON + ": file changes"}))

    async def duplicates(self, s: Session, member_id: str) -> list[dict[str, Any]]:
        """M-06: other open files of the store with the same name or ID card (members decides who may ask)."""
        ans = await self.up.call("members", "GET", f"/v1/member-files/{member_id}/duplicates", s.token,
                                 headers={"X-Access-Reason": ACCESS_REASON + ": merge candidates"})
        return list(ans["members"])

    async def merge(self, s: Session, member_id: str, duplicate: str, referrer: str, reason: str) -> dict[str, Any]:
        """M-06: merge the duplicate into this file by agreement, keeping one referrer; members audits the merge."""
        _need(duplicate, "duplicate_member_id", "M-06")
        _need(referrer, "referrer_staff_id", "M-06")
        _need(reason, "reason", "M-06")
        return dict(await self.up.call("members", "POST", f"/v1/member-files/{member_id}/merge", s.token, json={
            "duplicate_member_id": duplicate.strip(), "referrer_staff_id": referrer.strip(),
            "reason": reason.strip()}))

    async def blacklist(self, s: Session, mobile: str, store_id: str, status: str, page: int,
                        limit: int) -> dict[str, Any]:
        """M-16: the shared blacklist, paged at members; a phone looked up shows the store that listed it. `status`:
        the listings in force, or the lifted ones (kept with who lifted them, when and why)."""
        return dict(await self.up.call("members", "GET", "/v1/blacklist", s.token, params={
            "mobile": mobile.strip(), "store_id": store_id.strip(), "status": status, "page": page,
            "limit": limit}))

    async def lift_blacklist(self, s: Session, entry_id: int, reason: str) -> dict[str, Any]:
        """M-16: lift a listing with its reason; members decides who may (the listing store's CS manager, HQ
        customer service), restores the files' states and records the operator from the token."""
        _need(reason, "reason", "M-16")
        return dict(await self.up.call("members", "POST", f"/v1/blacklist/{entry_id}/lift", s.token,
                                       json={"reason": reason.strip()}))

    async def add_to_blacklist(self, s: Session, mobile: str, full_name: str, reason: str) -> dict[str, Any]:
        """M-16: list a phone + name for every store; members records the store and the person listing it."""
        _need(reason, "reason", "M-16")
        return dict(await self.up.call("members", "POST", "/v1/blacklist", s.token, json={
            "mobile": mobile.strip(), "full_name": full_name.strip(), "reason": reason.strip()}))

    async def request_deletion(self, s: Session, member_id: str, reason: str) -> dict[str, Any]:
        """M-15: a deletion is only by a request with a reason, raised by the store's customer-service manager."""
        _need(reason, "reason", "M-15")
        return dict(await self.up.call("members", "POST", "/v1/deletion-requests", s.token,
                                       json={"member_id": member_id, "reason": reason.strip()}))

    async def deletions(self, s: Session, status: str, page: int, limit: int) -> dict[str, Any]:
        """M-15: deletion requests of a status with their age (12-hour target), paged at members."""
        return dict(await self.up.call("members", "GET", "/v1/deletion-requests", s.token,
                                       params={"status": status, "page": page, "limit": limit}))

    async def decide_deletion(self, s: Session, request_id: str, approve: bool, note: str = "") -> dict[str, Any]:
        """M-15: HQ customer service decides; an approval soft-deletes the file (members audits it); a rejection
        carries the note the requesting store reads in its list."""
        if not approve:
            _need(note, "note", "M-15")
        body: dict[str, Any] = {"decision": "approve" if approve else "reject"}
        if note.strip():
            body["note"] = note.strip()
        return dict(await self.up.call("members", "POST", f"/v1/deletion-requests/{request_id}/decision", s.token,
                                       json=body))
