"""The reads behind the console's member-file screens (issue 12): the shared blacklist with the store that listed
each phone (M-16), a file's change record with its review decisions (M-13) and the likely duplicates of a file a
store's customer-service manager may merge by agreement (M-06). Who sees which file is MemberFiles' rule (M-07);
reads of files are access-logged like every other."""

from __future__ import annotations

from typing import Any

from vipcore.auth import Principal, Role
from vipcore.pii import decrypt, mask_mobile, mask_name, mobile_index

from ..adapters import desk_queries as q
from ..entrypoints.schemas import BlacklistLiftIn
from .files import SEES_MOBILE, MemberFiles
from .merges import CLOSED

HANDLES_BLACKLIST = {Role.STORE_CS_MANAGER, Role.HQ_CS}  # M-16: who lists and answers for listed customers
DUPLICATES_SHOWN = 50


class FileDesk:
    def __init__(self, files: MemberFiles) -> None:
        self.files = files
        self.engine = files.engine

    async def blacklist(self, p: Principal, mobile: str | None, store_id: str | None, page: int,
                        limit: int, lifted: bool = False) -> dict[str, Any]:
        """M-16: the blacklist shared by every store, newest first; a phone looked up is flagged with the store that
        listed it. Mobiles masked; names too, except for the roles that handle the blacklist. Listings in force, or
        (`lifted`) the lifted ones with who lifted them, when and why."""
        mi = mobile_index(self.files.index_key, mobile) if mobile else None
        async with self.engine.connect() as conn:
            rows, total = await q.blacklist_page(conn, mi, store_id, page, limit, lifted)
        return {"entries": [{"entry_id": r.entry_id, "store_id": r.store_id, "listed_by": r.listed_by,
                             "reason": r.reason, "since": r.since.isoformat(),
                             "mobile": mask_mobile(decrypt(self.files.enc_key, r.mobile_enc)),
                             "full_name": r.full_name if p.role in HANDLES_BLACKLIST else mask_name(r.full_name),
                             "lifted_at": r.lifted_at.isoformat() if r.lifted_at else None,
                             "lifted_by": r.lifted_by, "lift_reason": r.lift_reason}
                            for r in rows], "total": total, "page": page, "limit": limit}

    async def lift(self, p: Principal, entry_id: int, body: BlacklistLiftIn) -> dict[str, Any]:
        """M-16: lift a listing (MemberFiles.lift_blacklist decides who may and restores the files)."""
        return await self.files.lift_blacklist(p, entry_id, body)

    async def changes(self, p: Principal, member_id: str, reason: str, page: int, limit: int) -> dict[str, Any]:
        """M-13: every change to a file (fields before and after, the states) and every review decision, newest
        first — only of a file the caller may see (M-07); the read is access-logged."""
        async with self.engine.begin() as conn:
            m = await self.files._visible_row(conn, p, member_id, "read", reason=reason)
            await self.files._log(conn, p, "read:changes", [member_id], reason)
            rows, total = await q.file_steps(conn, member_id, page, limit)
        clear = p.role in SEES_MOBILE  # who sees names on the file itself (files.view)
        return {"member_id": member_id, "status": m.status, "total": total, "page": page, "limit": limit,
                "changes": [{"id": r.id, "at": r.at.isoformat(), "by": r.by, "kind": r.kind,
                             "from_status": r.from_status, "to_status": r.to_status, "note": r.note,
                             "fields": [f if clear or f["field"] != "full_name" else
                                        {**f, "before": f["before"] and mask_name(f["before"]),
                                         "after": f["after"] and mask_name(f["after"])} for f in r.fields]}
                            for r in rows]}

    async def duplicates(self, p: Principal, member_id: str, reason: str) -> list[dict[str, Any]]:
        """M-06: other open files of the same store with the same full name or ID card — the files a store's
        customer-service manager may merge into this one by agreement. Both the file and the answer are reads of
        member files: visibility is M-07's, and they are access-logged."""
        async with self.engine.begin() as conn:
            m = await self.files._visible_row(conn, p, member_id, "read", reason=reason)
            rows = await q.likely_duplicates(conn, m, CLOSED, DUPLICATES_SHOWN)
            await self.files._log(conn, p, "search:duplicates", [member_id, *(r.member_id for r in rows)], reason)
        return [self.files.view(p, r) for r in rows]
