"""Import of existing customers from spreadsheets (M-19): every row validated by M-02 (and M-05, M-06, M-16),
each row imported whole or refused with its reasons, progress kept in the database for the API and CLI."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.contracts.members import MemberRegistered, OpeningBalance
from vipcore.db import is_transient
from vipcore.errors import NotFound, RuleViolation
from vipcore.events import Envelope
from vipcore.exports import csv_text
from vipcore.logs import get_logger
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring, encrypt, mask_mobile, mask_name, mobile_index, name_index
from vipcore.redact import safe_error
from vipcore.topics import MEMBERS_EVENTS

from ..adapters import keyset
from ..adapters.cards import next_numbers, record_cards
from ..adapters.tables import blacklist, import_openings, import_rejects, imports, members, staff, stores
from ..domain import importing
from ..domain.cards import valid_until
from ..domain.validation import parse_birth
from .validity import CardValidity

log = get_logger(__name__)
CHUNK = 5000


class Where(NamedTuple):
    """What every row of one import shares: the store, its region and card validity (M-17), the tiers of the
    store's program (an opening tier must be one, L-04), the import and its operator (the opening's cause)."""

    store_id: str
    region: str
    years: int
    program: str | None
    tiers: list[str] | None
    import_id: str
    started_by: str | None


class Importer:
    def __init__(self, engine: AsyncEngine, index_key: str, enc_key: Keyring, topic_prefix: str, wake: Any,
                 clock: Callable[[], datetime], validity: CardValidity, event_keys: Keyring,
                 tiers: dict[str, list[str]] | None = None) -> None:
        self.event_keys = event_keys
        self.tiers = tiers or {}  # program id -> its tier codes (programs/*.yaml), to check an opening tier
        self.engine = engine
        self.validity = validity
        self.index_key = index_key
        self.enc_key = enc_key
        self.topic = topic_prefix + MEMBERS_EVENTS.name
        self.wake = wake
        self.clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self, store_id: str, filename: str, fmt: str, content: bytes, mapping: str | None,
                    started_by: str | None = None) -> str:
        """Parse the file, record the import (with its operator, `started_by`) and run it in the background;
        returns the import id. A file (or a mapping) that cannot be read is refused as a whole (M-19)."""
        try:
            extra = importing.parse_mapping(mapping)
        except importing.BadMapping as e:
            raise RuleViolation("M-19", "mapping", str(e)) from None
        try:
            rows = list(importing.read_rows(content, fmt))
        except Exception as e:  # noqa: BLE001 - whatever the reader trips on, the upload is at fault
            raise RuleViolation("M-19", "body", str(e) if isinstance(e, ValueError)
                                else f"unreadable {fmt} file ({type(e).__name__})") from None
        header, body = (rows[0], rows[1:]) if rows else ([], [])
        cols = importing.header_map(header, extra)
        import_id = "I" + uuid.uuid4().hex[:15]
        async with self.engine.begin() as conn:
            store = (await conn.execute(sa.select(stores.c.region_code, stores.c.program)
                                        .where(stores.c.store_id == store_id))).first()
            if store is None:
                raise RuleViolation("O-01", "store_id", f"no store {store_id}")
            await conn.execute(imports.insert().values(
                import_id=import_id, store_id=store_id, filename=filename, status="running", total=len(body),
                processed=0, imported=0, rejected=0, started_at=self.clock(), started_by=started_by))
        program = str(store.program) if store.program else None
        where = Where(store_id, str(store.region_code), 0, program, self.tiers.get(program or ""), import_id,
                      started_by)
        task = asyncio.create_task(self._run(where, cols, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return import_id

    async def _run(self, where: Where, cols: dict[int, str], body: list[list[Any]]) -> None:
        import_id, store_id = where.import_id, where.store_id
        try:
            async with self.engine.connect() as conn:
                employees = set((await conn.execute(sa.select(staff.c.mobile_index)
                                                    .where(staff.c.mobile_index.is_not(None)))).scalars())
                listed = set((await conn.execute(sa.select(blacklist.c.mobile_index)
                                                 .where(blacklist.c.lifted_at.is_(None)))).scalars())
                store_staff = set((await conn.execute(sa.select(staff.c.staff_id)
                                                      .where(staff.c.store_id == store_id))).scalars())
                where = where._replace(years=await self.validity.years_for_store(conn, store_id))  # M-17
            seen: set[str] = set()
            for start in range(0, len(body), CHUNK):
                chunk = [(start + i + 2, r) for i, r in enumerate(body[start:start + CHUNK])]  # row 1 is the header
                await self._chunk(where, cols, chunk, employees, listed, store_staff, seen)
            status = "done"
        except Exception as e:  # noqa: BLE001 - recorded on the import, visible through the API
            log.error("import failed", import_id=import_id, error=safe_error(e))
            status = "failed"
        async with self.engine.begin() as conn:
            await conn.execute(imports.update().where(imports.c.import_id == import_id)
                               .values(status=status, finished_at=self.clock()))
        self.wake()

    async def _chunk(self, where: Where, cols: dict[int, str], chunk: list[tuple[int, list[Any]]],
                     employees: set[str], listed: set[str], store_staff: set[str], seen: set[str]) -> None:
        store_id, import_id = where.store_id, where.import_id
        good: list[tuple[int, dict[str, str], str]] = []
        rejects: list[dict[str, Any]] = []
        for row_no, raw in chunk:
            f = importing.row_fields(cols, raw)
            reasons = importing.validate(f)
            mi = mobile_index(self.index_key, f["mobile"]) if "mobile" in f and not reasons else ""
            if mi in employees:
                reasons.append("mobile belongs to a company employee (M-05)")
            if mi in listed:
                reasons.append("phone is blacklisted (M-16)")
            if mi and mi in seen:
                reasons.append("same mobile twice in this file (M-06)")
            ref = f.get("referrer_staff_id")
            if ref and ref not in store_staff:
                reasons.append(f"referrer {ref} is not staff of store {store_id} (M-06)")
            if bad_tier := importing.opening_tier_reason(f.get("opening_tier"), where.program, where.tiers):
                reasons.append(bad_tier)
            if reasons:
                rejects.append(self._reject(import_id, row_no, f, reasons))
                continue
            seen.add(mi)
            good.append((row_no, f, mi))
        imported = 0
        async with self.engine.begin() as conn:
            if good:
                existing = set((await conn.execute(sa.select(members.c.mobile_index).where(
                    members.c.store_id == store_id, members.c.mobile_index.in_([g[2] for g in good])))).scalars())
                for row_no, f, _ in [g for g in good if g[2] in existing]:
                    rejects.append(self._reject(import_id, row_no, f, ["mobile already has a file in this store "
                                                                       "(M-06)"]))
                good = [g for g in good if g[2] not in existing]
            imported = await self._insert_isolating(conn, import_id, where, good, rejects)
            if rejects:
                await conn.execute(import_rejects.insert(), rejects)
            await conn.execute(imports.update().where(imports.c.import_id == import_id).values(
                processed=imports.c.processed + len(chunk), imported=imports.c.imported + imported,
                rejected=imports.c.rejected + len(rejects)))
        self.wake()

    async def _insert_isolating(self, conn: Any, import_id: str, where: Where,
                                good: list[tuple[int, dict[str, str], str]], rejects: list[dict[str, Any]]) -> int:
        """M-19: each row committed whole or not at all, and a row the database refuses costs only itself.

        The rows go in inside one savepoint (fast path). If the database refuses them — a file registered
        concurrently for the same mobile (M-06 unique), or any other constraint — the savepoint is rolled back
        (card numbers included: no gaps) and the rows are halved until each refused row stands alone; it is
        reported with its reason and every other row is imported. One bad row in 5,000 costs ~26 savepoints."""
        if not good:
            return 0
        try:
            async with conn.begin_nested():
                return await self._insert(conn, where, good)
        except DBAPIError as e:
            if is_transient(e):
                raise  # the database is gone: the import fails visibly, nothing is reported as the row's fault
            if len(good) == 1:
                rejects.append(self._reject(import_id, good[0][0], good[0][1], [_db_reason(e)]))
                return 0
        half = len(good) // 2
        return (await self._insert_isolating(conn, import_id, where, good[:half], rejects)
                + await self._insert_isolating(conn, import_id, where, good[half:], rejects))

    def _reject(self, import_id: str, row_no: int, f: dict[str, str], reasons: list[str]) -> dict[str, Any]:
        shown = {k: _printable(val) for k, val in f.items()}  # a NUL the database refused must not sink the report
        if "mobile" in f:
            shown["mobile"] = mask_mobile(shown["mobile"])
        return {"import_id": import_id, "row_no": row_no, "reasons": "; ".join(reasons), "row": shown}

    async def _insert(self, conn: Any, where: Where, good: list[tuple[int, dict[str, str], str]]) -> int:
        """Each row whole: member file, card, opening balance and event together (M-19 never half-imports a row);
        the card is valid for the store's program's years (M-17)."""
        if not good:
            return 0
        store_id = where.store_id
        numbers = await next_numbers(conn, where.region, len(good))
        now = self.clock()
        rows, events, openings = [], [], []
        for (row_no, f, mi), card in zip(good, numbers, strict=True):
            member_id = "M" + uuid.uuid4().hex[:15]
            name_idx = name_index(self.index_key, f["full_name"])
            birthday = _birthday(f.get("birth_date"))
            details = {k: f[k] for k in ("gender", "birth_date", "address", "work_unit", "position",
                                         "customer_class") if k in f}
            rows.append({"member_id": member_id, "store_id": store_id, "referrer_staff_id": f.get("referrer_staff_id"),
                         "full_name": f["full_name"], "name_index": name_idx,
                         "mobile_enc": encrypt(self.enc_key, f["mobile"]), "mobile_index": mi, "card_no": card,
                         "card_status": "active", "status": "active", "birthday": birthday, "details": details,
                         "created_at": now})
            opening = _opening(where, row_no, f)
            if opening is not None:
                openings.append({"member_id": member_id, "import_id": where.import_id, "row_no": row_no,
                                 "points": opening.points, "tier": opening.tier,
                                 "stored_value": opening.stored_value, "created_at": now})
            events.append(OutgoingEvent(self.topic, member_id, Envelope.new(MemberRegistered(
                member_id=member_id, store_id=store_id, referrer_staff_id=f.get("referrer_staff_id"),
                display_name=mask_name(f["full_name"]), name_index=name_idx, mobile_index=mi,
                mobile_enc=self.event_keys.encrypt(f["mobile"]),
                card_no=card, birthday=birthday, customer_class=f.get("customer_class"), opening=opening),
                source="members", subject=member_id, time=now)))
        await conn.execute(members.insert(), rows)
        if openings:
            await conn.execute(import_openings.insert(), openings)
        until = valid_until(now.date(), where.years)
        await record_cards(conn, [{"card_no": r["card_no"], "member_id": r["member_id"], "store_id": store_id,
                                   "status": "active", "issued_at": now, "valid_until": until} for r in rows])
        await add_to_outbox(conn, events)
        return len(rows)

    async def progress(self, import_id: str) -> dict[str, Any]:
        """Where an import stands: total, processed, imported, rejected, percent (M-19)."""
        async with self.engine.connect() as conn:
            r = (await conn.execute(sa.select(imports).where(imports.c.import_id == import_id))).first()
        if r is None:
            raise NotFound("import_id", f"no import {import_id}")
        return self._shown(r)

    def _shown(self, r: Any) -> dict[str, Any]:
        secs = ((r.finished_at or self.clock()) - r.started_at).total_seconds()
        return {**r._asdict(), "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                "percent": round(100 * r.processed / r.total, 1) if r.total else 100.0,
                "seconds": round(secs, 2)}

    async def recent(self, store_id: str | None, status: str | None, limit: int,
                     before: str | None) -> list[dict[str, Any]]:
        """Imports newest first with their progress (M-19), optionally of one store or in one status; `before` is
        the last import id of the previous page (keyset on started_at, import_id)."""
        q = sa.select(imports)
        if store_id:
            q = q.where(imports.c.store_id == store_id)
        if status:
            q = q.where(imports.c.status == status)
        if before:
            q = q.where(keyset.before(imports.c.started_at, imports.c.import_id, before))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q.order_by(imports.c.started_at.desc(), imports.c.import_id.desc())
                                       .limit(limit))).all()
        return [self._shown(r) for r in rows]

    async def rejects_csv(self, import_id: str) -> str:
        """The rejected rows with their reasons, as CSV (the downloadable report)."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(import_rejects).where(import_rejects.c.import_id == import_id)
                                       .order_by(import_rejects.c.row_no))).all()
        return rejects_csv(rows)


