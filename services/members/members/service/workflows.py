"""Requests with a 12-hour target, raised by one role and decided by another: staff accounts (O-03),
deletions (M-15, soft and audited), time-limited access grants (M-07); plus the HQ spot check (M-04)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.auth import Principal, Role
from vipcore.contracts.members import MemberStateChanged
from vipcore.errors import Conflict, Forbidden, NotFound, RuleViolation
from vipcore.events import Envelope
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring, decrypt, encrypt, mask_mobile, mobile_index
from vipcore.topics import MEMBERS_EVENTS

from ..adapters.tables import access_log, members, requests, staff
from ..domain.access import HQ, RequestKind
from ..domain.passwords import hash_password
from ..entrypoints.schemas import DecisionIn, LeaveIn, RequestIn
from . import reviewers, staffdir
from .files import MemberFiles


class Workflows:
    def __init__(self, engine: AsyncEngine, files: MemberFiles, index_key: str, topic_prefix: str, wake: Any,
                 clock: Callable[[], datetime], enc_key: Keyring | None = None) -> None:
        self.engine = engine
        self.files = files
        self.index_key = index_key
        self.enc_key = enc_key or files.enc_key
        self.topic = topic_prefix + MEMBERS_EVENTS.name
        self.wake = wake
        self.clock = clock

    async def raise_request(self, k: RequestKind, p: Principal, body: RequestIn) -> dict[str, Any]:
        if not p.store_id:
            raise Forbidden(k.rule, "store", "requests are raised by a store")
        payload: dict[str, Any] = {"hours": body.hours} if k.kind == "grant" else {}
        if k.kind == "account":
            if body.account is None:
                raise RuleViolation(k.rule, "account", "name the new account")
            a = body.account
            phone = staffdir.clean_mobile("account.mobile", a.mobile)  # kept encrypted until the account opens
            payload = a.model_dump(exclude={"mobile"}) | ({"mobile_enc": encrypt(self.enc_key, phone)} if phone else {})
        elif not body.member_id:
            raise RuleViolation(k.rule, "member_id", "name the member")
        async with self.engine.begin() as conn:
            if body.member_id:
                file = (await conn.execute(sa.select(members.c.store_id, members.c.status).where(
                    members.c.member_id == body.member_id).with_for_update())).first()  # one raise at a time
                if file is None or file.store_id != p.store_id:
                    raise NotFound("member_id", f"no member file {body.member_id} in store {p.store_id}")
                if k.kind == "deletion":
                    await self._deletable(conn, body.member_id, file.status)
            rid = "R" + uuid.uuid4().hex[:15]
            now = self.clock()
            reviewer = await reviewers.assign(conn, k.kind, now) if k.assigned else None
            await conn.execute(requests.insert().values(
                request_id=rid, kind=k.kind, store_id=p.store_id, member_id=body.member_id, raised_by=p.staff_id,
                reason=body.reason, payload=payload, status="pending", raised_at=now, reviewer=reviewer))
            route = await reviewers.routes(conn, now)
        return {"request_id": rid, "status": "pending", "reviewer": reviewer, "routed_to": route(reviewer)}

    async def decide(self, k: RequestKind, p: Principal, request_id: str, d: DecisionIn) -> dict[str, Any]:
        now = self.clock()
        events: list[OutgoingEvent] = []
        async with self.engine.begin() as conn:
            r = (await conn.execute(sa.select(requests).where(requests.c.request_id == request_id,
                                                              requests.c.kind == k.kind).with_for_update())).first()
            if r is None or (p.role not in HQ and r.store_id != p.store_id):
                raise NotFound("request_id", f"no {k.kind} request {request_id}")
            if r.status != "pending":
                raise Conflict(k.rule, "status", f"request is {r.status}")
            who = (await reviewers.routes(conn, now))(r.reviewer)
            if who is not None and who != p.staff_id:  # O-03: the assigned reviewer, or their delegate on leave
                raise Forbidden("O-03", "reviewer", f"request {request_id} is with {who}" + (
                        f" (delegate of {r.reviewer}, on leave)" if who != r.reviewer else ""))
            note = (d.note or "").strip() or None
            if d.decision == "reject" and k.kind == "deletion" and note is None:
                raise RuleViolation(k.rule, "note", "a rejected deletion request tells the store why: give a note")
            values: dict[str, Any] = {"status": "approved" if d.decision == "approve" else "rejected",
                                      "decided_by": p.staff_id, "decided_at": now, "decision_note": note}
            if d.decision == "approve":
                if k.kind == "account":
                    if not d.initial_password:
                        raise RuleViolation(k.rule, "initial_password", "opening an account sets its first password")
                    events += await self._open_account(conn, r.store_id, r.payload, d.initial_password, now)
                elif k.kind == "deletion":
                    m = (await conn.execute(sa.select(members).where(members.c.member_id == r.member_id)
                                            .with_for_update())).one()
                    if m.status == "deleted":  # merged (M-06) or deleted since the request was raised
                        raise Conflict("M-08", "member_id", f"file {m.member_id} is already deleted")
                    await conn.execute(members.update().where(members.c.member_id == r.member_id)
                                       .values(status="deleted"))
                    events.append(OutgoingEvent(self.topic, m.member_id, Envelope.new(MemberStateChanged(
                        member_id=m.member_id, store_id=m.store_id, from_state=m.status, to_state="deleted",
                        reason=f"M-15: request {request_id} by {r.raised_by}, approved by {p.staff_id}: {r.reason}"),
                        source="members", subject=m.member_id, time=now)))
                else:
                    values["valid_until"] = now + timedelta(hours=int(r.payload.get("hours", 8)))
            await conn.execute(requests.update().where(requests.c.request_id == request_id).values(**values))
            await add_to_outbox(conn, events)
        if events:
            self.wake()
        return {"request_id": request_id, "status": values["status"],
                "valid_until": values["valid_until"].isoformat() if "valid_until" in values else None}

    @staticmethod
    async def _deletable(conn: Any, member_id: str, status: str) -> None:
        """M-15: a file already deleted (or merged, M-06) is not asked for again, nor one with a request pending."""
        if status == "deleted":
            raise Conflict("M-08", "member_id", f"file {member_id} is already deleted")
        pending = await conn.scalar(sa.select(requests.c.request_id).where(
            requests.c.kind == "deletion", requests.c.member_id == member_id, requests.c.status == "pending").limit(1))
        if pending:
            raise Conflict("M-15", "member_id", f"deletion request {pending} for this file is already pending")

    async def _open_account(self, conn: Any, store_id: str, a: dict[str, Any], password: str,
                            now: datetime) -> list[OutgoingEvent]:
        """O-03: HQ opens the account; the new staff member enters the directory (members.staff.changed)."""
        if await conn.scalar(sa.select(staff.c.staff_id).where(staff.c.staff_id == a["staff_id"])):
            raise Conflict("O-03", "account.staff_id", f"{a['staff_id']} is already on the staff register")
        leader = a.get("line_leader_staff_id")
        await staffdir.check_leaders(conn, [("account.line_leader_staff_id", a["staff_id"], leader)], set())
        mobile = decrypt(self.enc_key, a["mobile_enc"]) if a.get("mobile_enc") else None
        await conn.execute(staff.insert().values(
            staff_id=a["staff_id"], store_id=store_id, name=a["name"], position=a["position"], role=a["role"],
            password_hash=hash_password(password), line_leader_staff_id=leader,
            mobile_index=mobile_index(self.index_key, mobile) if mobile else None,
            mobile_enc=a.get("mobile_enc")))
        return await staffdir.changed_events(conn, {}, [a["staff_id"]], self.enc_key,
                                             self.files.event_keys, self.topic, now)

    async def queue(self, k: RequestKind, p: Principal, status: str, page: int = 1,
                    limit: int = 100) -> dict[str, Any]:
        """The requests of a kind with their age, oldest first, one page; pending ones past the target are flagged
        overdue. Decided ones accumulate: they are paged in the database."""
        cond = sa.and_(requests.c.kind == k.kind, requests.c.status == status,
                       *([requests.c.store_id == p.store_id] if p.role not in HQ else []),
                       *([requests.c.raised_by == p.staff_id] if p.role == Role.STAFF else []))
        q = sa.select(requests).where(cond).order_by(requests.c.raised_at, requests.c.request_id)
        own_queue = k.assigned and status == "pending" and p.role == Role.HQ_CS  # O-03: each reviewer's own queue
        now = self.clock()
        async with self.engine.connect() as conn:
            if own_queue:  # pending items (12-hour target, few): routed here, then paged
                rows = list((await conn.execute(q)).mappings().all())
            else:
                rows = list((await conn.execute(q.offset((page - 1) * limit).limit(limit))).mappings().all())
                total = int(await conn.scalar(sa.select(sa.func.count()).select_from(requests).where(cond)) or 0)
            route = await reviewers.routes(conn, now)
        if own_queue:
            rows = [r for r in rows if route(r["reviewer"]) in (None, p.staff_id)]
            total, rows = len(rows), rows[(page - 1) * limit: page * limit]
        out = []
        for r in rows:
            age = (now - r["raised_at"]).total_seconds() / 3600
            took = (r["decided_at"] - r["raised_at"]).total_seconds() / 3600 if r["decided_at"] else None
            out.append({"request_id": r["request_id"], "store_id": r["store_id"], "member_id": r["member_id"],
                        "raised_by": r["raised_by"], "reason": r["reason"], "status": r["status"],
                        "raised_at": r["raised_at"].isoformat(), "age_hours": round(age, 2),
                        "overdue": r["status"] == "pending" and age > k.target_hours,
                        "valid_until": r["valid_until"].isoformat() if r["valid_until"] else None,
                        "reviewer": r["reviewer"], "routed_to": route(r["reviewer"]),
                        "account": self._account_view(r["payload"]) if k.kind == "account" else None,
                        "decided_by": r["decided_by"],
                        "decided_at": r["decided_at"].isoformat() if r["decided_at"] else None,
                        "decision_note": r["decision_note"], "target_hours": k.target_hours,
                        "decided_in_hours": round(took, 2) if took is not None else None,
                        "decided_late": took is not None and took > k.target_hours})
        return {"items": out, "total": total, "page": page, "limit": limit}

    async def set_leave(self, p: Principal, body: LeaveIn) -> dict[str, Any]:
        """O-03: a reviewer on leave names a delegate; their queue goes to the delegate until the leave ends."""
        async with self.engine.begin() as conn:
            return await reviewers.set_leave(conn, p, body, self.clock())

    async def end_leave(self, p: Principal) -> dict[str, Any]:
        async with self.engine.begin() as conn:
            return await reviewers.end_leave(conn, p)

    def _account_view(self, a: dict[str, Any]) -> dict[str, Any]:
        """The requested account as the queue shows it: the mobile masked (N-06)."""
        out = {k: val for k, val in a.items() if k != "mobile_enc"}
        if a.get("mobile_enc"):
            out["mobile"] = mask_mobile(decrypt(self.enc_key, a["mobile_enc"]))
        return out

    async def spot_check(self, p: Principal, size: int, reason: str) -> list[dict[str, Any]]:
        """M-04: a random sample of approved files for HQ customer service; the sample is access-logged."""
        async with self.engine.begin() as conn:
            rows = (await conn.execute(sa.select(members).where(members.c.status == "active")
                                       .order_by(sa.func.random()).limit(size))).all()
            await conn.execute(access_log.insert().values(at=self.clock(), staff_id=p.staff_id, role=p.role.value,
                                                          action="spot_check", member_ids=[r.member_id for r in rows],
                                                          reason=reason))
        return [self.files.view(p, r) for r in rows]
