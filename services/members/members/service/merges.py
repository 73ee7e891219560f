"""Merging duplicate files by agreement (M-06): one customer, one file and one referrer per store.

The same customer may end up on two files of one store (a second phone, a file opened by a colleague). The store's
customer-service manager merges the duplicate into the kept file with the referrers' agreement: one referrer stays,
the duplicate ends `deleted` (soft, M-08) pointing at the kept file, its card is blocked, its consumption history
stays where it is (M-08: never removed), and the merge is audited (merges table, access log, state event)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.auth import Principal
from vipcore.contracts.members import MemberStateChanged, MemberUpdated
from vipcore.errors import Conflict, NotFound, RuleViolation
from vipcore.events import Envelope, EventData
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring, decrypt, mask_name
from vipcore.topics import MEMBERS_EVENTS

from ..adapters.tables import access_log, cards, members, merges
from ..entrypoints.schemas import MergeIn

CLOSED = ("deleted", "blacklisted")


class Merges:
    def __init__(self, engine: AsyncEngine, enc_key: Keyring, topic_prefix: str, wake: Any,
                 clock: Callable[[], datetime], event_keys: Keyring) -> None:
        self.event_keys = event_keys
        self.engine = engine
        self.enc_key = enc_key
        self.topic = topic_prefix + MEMBERS_EVENTS.name
        self.wake = wake
        self.clock = clock

    def _ev(self, key: str, data: EventData, now: datetime) -> OutgoingEvent:
        return OutgoingEvent(self.topic, key, Envelope.new(data, source="members", subject=key, time=now))

    async def merge(self, p: Principal, kept_id: str, body: MergeIn) -> dict[str, Any]:
        now = self.clock()
        dup_id = body.duplicate_member_id
        if dup_id == kept_id:
            raise RuleViolation("M-06", "duplicate_member_id", "name another file of the same customer")
        async with self.engine.begin() as conn:
            rows = {r.member_id: r for r in (await conn.execute(
                sa.select(members).where(members.c.member_id.in_(sorted([kept_id, dup_id])))
                .order_by(members.c.member_id).with_for_update())).all()}  # fixed lock order: no deadlock
            for mid, field in ((kept_id, "member_id"), (dup_id, "duplicate_member_id")):
                if mid not in rows or rows[mid].store_id != p.store_id:
                    raise NotFound(field, f"no member file {mid} in store {p.store_id}")
                if rows[mid].status in CLOSED:
                    raise Conflict("M-08", field, f"file {mid} is {rows[mid].status}")
            kept, dup = rows[kept_id], rows[dup_id]
            if dup.card_no is not None and kept.card_no is None:
                raise Conflict("M-06", "duplicate_member_id", "the duplicate holds the customer's card and the kept "
                               "file none: keep the carded file")
            referrers = {kept.referrer_staff_id, dup.referrer_staff_id} - {None}
            if body.referrer_staff_id not in referrers:
                raise RuleViolation("M-06", "referrer_staff_id",
                                    f"keep one of the two files' referrers: {', '.join(sorted(referrers))}")
            dropped = next(iter(referrers - {body.referrer_staff_id}), None)
            merge_id = "G" + uuid.uuid4().hex[:15]
            await conn.execute(merges.insert().values(
                merge_id=merge_id, store_id=p.store_id, kept_member_id=kept_id, merged_member_id=dup_id,
                referrer_staff_id=body.referrer_staff_id, dropped_referrer_staff_id=dropped, reason=body.reason,
                merged_by=p.staff_id, at=now))
            await conn.execute(members.update().where(members.c.member_id == dup_id)
                               .values(status="deleted", merged_into=kept_id,
                                       card_status="blocked" if dup.card_no else dup.card_status))
            if dup.card_no:
                await conn.execute(cards.update().where(cards.c.card_no == dup.card_no).values(status="blocked"))
            await conn.execute(members.update().where(members.c.member_id == kept_id)
                               .values(referrer_staff_id=body.referrer_staff_id))
            await conn.execute(access_log.insert().values(
                at=now, staff_id=p.staff_id, role=p.role.value, action="merge", member_ids=[kept_id, dup_id],
                reason=f"M-06 merge {merge_id}: {body.reason}"))
            events = []
            if dup.card_no is not None:  # known to the directory: it must stop earning and show as merged
                events.append(self._ev(dup_id, MemberStateChanged(
                    member_id=dup_id, store_id=dup.store_id, from_state=dup.status, to_state="deleted",
                    reason=f"M-06: merged by agreement into {kept_id} by {p.staff_id}: {body.reason}"), now))
            if kept.card_no is not None and kept.referrer_staff_id != body.referrer_staff_id:
                events.append(self._ev(kept_id, MemberUpdated(
                    member_id=kept_id, store_id=kept.store_id, display_name=mask_name(kept.full_name),
                    name_index=kept.name_index, mobile_index=kept.mobile_index,
                    mobile_enc=self.event_keys.encrypt(decrypt(self.enc_key, kept.mobile_enc)),
                    referrer_staff_id=body.referrer_staff_id,
                    birthday=kept.birthday, customer_class=(kept.details or {}).get("customer_class")), now))
            await add_to_outbox(conn, events)
        if events:
            self.wake()
        return {"merge_id": merge_id, "kept_member_id": kept_id, "merged_member_id": dup_id,
                "referrer_staff_id": body.referrer_staff_id, "dropped_referrer_staff_id": dropped,
                "merged_state": "deleted"}