def rejects_csv(rows: Any) -> str:
    """row, reasons, full_name, mobile: the uploaded text is anyone's, so a cell never starts a formula
    (vipcore.exports)."""
    return csv_text(["row", "reasons", "full_name", "mobile"],
                    ([r.row_no, r.reasons, r.row.get("full_name", ""), r.row.get("mobile", "")] for r in rows),
                    lineterminator="\r\n")


def _opening(where: Where, row_no: int, f: dict[str, str]) -> OpeningBalance | None:
    """The opening balance a validated row brings (M-19) — points, tier, stored value in fen (L-11) — with its
    cause: the import, the row, the operator."""
    if "opening_points" not in f and "opening_tier" not in f and "opening_stored_value" not in f:
        return None
    points = importing.opening_points(f.get("opening_points", "0"))
    stored = importing.opening_stored_value(f.get("opening_stored_value", "0"))  # fen (L-11)
    assert points is not None and stored is not None  # validated by importing.validate
    return OpeningBalance(points=points, tier=f.get("opening_tier"), import_id=where.import_id, row_no=row_no,
                          operator=where.started_by, stored_value=stored)


def _birthday(value: str | None) -> date | None:
    if not value:
        return None
    year, month, day = parse_birth(value)
    return date(year or 1904, month, day)


def _db_reason(e: DBAPIError) -> str:
    """Why the database refused a row, without echoing its values (they may hold the mobile)."""
    cause = e.orig.__cause__ if e.orig is not None and e.orig.__cause__ is not None else e.orig
    constraint = getattr(cause, "constraint_name", None)
    if constraint == "members_one_file_per_store":
        return "mobile already has a file in this store (M-06)"
    if isinstance(e, IntegrityError):
        return f"refused by the database: constraint {constraint or 'violated'} (M-19)"
    return f"refused by the database: {getattr(cause, 'sqlstate', None) or type(cause).__name__} (M-19)"


def _printable(value: str) -> str:
    """Control characters (NUL, which PostgreSQL text and JSON refuse, among them) shown as U+FFFD in the report."""
    return "".join(c if c >= " " or c in "\t" else "\ufffd" for c in value)
