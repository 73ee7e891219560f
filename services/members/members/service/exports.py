"""Bulk export of member files as a background job (M-07: bulk export is its own permission; every file exported is
written to the access log). Modelled on the import (service/importer.py): the job row keeps its progress for the
API, the work runs in the background a keyset-paged chunk at a time, so there is no cap on how many files an
export holds and no request waits for it.

- scope (M-07): HQ every store (or the one it names), a store manager their own store only;
- each chunk is one transaction: the CSV part (encrypted with the PII keyring, in the members database — the
  file is served by whichever instance is asked, never written to a disk), ONE access-log row naming every
  member id of the chunk, and the job's progress and heartbeat;
- the CSV is UTF-8 with a BOM (Excel shows Chinese), every cell neutralised (vipcore.exports), mobile, ID card
  and name masked as the caller's search shows them (MemberFiles.view);
- a job whose heartbeat is older than `stale_s` was interrupted (process killed): it is marked failed, never left
  running — on every read of a job and by the sweeper at start-up and every minute (ExportSweeper). It is not
  resumed: the person starts it again (a part-written file is never offered);
- the file is kept `keep_days` and then deleted (the job row stays, saying so)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.auth import Principal, Role
from vipcore.errors import Forbidden, NotFound, RuleViolation
from vipcore.exports import csv_text
from vipcore.logs import get_logger
from vipcore.pii import Keyring
from vipcore.redact import safe_error
from vipcore.scheduler import Ticker

from ..adapters import keyset
from ..adapters.tables import access_log, member_file_export_parts, member_file_exports, members
from .files import MemberFiles

log = get_logger(__name__)

CHUNK = 5000
STALE_S = 120.0  # no heartbeat for this long: the process running the export is gone
KEEP_DAYS = 7
BOM = "\ufeff"
COLUMNS = ("member_id", "store_id", "card_no", "full_name", "mobile", "id_card", "status", "stage", "card_status",
           "referrer_staff_id", "gender", "birth_date", "address", "work_unit", "position", "customer_class",
           "created_at")
HEADER = csv_text(COLUMNS, [], lineterminator="\r\n")
HQ_EXPORTERS = (Role.HQ_ADMIN, Role.HQ_CS)


class FileExports:
    def __init__(self, engine: AsyncEngine, files: MemberFiles, keys: Keyring, clock: Callable[[], datetime],
                 chunk: int = CHUNK, stale_s: float = STALE_S, keep_days: int = KEEP_DAYS) -> None:
        self.engine, self.files, self.keys, self.clock = engine, files, keys, clock
        self.chunk, self.stale_s, self.keep_days = chunk, stale_s, keep_days
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- start and run ---------------------------------------------------------------------------------------

    async def start(self, p: Principal, store_id: str | None, status: str | None, registered_from: date | None,
                    registered_to: date | None, tz: str, reason: str) -> dict[str, Any]:
        """Record the job (operator from the token, reason, filters), count what it will hold, run it in the
        background; answers the job as `progress` shows it. A store manager names no other store (M-07)."""
        if p.role not in HQ_EXPORTERS:
            if store_id and store_id != p.store_id:
                raise Forbidden("M-07", "store_id", f"a store manager exports only the files of store {p.store_id}")
            store_id = p.store_id
        if registered_from and registered_to and registered_from > registered_to:
            raise RuleViolation("input", "registered_to", "on or after registered_from")
        now = self.clock()
        filters = {"store_id": store_id, "status": status, "tz": tz,
                   "registered_from": registered_from.isoformat() if registered_from else None,
                   "registered_to": registered_to.isoformat() if registered_to else None}
        where = self._where(p, filters, now)
        export_id = "E" + uuid.uuid4().hex[:15]
        async with self.engine.begin() as conn:
            total = int(await conn.scalar(sa.select(sa.func.count()).select_from(members).where(*where)) or 0)
            await conn.execute(member_file_exports.insert().values(
                export_id=export_id, started_by=p.staff_id, role=p.role.value,
                scope_store_id=None if p.role in HQ_EXPORTERS else p.store_id, reason=reason, filters=filters,
                state="running", total=total, done=0, started_at=now, heartbeat_at=now, finished_at=None,
                expires_at=now + timedelta(days=self.keep_days)))
            await conn.execute(member_file_export_parts.insert().values(
                export_id=export_id, part_no=0, body=self.keys.encrypt(BOM + HEADER),
                member_ids=[]))
        task = asyncio.create_task(self._run(export_id, p, where, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await self.progress(p, export_id)

    def _where(self, p: Principal, filters: dict[str, Any], until: datetime) -> list[Any]:
        """The files the job holds: those the caller may see (M-07: `MemberFiles._scope`), the filters, and none
        registered after the job started (its total is known at the start)."""
        where = [self.files._scope(p), members.c.created_at <= until]
        if filters["store_id"]:
            where.append(members.c.store_id == filters["store_id"])
        if filters["status"]:
            where.append(members.c.status == filters["status"])
        zone = ZoneInfo(filters["tz"])
        if filters["registered_from"]:
            where.append(members.c.created_at >= datetime.combine(date.fromisoformat(filters["registered_from"]),
                                                                   time(0), zone))
        if filters["registered_to"]:
            day_after = date.fromisoformat(filters["registered_to"]) + timedelta(days=1)
            where.append(members.c.created_at < datetime.combine(day_after, time(0), zone))
        return where

    async def _run(self, export_id: str, p: Principal, where: list[Any], reason: str) -> None:
        state, error = "done", None
        try:
            last: tuple[datetime, str] | None = None
            part = 0
            while True:
                q = sa.select(members).where(*where)
                if last is not None:
                    mark = sa.tuple_(sa.literal(last[0], sa.DateTime(timezone=True)), sa.literal(last[1], sa.Text))
                    q = q.where(sa.tuple_(members.c.created_at, members.c.member_id) > mark)
                async with self.engine.connect() as conn:
                    rows = list((await conn.execute(q.order_by(members.c.created_at, members.c.member_id)
                                                    .limit(self.chunk))).all())
                if not rows:
                    break
                part += 1
                await self._write(export_id, p, part, rows, reason)
                last = (rows[-1].created_at, rows[-1].member_id)
                if len(rows) < self.chunk:
                    break
        except _Abandoned:
            return  # marked failed by the sweeper meanwhile: it says why
        except Exception as e:  # noqa: BLE001 - recorded on the job, visible through the API
            log.error("member-file export failed", export_id=export_id, error=safe_error(e))
            state, error = "failed", f"export failed ({type(e).__name__})"
        async with self.engine.begin() as conn:
            await conn.execute(member_file_exports.update().where(
                member_file_exports.c.export_id == export_id, member_file_exports.c.state == "running").values(
                state=state, error=error, finished_at=self.clock(), heartbeat_at=self.clock(),
                **({"total": member_file_exports.c.done} if state == "done" else {})))

    async def _write(self, export_id: str, p: Principal, part: int, rows: list[Any], reason: str) -> None:
        """One chunk in one transaction: its CSV part, one access-log row with every member id (M-07), progress."""
        body = csv_text(COLUMNS, [[_cell(v.get(c)) for c in COLUMNS] for v in (self.files.view(p, r) for r in rows)],
                        lineterminator="\r\n")[len(HEADER):]  # the header is part 0's
        ids = [r.member_id for r in rows]
        now = self.clock()
        async with self.engine.begin() as conn:
            alive = await conn.scalar(member_file_exports.update().where(
                member_file_exports.c.export_id == export_id, member_file_exports.c.state == "running").values(
                done=member_file_exports.c.done + len(rows), heartbeat_at=now,
                total=sa.func.greatest(member_file_exports.c.total, member_file_exports.c.done + len(rows)))
                .returning(member_file_exports.c.export_id))
            if alive is None:
                raise _Abandoned
            await conn.execute(member_file_export_parts.insert().values(
                export_id=export_id, part_no=part, body=self.keys.encrypt(body), member_ids=ids))
            await conn.execute(access_log.insert().values(at=now, staff_id=p.staff_id, role=p.role.value,
                                                          action="export", member_ids=ids,
                                                          reason=_logged_reason(reason, export_id)))

    # -- reads -----------------------------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Jobs whose heartbeat is stale were interrupted (the process was killed): failed, with the reason; files
        past their keep time deleted. Answers how many jobs it failed."""
        now = self.clock()
        async with self.engine.begin() as conn:
            failed = (await conn.execute(member_file_exports.update().where(
                member_file_exports.c.state == "running",
                member_file_exports.c.heartbeat_at < now - timedelta(seconds=self.stale_s)).values(
                state="failed", finished_at=now,
                error=f"interrupted: no progress for {int(self.stale_s)} s (the service was stopped); start it again")
                .returning(member_file_exports.c.export_id))).scalars().all()
            expired = sa.select(member_file_exports.c.export_id).where(member_file_exports.c.expires_at < now)
            await conn.execute(member_file_export_parts.delete().where(
                member_file_export_parts.c.export_id.in_(expired)))
        for export_id in failed:
            log.warning("member-file export interrupted, marked failed", export_id=export_id)
        return len(failed)

    async def progress(self, p: Principal, export_id: str) -> dict[str, Any]:
        """Where a job stands (total, done, percent, state); only its starter or an HQ admin may see it."""
        await self.sweep()
        async with self.engine.connect() as conn:
            return self._shown(await self._mine(conn, p, export_id))

    async def listing(self, p: Principal, started_by: str | None, state: str | None, limit: int,
                      before: str | None) -> list[dict[str, Any]]:
        """Jobs newest first: an HQ admin's view is every job (or one person's), anyone else's their own."""
        await self.sweep()
        t = member_file_exports.c
        q = sa.select(member_file_exports)
        if p.role != Role.HQ_ADMIN:
            q = q.where(t.started_by == p.staff_id)
        elif started_by:
            q = q.where(t.started_by == started_by)
        if state:
            q = q.where(t.state == state)
        if before:
            q = q.where(keyset.before(t.started_at, t.export_id, before))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q.order_by(t.started_at.desc(), t.export_id.desc()).limit(limit))).all()
        return [self._shown(r) for r in rows]

    async def download(self, p: Principal, export_id: str) -> AsyncIterator[bytes]:
        """The finished file, a part at a time. The download is access-logged (M-07) with the member ids of every
        part, one row per part, before a byte is sent; only the starter or an HQ admin may download."""
        await self.sweep()
        async with self.engine.begin() as conn:
            job = await self._mine(conn, p, export_id)
            if job.state != "done":
                raise RuleViolation("M-07", "export_id", f"the export is {job.state}; only a finished one is "
                                                         "downloaded")
            if job.expires_at < self.clock():
                raise RuleViolation("M-07", "export_id", "the file was deleted after its keep time; export again")
            parts = (await conn.execute(sa.select(member_file_export_parts.c.part_no,
                                                  member_file_export_parts.c.member_ids)
                                        .where(member_file_export_parts.c.export_id == export_id)
                                        .order_by(member_file_export_parts.c.part_no))).all()
            now, why = self.clock(), _logged_reason(job.reason, export_id)
            entries = [{"at": now, "staff_id": p.staff_id, "role": p.role.value, "action": "export:download",
                        "member_ids": list(x.member_ids), "reason": why} for x in parts if x.member_ids]
            await conn.execute(access_log.insert(), entries or [{"at": now, "staff_id": p.staff_id,
                                                                 "role": p.role.value, "action": "export:download",
                                                                 "member_ids": [], "reason": why}])
        numbers = [x.part_no for x in parts]
        return self._stream(export_id, numbers)

    async def _stream(self, export_id: str, numbers: list[int]) -> AsyncIterator[bytes]:
        t = member_file_export_parts.c
        for i in range(0, len(numbers), 4):
            async with self.engine.connect() as conn:
                bodies = (await conn.execute(sa.select(t.body).where(t.export_id == export_id,
                                                                      t.part_no.in_(numbers[i:i + 4]))
                                             .order_by(t.part_no))).scalars().all()
            for b in bodies:
                yield self.keys.decrypt(b).encode()

    async def _mine(self, conn: AsyncConnection, p: Principal, export_id: str) -> Any:
        job = (await conn.execute(sa.select(member_file_exports)
                                  .where(member_file_exports.c.export_id == export_id))).first()
        if job is None:
            raise NotFound("export_id", f"no export {export_id}")
        if job.started_by != p.staff_id and p.role != Role.HQ_ADMIN:
            raise Forbidden("M-07", "export_id", "only the person who started the export, or an HQ admin, may "
                                                 "follow or download it")
        return job

    def _shown(self, r: Any) -> dict[str, Any]:
        secs = ((r.finished_at or self.clock()) - r.started_at).total_seconds()
        return {"export_id": r.export_id, "state": r.state, "total": r.total, "done": r.done,
                "percent": round(100 * r.done / r.total, 1) if r.total else (100.0 if r.state == "done" else 0.0),
                "started_by": r.started_by, "role": r.role, "reason": r.reason, "filters": r.filters,
                "error": r.error, "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                "expires_at": r.expires_at.isoformat(), "seconds": round(secs, 2),
                "file": f"/v1/member-file-exports/{r.export_id}/file" if r.state == "done" else None}


class ExportSweeper(Ticker):
    """At start-up and every `interval_s`: exports left running by a stopped process are marked failed, files
    past their keep time deleted (FileExports.sweep)."""

    def __init__(self, exports: FileExports, interval_s: float = 60.0) -> None:
        super().__init__(interval_s, "members export sweeper")
        self.exports = exports

    async def tick(self) -> None:
        await self.exports.sweep()


class _Abandoned(Exception):
    """The job is no longer running (the sweeper failed it): stop writing."""


def _logged_reason(reason: str, export_id: str) -> str:
    return f"{reason} (export {export_id})"


def _cell(v: Any) -> Any:
    return "" if v is None else v
