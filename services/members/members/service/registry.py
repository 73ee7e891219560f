"""Registering stores, staff and members; each change and its event in one transaction (outbox)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.contracts.members import MemberRegistered, StoreRegistered
from vipcore.errors import Conflict, NotFound, RuleViolation
from vipcore.events import Envelope
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring, encrypt, mask_name, mobile_index, name_index
from vipcore.topics import MEMBERS_EVENTS

from ..adapters.cards import next_numbers, record_cards
from ..adapters.tables import members, staff, stores
from ..domain.cards import valid_until
from ..domain.passwords import hash_password
from ..entrypoints.schemas import MemberIn, StaffIn, StoreIn
from . import staffdir
from .validity import CardValidity


class Registry:
    def __init__(self, engine: AsyncEngine, index_key: str, enc_key: Keyring, topic_prefix: str, wake: object,
                 validity: CardValidity, event_keys: Keyring) -> None:
        self.event_keys = event_keys
        self.engine = engine
        self.validity = validity
        self.index_key = index_key
        self.enc_key = enc_key
        self.topic = topic_prefix + MEMBERS_EVENTS.name
        self.wake = wake

    async def add_store(self, s: StoreIn) -> None:
        async with self.engine.begin() as conn:
            stmt = pg_insert(stores).values(**s.model_dump())
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["store_id"], set_={c: stmt.excluded[c] for c in
                                                   ("name", "region_code", "timezone", "program")}))
            env = Envelope.new(StoreRegistered(**s.model_dump()), source="members", subject=s.store_id)
            await add_to_outbox(conn, [OutgoingEvent(self.topic, s.store_id, env)])
        self.wake()  # type: ignore[operator]

    async def add_staff(self, people: list[StaffIn]) -> None:
        """Add or change staff; each one new or changed is published as members.staff.changed (O-01, C-06)."""
        mobiles = [staffdir.clean_mobile(f"{i}.mobile", p.mobile) for i, p in enumerate(people)]
        ids = [p.staff_id for p in people]
        async with self.engine.begin() as conn:
            known = set((await conn.execute(sa.select(stores.c.store_id).where(
                stores.c.store_id.in_({p.store_id for p in people})))).scalars())
            if errors := [(f"{i}.store_id", f"unknown store {p.store_id}", "O-01")
                          for i, p in enumerate(people) if p.store_id not in known]:
                raise RuleViolation.each(errors)
            await staffdir.check_leaders(conn, [(f"{i}.line_leader_staff_id", p.staff_id, p.line_leader_staff_id)
                                                for i, p in enumerate(people)], set(ids))
            before = await staffdir.snapshot(conn, ids)
            rows = [{**p.model_dump(exclude={"mobile", "password"}),
                     "mobile_index": mobile_index(self.index_key, m) if m else None,
                     "mobile_enc": encrypt(self.enc_key, m) if m else None,
                     "password_hash": hash_password(p.password) if p.password else None}
                    for p, m in zip(people, mobiles, strict=True)]
            stmt = pg_insert(staff)
            keep = ("started_on", "mobile_index", "mobile_enc", "line_leader_staff_id", "password_hash")
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["staff_id"], set_={
                    **{c: stmt.excluded[c] for c in ("store_id", "name", "position", "role")},
                    **{c: sa.func.coalesce(stmt.excluded[c], staff.c[c]) for c in keep}}),
                rows)
            events = await staffdir.changed_events(conn, before, ids, self.enc_key, self.event_keys,
                                                   self.topic, datetime.now(UTC))
            await add_to_outbox(conn, events)
        if events:
            self.wake()  # type: ignore[operator]

    async def leave(self, staff_id: str, at: datetime | None = None) -> dict[str, Any]:
        """O-03: a staff member leaves (now, unless `at`); they log in no more and the directory marks them
        inactive."""
        at = at or datetime.now(UTC)
        async with self.engine.begin() as conn:
            before = await staffdir.snapshot(conn, [staff_id])
            if not before:
                raise NotFound("staff_id", f"no staff member {staff_id}")
            await conn.execute(staff.update().where(staff.c.staff_id == staff_id, staff.c.left_at.is_(None))
                               .values(left_at=at))
            events = await staffdir.changed_events(conn, before, [staff_id], self.enc_key, self.event_keys,
                                                   self.topic, at)
            await add_to_outbox(conn, events)
        if events:
            self.wake()  # type: ignore[operator]
        return {"staff_id": staff_id, "active": False}

    async def republish_staff(self) -> int:
        """Publish the whole staff directory again (O-01): seeds a new reader such as credit, or staff
        registered before the directory was published; readers keep the latest per staff member."""
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            ids = list((await conn.execute(sa.select(staff.c.staff_id).order_by(staff.c.staff_id))).scalars())
            events = await staffdir.changed_events(conn, {}, ids, self.enc_key, self.event_keys, self.topic, now)
            await add_to_outbox(conn, events)
        if events:
            self.wake()  # type: ignore[operator]
        return len(events)

    async def register(self, batch: list[MemberIn]) -> list[dict]:
        """Register members and issue their cards (M-17) in one transaction; all or nothing."""
        async with self.engine.begin() as conn:
            store_rows = (await conn.execute(sa.select(stores.c.store_id, stores.c.region_code).where(
                stores.c.store_id.in_({m.store_id for m in batch})))).all()
            region = {r.store_id: r.region_code for r in store_rows}
            errors = [(f"{i}.store_id", f"unknown store {m.store_id}", "O-01")
                      for i, m in enumerate(batch) if m.store_id not in region]
            if errors:
                raise RuleViolation.each(errors)
            per_region: dict[str, int] = {}
            for m in batch:
                per_region[region[m.store_id]] = per_region.get(region[m.store_id], 0) + 1
            numbers: dict[str, list[str]] = {}
            for code, n in sorted(per_region.items()):  # fixed order: no deadlock between issuers
                numbers[code] = list(reversed(await next_numbers(conn, code, n)))
            rows: list[dict[str, Any]] = []
            events: list[OutgoingEvent] = []
            out: list[dict[str, Any]] = []
            for m in batch:
                code = region[m.store_id]
                member_id = "M" + uuid.uuid4().hex[:15]
                card = numbers[code].pop()
                name_idx = name_index(self.index_key, m.full_name)
                mobile_idx = mobile_index(self.index_key, m.mobile)
                row: dict[str, Any] = {
                       "member_id": member_id, "store_id": m.store_id, "referrer_staff_id": m.referrer_staff_id,
                       "full_name": m.full_name, "name_index": name_idx,
                       "mobile_enc": encrypt(self.enc_key, m.mobile),
                       "mobile_index": mobile_idx, "card_no": card,
                       "card_status": "active", "status": "active", "birthday": m.birthday}
                rows.append(row)
                data = MemberRegistered(
                    member_id=member_id, store_id=m.store_id, referrer_staff_id=m.referrer_staff_id,
                    display_name=mask_name(m.full_name), name_index=name_idx,
                    mobile_index=mobile_idx, mobile_enc=self.event_keys.encrypt(m.mobile), card_no=card,
                    birthday=m.birthday)
                events.append(OutgoingEvent(self.topic, member_id,
                                            Envelope.new(data, source="members", subject=member_id)))
                out.append({"member_id": member_id, "card_no": card, "store_id": m.store_id})
            dup = (await conn.execute(sa.select(members.c.store_id, members.c.mobile_index).where(
                sa.tuple_(members.c.store_id, members.c.mobile_index).in_(
                    [(r["store_id"], r["mobile_index"]) for r in rows])))).all()
            seen = {(r["store_id"], r["mobile_index"]) for r in rows}
            if dup or len(seen) != len(rows):
                raise Conflict("M-06", "mobile", "this mobile already has a file in this store")
            await conn.execute(members.insert(), rows)
            now = datetime.now(UTC)
            years = {st: await self.validity.years_for_store(conn, st) for st in sorted(region)}  # M-17
            await record_cards(conn, [{"card_no": r["card_no"], "member_id": r["member_id"],
                                       "store_id": r["store_id"], "status": "active", "issued_at": now,
                                       "valid_until": valid_until(now.date(), years[r["store_id"]])} for r in rows])
            await add_to_outbox(conn, events)
        self.wake()  # type: ignore[operator]
        return out
