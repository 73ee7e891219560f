"""Member files by staff: two stages, review, visibility with an access log, cards, blacklist.

Rules: M-01..M-08, M-13, M-16, M-17. Each change and its events are written in one transaction (outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.auth import Principal, Role
from vipcore.contracts.members import (
    CardIssued,
    CardLost,
    CardReplaced,
    MemberApproved,
    MemberBlacklisted,
    MemberBlacklistLifted,
    MemberRegistered,
    MemberStateChanged,
    MemberUpdated,
)
from vipcore.errors import Conflict, Forbidden, NotFound, RuleViolation
from vipcore.events import EventData
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring, decrypt, encrypt, id_card_index, mask_mobile, mask_name, mobile_index, name_index
from vipcore.topics import MEMBERS_EVENTS

from ..adapters import reports
from ..adapters.cards import block_and_replace, next_numbers, record_cards
from ..adapters.tables import access_log, blacklist, file_changes, members, requests, staff, stores
from ..domain import validation as v
from ..domain.access import sees
from ..domain.cards import valid_until
from ..domain.filechanges import diff
from ..entrypoints.schemas import BlacklistIn, BlacklistLiftIn, FileChange, FileIn, ReviewIn
from .validity import CardValidity

REVIEW_TARGET_HOURS = 12  # M-04
SEES_MOBILE = {Role.STAFF, Role.STORE_CS_MANAGER}  # the referrer calls; the CS manager verifies (M-07, N-06)


DETAIL_FIELDS = ("gender", "birth_date", "address", "work_unit", "position", "customer_class", "account_size")


def _problems(errs: list[v.Fault]) -> RuleViolation:
    """Every M-01/M-02/M-14 fault of a file in one refusal: staff fix them all at once."""
    return RuleViolation.each([(f, m, r) for f, m, r in errs])


class MemberFiles:
    def __init__(self, engine: AsyncEngine, index_key: str, enc_key: Keyring, topic_prefix: str, wake: Any,
                 clock: Callable[[], datetime], validity: CardValidity, event_keys: Keyring) -> None:
        self.engine = engine
        self.index_key = index_key
        self.enc_key = enc_key
        self.event_keys = event_keys  # personal fields inside events (docs/architecture.md, Personal data)
        self.topic = topic_prefix + MEMBERS_EVENTS.name
        self.wake = wake
        self.clock = clock
        self.validity = validity  # M-17: card validity is the store's program's

    def _ev(self, key: str, data: EventData, subject: str | None = None) -> OutgoingEvent:
        from vipcore.events import Envelope

        return OutgoingEvent(self.topic, key, Envelope.new(data, source="members", subject=subject or key,
                                                           time=self.clock()))

    # ---- creation and changes (M-01..M-06, M-13) -------------------------------------------------

    async def create(self, p: Principal, f: FileIn) -> dict[str, Any]:
        """Open a file for a customer of the caller's store; complete files wait for review (M-03, M-04)."""
        fields = v.FileFields(**f.model_dump(exclude={"referrer_staff_id"}))
        errs = v.check(fields)
        if errs:
            raise _problems(errs)
        mobile = f.mobile.strip()
        mi = mobile_index(self.index_key, mobile)
        referrer = p.staff_id if p.role == Role.STAFF else (f.referrer_staff_id or p.staff_id)
        now = self.clock()
        stage = v.stage_of(fields)
        status = "pending_review" if stage == 2 else "incomplete"
        member_id = "M" + uuid.uuid4().hex[:15]
        async with self.engine.begin() as conn:
            await self._refuse_staff_and_blacklisted(conn, mi)
            ref_store = await conn.scalar(sa.select(staff.c.store_id).where(staff.c.staff_id == referrer))
            if ref_store != p.store_id:
                raise RuleViolation("M-06", "referrer_staff_id", f"{referrer} is not staff of store {p.store_id}")
            if await conn.scalar(sa.select(members.c.member_id).where(
                    members.c.store_id == p.store_id, members.c.mobile_index == mi)):
                raise Conflict("M-06", "mobile", "this mobile already has a file (and a referrer) in this store; "
                               "the store's customer-service manager may merge files by agreement")
            await conn.execute(members.insert().values(
                member_id=member_id, store_id=p.store_id, referrer_staff_id=referrer, full_name=f.full_name.strip(),
                name_index=name_index(self.index_key, f.full_name), mobile_enc=encrypt(self.enc_key, mobile),
                mobile_index=mi, card_no=None, card_status="none", status=status, birthday=_birthday(f.birth_date),
                details=_details(fields), stage=stage, created_at=now,
                submitted_at=now if status == "pending_review" else None, **self._id_card(f.id_card)))
        return {"member_id": member_id, "status": status, "stage": stage,
                "missing": v.missing(fields, v.STAGE1 + v.STAGE2)}

    def _id_card(self, id_card: str | None) -> dict[str, Any]:
        if not id_card:
            return {}
        return {"id_card_enc": encrypt(self.enc_key, id_card.upper()),
                "id_card_index": id_card_index(self.index_key, id_card)}

    async def _refuse_staff_and_blacklisted(self, conn: AsyncConnection, mi: str) -> None:
        if await conn.scalar(sa.select(staff.c.staff_id).where(staff.c.mobile_index == mi).limit(1)):
            raise RuleViolation("M-05", "mobile",
                                "this mobile belongs to a company employee; employees cannot be members")
        listed = await conn.scalar(sa.select(blacklist.c.store_id).where(blacklist.c.mobile_index == mi,
                                                                         blacklist.c.lifted_at.is_(None)))
        if listed:
            raise RuleViolation("M-16", "mobile", f"this phone is blacklisted by store {listed}")

    async def change(self, p: Principal, member_id: str, c: FileChange) -> dict[str, Any]:
        """M-13: edit a file; a reviewed file goes back to pending_review, an incomplete one may become complete."""
        given = c.model_dump(exclude_none=True)
        errs = v.check(v.FileFields(**given))
        if errs:
            raise _problems(errs)
        events: list[OutgoingEvent] = []
        async with self.engine.begin() as conn:
            m = await self._visible_row(conn, p, member_id, "update", lock=True)
            if m.status in ("blacklisted", "deleted"):
                raise Conflict("M-08", "status", f"file is {m.status}")
            fields = self._fields(m)
            was = v.FileFields(**asdict(fields) | {
                "id_card": decrypt(self.enc_key, m.id_card_enc) if m.id_card_enc else None})
            for k, val in given.items():
                setattr(fields, k, val)
            values: dict[str, Any] = {"details": _details(fields), "stage": v.stage_of(fields)}
            if "full_name" in given:
                values |= {"full_name": c.full_name, "name_index": name_index(self.index_key, given["full_name"])}
            if "mobile" in given:
                mi = mobile_index(self.index_key, given["mobile"])
                await self._refuse_staff_and_blacklisted(conn, mi)
                if await conn.scalar(sa.select(members.c.member_id).where(
                        members.c.store_id == m.store_id, members.c.mobile_index == mi,
                        members.c.member_id != member_id)):
                    raise Conflict("M-06", "mobile", "another file of this store has this mobile; "
                                   "the store's customer-service manager may merge the two by agreement")
                values |= {"mobile_enc": encrypt(self.enc_key, given["mobile"]), "mobile_index": mi}
            if "birth_date" in given:
                values["birthday"] = _birthday(given["birth_date"])
            values |= self._id_card(given.get("id_card"))
            now = self.clock()
            new_status = "pending_review" if values["stage"] == 2 else "incomplete"
            if m.status in ("pending_review", "incomplete", "rejected", "active", "dormant", "public"):
                values |= {"status": new_status, "submitted_at": now if new_status == "pending_review" else None}
            if m.card_no and m.status != new_status:  # the directory knows this member: it must stop earning
                events.append(self._ev(member_id, MemberStateChanged(
                    member_id=member_id, store_id=m.store_id, from_state=m.status, to_state=new_status,
                    reason="M-13: file changed, back to review")))
            await conn.execute(members.update().where(members.c.member_id == member_id).values(**values))
            await conn.execute(file_changes.insert().values(  # M-13: who changed what, the history shows it
                member_id=member_id, at=now, by=p.staff_id, kind="changed", from_status=m.status,
                to_status=values.get("status", m.status), fields=diff(was, given)))
            await add_to_outbox(conn, events)
        if events:
            self.wake()
        return {"member_id": member_id, "status": values.get("status", m.status), "stage": values["stage"],
                "missing": v.missing(fields, v.STAGE1 + v.STAGE2)}

    def _fields(self, m: Any) -> v.FileFields:
        d = dict(m.details or {})
        return v.FileFields(full_name=m.full_name, mobile=decrypt(self.enc_key, m.mobile_enc),
                            **{k: d.get(k) for k in DETAIL_FIELDS})

    # ---- review (M-04) and cards (M-17) ----------------------------------------------------------

    async def review(self, p: Principal, member_id: str, r: ReviewIn) -> dict[str, Any]:
        """M-04: the store's customer-service manager approves (card issued, member earns) or rejects."""
        now = self.clock()
        async with self.engine.begin() as conn:
            m = (await conn.execute(sa.select(members).where(members.c.member_id == member_id)
                                    .with_for_update())).first()
            if m is None or m.store_id != p.store_id:
                raise NotFound("member_id", f"no member file {member_id} in store {p.store_id}")
            if m.status != "pending_review":
                raise Conflict("M-03", "status", f"file is {m.status}; only complete files pending review are decided")
            to = "active" if r.decision == "approve" else "rejected"
            values: dict[str, Any] = {"status": to, "reviewed_by": p.staff_id, "reviewed_at": now,
                                      "review_note": r.note}
            events: list[OutgoingEvent] = []
            card_no = m.card_no
            if to == "active" and card_no is None:
                region = await conn.scalar(sa.select(stores.c.region_code).where(stores.c.store_id == m.store_id))
                (card_no,) = await next_numbers(conn, str(region), 1)
                until = valid_until(now.date(), await self.validity.years_for_store(conn, m.store_id))
                await record_cards(conn, [{"card_no": card_no, "member_id": member_id, "store_id": m.store_id,
                                           "status": "active", "issued_at": now, "valid_until": until}])
                values |= {"card_no": card_no, "card_status": "active"}
                mobile = decrypt(self.enc_key, m.mobile_enc)
                events += [
                    self._ev(member_id, MemberRegistered(
                        member_id=member_id, store_id=m.store_id, referrer_staff_id=m.referrer_staff_id,
                        display_name=mask_name(m.full_name), name_index=m.name_index, mobile_index=m.mobile_index,
                        mobile_enc=self.event_keys.encrypt(mobile), card_no=card_no, status="active",
                        birthday=m.birthday,
                        customer_class=(m.details or {}).get("customer_class"))),  # M-14 -> credit terms
                    self._ev(member_id, CardIssued(member_id=member_id, store_id=m.store_id, card_no=card_no,
                                                   valid_until=until))]
            elif to == "active":
                events.append(self._ev(member_id, MemberUpdated(
                    member_id=member_id, store_id=m.store_id, display_name=mask_name(m.full_name),
                    name_index=m.name_index, mobile_index=m.mobile_index,
                    mobile_enc=self.event_keys.encrypt(decrypt(self.enc_key, m.mobile_enc)),
                    referrer_staff_id=m.referrer_staff_id, birthday=m.birthday,
                    customer_class=(m.details or {}).get("customer_class"))))
            if to == "active":
                events.append(self._ev(member_id, MemberApproved(
                    member_id=member_id, store_id=m.store_id, approved_by=p.staff_id,
                    referrer_staff_id=m.referrer_staff_id)))
            if m.card_no is not None or to == "active":
                events.append(self._ev(member_id, MemberStateChanged(
                    member_id=member_id, store_id=m.store_id, from_state="pending_review", to_state=to,
                    reason=f"M-04: {r.decision}d by {p.staff_id}" + (f": {r.note}" if r.note else ""))))
            await conn.execute(members.update().where(members.c.member_id == member_id).values(**values))
            await conn.execute(file_changes.insert().values(  # every decision stays in the history (M-04, M-13)
                member_id=member_id, at=now, by=p.staff_id, kind="approved" if to == "active" else "rejected",
                from_status=m.status, to_status=to, fields=[], note=r.note))
            await add_to_outbox(conn, events)
        self.wake()
        return {"member_id": member_id, "status": to, "card_no": card_no}

    async def report_lost(self, p: Principal, member_id: str) -> dict[str, Any]:
        """M-17: the lost card is blocked at once and a new number is issued, in one transaction."""
        now = self.clock()
        async with self.engine.begin() as conn:
            m = await self._visible_row(conn, p, member_id, "card_lost", lock=True)
            if m.card_no is None or m.card_status != "active":
                raise Conflict("M-17", "card_no", "the member has no active card to report lost")
            region = await conn.scalar(sa.select(stores.c.region_code).where(stores.c.store_id == m.store_id))
            years = await self.validity.years_for_store(conn, m.store_id)
            old, new, until = await block_and_replace(conn, member_id, str(region), now, years)
            await add_to_outbox(conn, [
                self._ev(member_id, CardLost(member_id=member_id, card_no=old)),
                self._ev(member_id, CardReplaced(member_id=member_id, old_card_no=old, new_card_no=new)),
                self._ev(member_id, CardIssued(member_id=member_id, store_id=m.store_id, card_no=new,
                                               valid_until=until))])
        self.wake()
        return {"member_id": member_id, "blocked_card_no": old, "card_no": new, "valid_until": until.isoformat()}

    # ---- blacklist (M-16) ------------------------------------------------------------------------

    async def add_to_blacklist(self, p: Principal, b: BlacklistIn) -> dict[str, Any]:
        """M-16: list a phone for every store; each member file with that phone becomes blacklisted."""
        if (err := v.mobile_problem(b.mobile)) is not None:
            raise _problems([("mobile", err, "M-02")])
        store = p.store_id
        if not store:
            raise Forbidden("M-16", "store", "only a store may blacklist")
        mi = mobile_index(self.index_key, b.mobile)
        now = self.clock()
        in_force = sa.select(blacklist).where(blacklist.c.mobile_index == mi, blacklist.c.lifted_at.is_(None))
        async with self.engine.begin() as conn:
            prior = (await conn.execute(in_force)).first()
            if prior is None:
                files = (await conn.execute(sa.select(members.c.member_id, members.c.store_id, members.c.status)
                                            .where(members.c.mobile_index == mi).with_for_update())).all()
                entry_id = await conn.scalar(pg_insert(blacklist).values(
                    mobile_index=mi, mobile_enc=encrypt(self.enc_key, b.mobile.strip()), full_name=b.full_name,
                    store_id=store, listed_by=p.staff_id, reason=b.reason, since=now,
                    prior_states={f.member_id: f.status for f in files},
                ).on_conflict_do_nothing(index_elements=[blacklist.c.mobile_index],
                                         index_where=blacklist.c.lifted_at.is_(None)).returning(blacklist.c.entry_id))
                if entry_id is None:  # another store listed it a moment ago: one listing in force per phone
                    prior = (await conn.execute(in_force)).first()
            if prior is not None:
                return {"store_id": prior.store_id, "since": prior.since.isoformat(), "members": [],
                        "entry_id": prior.entry_id}
            events = [self._ev(mi, MemberBlacklisted(mobile_index=mi, store_id=store, listed_by=p.staff_id,
                                                     reason=b.reason), subject=None)] if not files else []
            for f in files:
                events.append(self._ev(f.member_id, MemberBlacklisted(
                    mobile_index=mi, store_id=store, listed_by=p.staff_id, reason=b.reason,
                    member_id=f.member_id)))
                events.append(self._ev(f.member_id, MemberStateChanged(
                    member_id=f.member_id, store_id=f.store_id, from_state=f.status, to_state="blacklisted",
                    reason=f"M-16: blacklisted by store {store}")))
            await conn.execute(members.update().where(members.c.mobile_index == mi).values(status="blacklisted"))
            await add_to_outbox(conn, events)
        self.wake()
        return {"store_id": store, "since": now.isoformat(), "members": [f.member_id for f in files],
                "entry_id": entry_id}

    async def lift_blacklist(self, p: Principal, entry_id: int, body: BlacklistLiftIn) -> dict[str, Any]:
        """M-16: lift a listing put in by mistake or whose conduct is settled — by the listing store's
        customer-service manager or by HQ customer service (O-02), with a reason. The entry is kept with who lifted
        it, when and why; each file the listing blacklisted goes back to the state it had before (recorded when
        listed); lookups stop flagging the phone, and it may be listed again later."""
        now = self.clock()
        async with self.engine.begin() as conn:
            e = (await conn.execute(sa.select(blacklist).where(blacklist.c.entry_id == entry_id)
                                    .with_for_update())).first()
            if e is None:
                raise NotFound("entry_id", f"no blacklist entry {entry_id}")
            if p.role != Role.HQ_CS and e.store_id != p.store_id:
                raise Forbidden("O-02", "store_id", f"entry {entry_id} was listed by store {e.store_id}: only that "
                                "store's customer-service manager or HQ customer service may lift it")
            if e.lifted_at is not None:
                raise Conflict("M-16", "entry_id", f"entry {entry_id} was lifted by {e.lifted_by} at "
                               f"{e.lifted_at.isoformat()}")
            await conn.execute(blacklist.update().where(blacklist.c.entry_id == entry_id).values(
                lifted_at=now, lifted_by=p.staff_id, lift_reason=body.reason))
            files = (await conn.execute(sa.select(members).where(members.c.mobile_index == e.mobile_index)
                                        .order_by(members.c.member_id).with_for_update())).all()
            lifted = {"mobile_index": e.mobile_index, "store_id": e.store_id, "lifted_by": p.staff_id,
                      "reason": body.reason}
            events = [] if files else [self._ev(e.mobile_index, MemberBlacklistLifted(**lifted), subject=None)]
            restored: dict[str, str] = {}
            for f in files:  # keyed like the listing's events: each file's follow its state changes in order
                events.append(self._ev(f.member_id, MemberBlacklistLifted(**lifted, member_id=f.member_id)))
                if f.status != "blacklisted":  # deleted (M-15) while listed, or never moved by this listing
                    continue
                to = state_before(e.prior_states, f)
                restored[f.member_id] = to
                await conn.execute(members.update().where(members.c.member_id == f.member_id).values(status=to))
                events.append(self._ev(f.member_id, MemberStateChanged(
                    member_id=f.member_id, store_id=f.store_id, from_state="blacklisted", to_state=to,
                    reason=f"M-16: blacklist of store {e.store_id} lifted by {p.staff_id}: {body.reason}")))
            await add_to_outbox(conn, events)
        self.wake()
        return {"entry_id": entry_id, "store_id": e.store_id, "lifted_at": now.isoformat(), "lifted_by": p.staff_id,
                "reason": body.reason, "restored": restored}

    # ---- reads: visibility and the access log (M-07) ---------------------------------------------

    async def _log(self, conn: AsyncConnection, p: Principal, action: str, ids: list[str], reason: str) -> None:
        await conn.execute(access_log.insert().values(at=self.clock(), staff_id=p.staff_id, role=p.role.value,
                                                      action=action, member_ids=ids, reason=reason))

    async def _visible_row(self, conn: AsyncConnection, p: Principal, member_id: str, action: str,
                           lock: bool = False, reason: str = "") -> Any:
        q = sa.select(members).where(members.c.member_id == member_id)
        m = (await conn.execute(q.with_for_update() if lock else q)).first()
        if m is None:
            raise NotFound("member_id", f"no member file {member_id}")
        if not sees(p, m.store_id, m.referrer_staff_id) and not await self._granted(conn, p, member_id):
            # The refusal is logged in its own transaction: the caller's is rolled back by the refusal.
            async with self.engine.begin() as log_conn:
                await self._log(log_conn, p, "refused:" + action, [member_id], reason or "not given")
            raise Forbidden("M-07", "member_id", "this file belongs to another staff member; ask a manager for a grant")
        return m

    async def _granted(self, conn: AsyncConnection, p: Principal, member_id: str) -> bool:
        """M-07: a time-limited grant approved by a manager lets a staff member see another's file."""
        return bool(await conn.scalar(sa.select(requests.c.request_id).where(
            requests.c.kind == "grant", requests.c.status == "approved", requests.c.raised_by == p.staff_id,
            requests.c.member_id == member_id, requests.c.valid_until > self.clock()).limit(1)))

    def view(self, p: Principal, m: Any) -> dict[str, Any]:
        """A file as this role may see it: mobile and ID card masked unless the role needs them."""
        mobile = decrypt(self.enc_key, m.mobile_enc)
        idc = decrypt(self.enc_key, m.id_card_enc) if m.id_card_enc else None
        return {"member_id": m.member_id, "store_id": m.store_id, "referrer_staff_id": m.referrer_staff_id,
                "full_name": m.full_name if p.role in SEES_MOBILE else mask_name(m.full_name),
                "mobile": mobile if p.role in SEES_MOBILE else mask_mobile(mobile),
                "id_card": ("*" * 14 + idc[-4:]) if idc else None, "status": m.status, "stage": m.stage,
                "card_no": m.card_no, "card_status": m.card_status, **(m.details or {}),
                "created_at": m.created_at.isoformat(), "review_note": m.review_note}

    async def read(self, p: Principal, member_id: str, reason: str) -> dict[str, Any]:
        async with self.engine.begin() as conn:
            m = await self._visible_row(conn, p, member_id, "read", reason=reason)
            await self._log(conn, p, "read", [member_id], reason)
        return self.view(p, m)

    async def history(self, p: Principal, member_id: str, reason: str, limit: int) -> dict[str, Any]:
        """The file's history for the member page: states with who and why, cards, revisits, purchases. Only a file
        the caller may see (M-07); the read is written to the access log like any other."""
        async with self.engine.begin() as conn:
            m = await self._visible_row(conn, p, member_id, "read", reason=reason)
            await self._log(conn, p, "read:history", [member_id], reason)
            return await reports.file_history(conn, m, limit)

    def _scope(self, p: Principal) -> Any:
        if p.role in (Role.HQ_ADMIN, Role.HQ_CS):
            return sa.true()
        if p.role in (Role.STORE_MANAGER, Role.STORE_CS_MANAGER):
            return members.c.store_id == p.store_id
        return sa.and_(members.c.store_id == p.store_id, members.c.referrer_staff_id == p.staff_id)

    async def search(self, p: Principal, mobile: str | None, status: str | None, reason: str,
                     export: bool = False, limit: int = 100, id_card: str | None = None,
                     card_no: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        """Files the caller may see (M-07), by exact mobile or ID card (blind indexes), card number, name (prefix)
        or state; logged."""
        q = sa.select(members).where(self._scope(p)).order_by(members.c.created_at).limit(limit)
        if mobile:
            q = q.where(members.c.mobile_index == mobile_index(self.index_key, mobile))
        if id_card:
            q = q.where(members.c.id_card_index == id_card_index(self.index_key, id_card))
        if card_no:
            q = q.where(members.c.card_no == card_no.strip())
        if name:
            q = q.where(members.c.full_name.startswith(name.strip(), autoescape=True))
        if status:
            q = q.where(members.c.status == status)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(q)).all()
            await self._log(conn, p, "export" if export else "search", [r.member_id for r in rows], reason)
        return [self.view(p, r) for r in rows]

    async def review_queue(self, p: Principal, page: int = 1, limit: int = 100) -> dict[str, Any]:
        """M-04: files waiting for review with their age, oldest first, one page; past the 12-hour target they are
        flagged overdue. `total` and `overdue` count the whole queue the caller may see."""
        now = self.clock()
        async with self.engine.connect() as conn:
            rows, total, overdue = await reports.review_queue_rows(
                conn, None if p.role in (Role.HQ_ADMIN, Role.HQ_CS) else p.store_id,
                now - timedelta(hours=REVIEW_TARGET_HOURS), page, limit)
        out = []
        for r in rows:
            age = (now - r.submitted_at).total_seconds() / 3600 if r.submitted_at else 0.0
            out.append({"member_id": r.member_id, "store_id": r.store_id, "display_name": mask_name(r.full_name),
                        "referrer_staff_id": r.referrer_staff_id, "age_hours": round(age, 2),
                        "overdue": age > REVIEW_TARGET_HOURS})
        return {"items": out, "total": total, "overdue": overdue, "page": page, "limit": limit}


def state_before(prior: dict[str, str] | None, f: Any) -> str:
    """M-16: the state a blacklisted file goes back to when the listing is lifted — the one recorded when it was
    listed; for a listing older than that record, what its file shows: approved (it has a card) active, submitted
    waiting for review, else incomplete."""
    if prior and prior.get(f.member_id) not in (None, "blacklisted"):
        return str(prior[f.member_id])
    if f.card_no is not None:
        return "active"
    return "pending_review" if f.submitted_at is not None else "incomplete"


def _birthday(birth: str | None) -> date | None:
    if not birth:
        return None
    year, month, day = v.parse_birth(birth)
    return date(year or 1904, month, day)  # contract: 1904 stands for "year unknown", never stored as a fact


def _details(f: v.FileFields) -> dict[str, Any]:
    d = asdict(f)
    return {k: d[k] for k in DETAIL_FIELDS if d.get(k) is not None}
