"""The member-file export screen's calls (issue 12; M-07): start an export job at members with the staff member's
own token (members checks files.export, scopes the files to what this person may see, records the operator from
the token and logs every file exported), follow its progress, list this person's exports, stream the file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ..adapters.upstream import Upstream
from .desk import Session

BASE = "/v1/member-file-exports"


class ExportDesk:
    def __init__(self, up: Upstream) -> None:
        self.up = up

    async def start(self, s: Session, store_id: str, status: str, registered_from: str, registered_to: str,
                    reason: str) -> dict[str, Any]:
        """The job as members records it; empty filters are left out (members' defaults: every file it lets this
        person export)."""
        body = {"store_id": store_id, "status": status, "registered_from": registered_from,
                "registered_to": registered_to}
        return dict(await self.up.call("members", "POST", BASE, s.token,
                                       json={**{k: v for k, v in body.items() if v}, "reason": reason}))

    async def progress(self, s: Session, export_id: str) -> dict[str, Any]:
        return dict(await self.up.call("members", "GET", f"{BASE}/{export_id}", s.token))

    async def mine(self, s: Session, state: str, before: str, limit: int) -> dict[str, Any]:
        """This person's exports, newest first, one page (members pages them)."""
        return dict(await self.up.call("members", "GET", BASE, s.token, params={
            "started_by": s.who.staff_id, "state": state, "before": before, "limit": limit}))

    async def file(self, s: Session, export_id: str) -> tuple[AsyncIterator[bytes], str]:
        """The CSV as members streams it (UTF-8 with a BOM; members logs the download), passed through a piece at a
        time — an export of a whole chain never sits in the console's memory."""
        r = await self.up.stream("members", f"{BASE}/{export_id}/file", s.token)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for piece in r.aiter_bytes():
                    yield piece
            finally:
                await r.aclose()

        return body(), r.headers.get("content-disposition", f'attachment; filename="member-files-{export_id}.csv"')
