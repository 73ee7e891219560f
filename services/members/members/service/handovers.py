"""Hand-over workflow (M-12): files move to the receiver; consumption records stay with whoever earned them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.auth import Principal, Role
from vipcore.contracts.members import HandoverCompleted
from vipcore.errors import Conflict, Forbidden, NotFound, RuleViolation
from vipcore.events import Envelope
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring
from vipcore.topics import MEMBERS_EVENTS

from ..adapters import keyset
from ..adapters.tables import handover_files, handovers, members, staff
from ..domain.access import HQ
from ..domain.handover import FILE_STEPS, STEPS, FileProgress, WrongState, advance, file_step, state_of
from ..entrypoints.schemas import HandoverIn, StepIn

OPEN_FILES = ("incomplete", "pending_review", "rejected", "active")


class Handovers:
    def __init__(self, engine: AsyncEngine, topic_prefix: str, wake: Any, clock: Callable[[], datetime],
                 event_keys: Keyring) -> None:
        self.engine = engine
        self.event_keys = event_keys
        self.topic = topic_prefix + MEMBERS_EVENTS.name
        self.wake = wake
        self.clock = clock

    async def request(self, p: Principal, h: HandoverIn) -> dict[str, Any]:
        """A store lead asks to hand a referrer's members to a colleague of the same store."""
        now = self.clock()
        async with self.engine.begin() as conn:
            people = {r.staff_id: r.store_id for r in (await conn.execute(
                sa.select(staff.c.staff_id, staff.c.store_id)
                .where(staff.c.staff_id.in_([h.from_staff_id, h.to_staff_id])))).all()}
            for f in ("from_staff_id", "to_staff_id"):
                if people.get(getattr(h, f)) != p.store_id:
                    raise RuleViolation("M-12", f, f"{getattr(h, f)} is not staff of store {p.store_id}")
            q = sa.select(members.c.member_id).where(members.c.store_id == p.store_id,
                                                     members.c.referrer_staff_id == h.from_staff_id,
                                                     members.c.status.in_(OPEN_FILES))
            if h.member_ids is not None:
                q = q.where(members.c.member_id.in_(h.member_ids))
            ids = list((await conn.execute(q.order_by(members.c.member_id))).scalars())
            if not ids or (h.member_ids is not None and len(ids) != len(set(h.member_ids))):
                raise RuleViolation("M-12", "member_ids",
                                    f"name open files referred by {h.from_staff_id} in this store")
            hid = "H" + uuid.uuid4().hex[:15]
            await conn.execute(handovers.insert().values(
                handover_id=hid, store_id=p.store_id, from_staff_id=h.from_staff_id, to_staff_id=h.to_staff_id,
                type=h.type, reason=h.reason, member_ids=ids, state="requested", raised_at=now,
                history=[{"step": "request", "state": "requested", "by": p.staff_id, "at": now.isoformat()}]))
        return {"handover_id": hid, "state": "requested", "member_ids": ids}

    async def step(self, p: Principal, handover_id: str, step: str, body: StepIn) -> dict[str, Any]:
        now = self.clock()
        s = STEPS[step]
        events: list[OutgoingEvent] = []
        async with self.engine.begin() as conn:
            h = (await conn.execute(sa.select(handovers).where(handovers.c.handover_id == handover_id)
                                    .with_for_update())).first()
            if h is None or (p.role not in HQ and h.store_id != p.store_id):
                raise NotFound("handover_id", f"no hand-over {handover_id}")
            if s.receiver_only and p.staff_id != h.to_staff_id:
                raise Forbidden("M-12", "staff_id", f"only the receiver {h.to_staff_id} takes the '{step}' step")
            try:
                state = advance(h.state, step, body.decision == "approve")
            except WrongState as e:
                raise Conflict("M-12", "state", str(e)) from None
            if state == "confirmed":  # formal link: the files move; consumptions stay with whoever earned them
                await conn.execute(pg_insert(handover_files).on_conflict_do_nothing(),
                                   [{"handover_id": handover_id, "member_id": m} for m in h.member_ids])
                await conn.execute(members.update().where(members.c.member_id.in_(h.member_ids))
                                   .values(referrer_staff_id=h.to_staff_id))
                name = await conn.scalar(sa.select(staff.c.name).where(staff.c.staff_id == h.to_staff_id))
                events.append(OutgoingEvent(self.topic, handover_id, Envelope.new(HandoverCompleted(
                    handover_id=handover_id, store_id=h.store_id, from_staff_id=h.from_staff_id,
                    to_staff_id=h.to_staff_id, to_staff_name_enc=self.event_keys.encrypt(str(name)),
                    member_ids=list(h.member_ids)),
                    source="members", subject=handover_id, time=now)))
            history = [*h.history, {"step": step, "state": state, "by": p.staff_id, "at": now.isoformat(),
                                    "note": body.note}]
            await conn.execute(handovers.update().where(handovers.c.handover_id == handover_id)
                               .values(state=state, history=history))
            await add_to_outbox(conn, events)
        if events:
            self.wake()
        return {"handover_id": handover_id, "state": state}

    async def file_step(self, p: Principal, handover_id: str, member_id: str, step: str,
                        body: StepIn) -> dict[str, Any]:
        """M-12 after HQ's confirmation: the receiver re-checks each file, the store manager approves each one
        (or sends it back); the last approval completes the hand-over. Every step is in the record."""
        now = self.clock()
        async with self.engine.begin() as conn:
            h = (await conn.execute(sa.select(handovers).where(handovers.c.handover_id == handover_id)
                                    .with_for_update())).first()
            if h is None or (p.role not in HQ and h.store_id != p.store_id):
                raise NotFound("handover_id", f"no hand-over {handover_id}")
            if FILE_STEPS[step].receiver_only and p.staff_id != h.to_staff_id:
                raise Forbidden("M-12", "staff_id", f"only the receiver {h.to_staff_id} re-checks the files")
            if member_id not in h.member_ids:
                raise NotFound("member_id", f"member {member_id} is not in hand-over {handover_id}")
            rows = {r.member_id: r for r in (await conn.execute(
                sa.select(handover_files).where(handover_files.c.handover_id == handover_id))).all()}
            progress = {m: FileProgress(m, rows[m].rechecked_at is not None, rows[m].approved_at is not None)
                        if m in rows else FileProgress(m) for m in h.member_ids}
            try:
                after = file_step(h.state, progress[member_id], step, body.decision == "approve")
            except WrongState as e:
                raise Conflict("M-12", "state", str(e)) from None
            progress[member_id] = after
            values: dict[str, Any] = (
                {"rechecked_by": p.staff_id, "rechecked_at": now, "recheck_note": body.note} if step == "recheck"
                else {"approved_by": p.staff_id, "approved_at": now, "approval_note": body.note} if after.approved
                else {"rechecked_by": None, "rechecked_at": None, "approval_note": body.note})
            await conn.execute(pg_insert(handover_files).values(handover_id=handover_id, member_id=member_id,
                                                                **values)
                               .on_conflict_do_update(index_elements=["handover_id", "member_id"], set_=values))
            state = state_of(list(progress.values()))
            entry = {"step": step if after.approved or step == "recheck" else "send_back", "member_id": member_id,
                     "state": state, "by": p.staff_id, "at": now.isoformat(), "note": body.note}
            history = [*h.history, entry] + ([{"step": "complete", "state": state, "by": p.staff_id,
                                               "at": now.isoformat()}] if state == "completed" else [])
            await conn.execute(handovers.update().where(handovers.c.handover_id == handover_id)
                               .values(state=state, history=history))
        return {"handover_id": handover_id, "member_id": member_id, "file": "approved" if after.approved else
                "rechecked" if after.rechecked else "to_recheck", "state": state}

    async def listing(self, p: Principal, state: str | None, staff_id: str | None, store_id: str | None,
                      limit: int, before: str | None) -> list[dict[str, Any]]:
        """Hand-overs the caller may read, newest first (M-12): HQ every store's (or one store's), a store lead
        their store's, staff those they give or receive; optionally in one state or involving one staff member.
        `before` is the last id of the previous page (keyset on raised_at, handover_id)."""
        q = sa.select(handovers.c.handover_id, handovers.c.store_id, handovers.c.from_staff_id,
                      handovers.c.to_staff_id, handovers.c.type, handovers.c.reason, handovers.c.state,
                      handovers.c.raised_at, sa.func.cardinality(handovers.c.member_ids).label("files"))
        if p.role in HQ:
            if store_id:
                q = q.where(handovers.c.store_id == store_id)
        else:
            q = q.where(handovers.c.store_id == p.store_id)
            if p.role == Role.STAFF:
                q = q.where(sa.or_(handovers.c.from_staff_id == p.staff_id, handovers.c.to_staff_id == p.staff_id))
        if state:
            q = q.where(handovers.c.state == state)
        if staff_id:
            q = q.where(sa.or_(handovers.c.from_staff_id == staff_id, handovers.c.to_staff_id == staff_id))
        if before:
            q = q.where(keyset.before(handovers.c.raised_at, handovers.c.handover_id, before))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q.order_by(handovers.c.raised_at.desc(), handovers.c.handover_id.desc())
                                       .limit(limit))).all()
        return [{**r._asdict(), "raised_at": r.raised_at.isoformat()} for r in rows]

    async def get(self, p: Principal, handover_id: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            h = (await conn.execute(sa.select(handovers).where(handovers.c.handover_id == handover_id))).first()
            files = (await conn.execute(sa.select(handover_files).where(handover_files.c.handover_id == handover_id)
                                        .order_by(handover_files.c.member_id))).mappings().all()
        if h is None or (p.role not in HQ and h.store_id != p.store_id) or (
                p.role == Role.STAFF and p.staff_id not in (h.from_staff_id, h.to_staff_id)):
            raise NotFound("handover_id", f"no hand-over {handover_id}")
        return {**h._asdict(), "raised_at": h.raised_at.isoformat(),
                "files": [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in f.items()
                           if k != "handover_id"} for f in files]}
