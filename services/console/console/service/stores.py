"""The store desk's calls (issue 12): hand-overs with their per-file steps (M-12), spreadsheet imports with their
progress and rejected rows (M-19), the revisit plan and revisit log (M-20) — each to members, the owning service,
with the staff member's own token (members decides who may, and records who did)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..adapters.upstream import Upstream
from .desk import Session

BOM = "\ufeff".encode()


class StoreDesk:
    def __init__(self, up: Upstream) -> None:
        self.up = up

    async def handovers(self, s: Session, state: str, staff_id: str, store_id: str, before: str,
                        limit: int) -> dict[str, Any]:
        """One page of hand-overs, newest first, as members scopes them to this person (M-12)."""
        return dict(await self.up.call("members", "GET", "/v1/handovers", s.token, params={
            "state": state, "staff_id": staff_id, "store_id": store_id, "before": before, "limit": limit}))

    async def handover(self, s: Session, handover_id: str) -> dict[str, Any]:
        return dict(await self.up.call("members", "GET", f"/v1/handovers/{handover_id}", s.token))

    async def request_handover(self, s: Session, body: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.up.call("members", "POST", "/v1/handovers", s.token, json=body))

    async def step(self, s: Session, handover_id: str, step: str, approve: bool, note: str) -> dict[str, Any]:
        """A hand-over step (review, accept, confirm); members checks the state and who takes it (M-12)."""
        return dict(await self.up.call("members", "POST", f"/v1/handovers/{handover_id}/{step}", s.token,
                                       json=step_body(approve, note)))

    async def file_step(self, s: Session, handover_id: str, member_id: str, step: str, approve: bool,
                        note: str) -> dict[str, Any]:
        """A per-file step (recheck by the receiver, approve or send back by the store manager; M-12)."""
        return dict(await self.up.call("members", "POST", f"/v1/handovers/{handover_id}/files/{member_id}/{step}",
                                       s.token, json=step_body(approve, note)))

    async def imports(self, s: Session, status: str, store_id: str, before: str, limit: int) -> dict[str, Any]:
        return dict(await self.up.call("members", "GET", "/v1/imports", s.token, params={
            "status": status, "store_id": store_id, "before": before, "limit": limit}))

    async def start_import(self, s: Session, store_id: str, fmt: str, filename: str, content: bytes) -> str:
        """Send the spreadsheet's bytes to members (M-19); answers the import id to follow."""
        ans = await self.up.post_bytes("members", "/v1/imports", s.token, content,
                                       {"store_id": store_id, "format": fmt, "filename": filename})
        return str(ans["import_id"])

    async def import_progress(self, s: Session, import_id: str) -> dict[str, Any]:
        return dict(await self.up.call("members", "GET", f"/v1/imports/{import_id}", s.token))

    async def rejected_csv(self, s: Session, import_id: str) -> bytes:
        """The rejected rows with their reasons as members writes them, with a BOM so Excel shows Chinese."""
        r = await self.up.download("members", f"/v1/imports/{import_id}/rejected.csv", s.token, {})
        return r.content if r.content.startswith(BOM) else BOM + r.content

    async def revisit_plan(self, s: Session, on: date | None) -> dict[str, Any]:
        return dict(await self.up.call("members", "GET", "/v1/revisits/plan", s.token,
                                       params={"on": on.isoformat() if on else None}))

    async def log_revisit(self, s: Session, member_id: str, summary: str, next_date: str) -> dict[str, Any]:
        """Members records the revisit with the staff id of the token (M-20)."""
        return dict(await self.up.call("members", "POST", f"/v1/member-files/{member_id}/revisits", s.token,
                                       json={"summary": summary, **({"next_date": next_date} if next_date else {})}))

    async def add_prospect(self, s: Session, full_name: str, mobile: str, intent: str, note: str) -> dict[str, Any]:
        """A prospect with intent H/A/B/C; members sets the next visit from the level and records who (M-20)."""
        return dict(await self.up.call("members", "POST", "/v1/prospects", s.token, json={
            "full_name": full_name, "mobile": mobile, "intent": intent, **({"note": note} if note else {})}))


def step_body(approve: bool, note: str) -> dict[str, Any]:
    return {"decision": "approve" if approve else "reject", **({"note": note} if note else {})}
