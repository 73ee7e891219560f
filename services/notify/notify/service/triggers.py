"""Events that cause messages (N-01, configured in domain.rules.TRIGGERS) and the facts notify keeps about
members for addressing and segments (contacts, stores, tier, last purchase)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.loyalty import PointsEarned, TierChanged
from vipcore.contracts.members import (
    MemberRegistered,
    MemberStateChanged,
    MemberUpdated,
    StoreRegistered,
)
from vipcore.events import EventData
from vipcore.inputs import normalize_mobile
from vipcore.pii import Keyring, encrypt, mobile_index
from vipcore.telemetry import traceparent_of

from ..adapters.tables import contacts, message_history, messages, stores
from ..domain import rules
from .planner import Planner, Wanted


def opened(data: dict[str, Any], event_keys: Keyring) -> dict[str, Any]:
    """The event's fields with its sealed personal fields opened for the templates: `customer_name_enc` is read
    as `customer_name`, `responsible_staff_mobile_enc` as `responsible_staff_mobile` (held in memory only)."""
    out = {k: v for k, v in data.items() if not k.endswith("_enc")}
    for k, v in data.items():
        if k.endswith("_enc"):
            out[k.removesuffix("_enc")] = event_keys.decrypt(v) if isinstance(v, str) and v else None
    return out


# One statement for a batch's purchases, whatever its size (array parameters: prepared once); a purchase older
# than the one on file changes nothing, so a late or redelivered event never moves the date back.
_LAST_PURCHASE = sa.text(
    "UPDATE contacts AS c SET last_purchase_at = v.at "
    "FROM (SELECT unnest(CAST(:ids AS text[])) AS member_id, unnest(CAST(:ats AS timestamptz[])) AS at) AS v "
    "WHERE c.member_id = v.member_id AND (c.last_purchase_at IS NULL OR c.last_purchase_at < v.at)")


class Triggers:
    def __init__(self, enc_key: Keyring, wake: Callable[[], None], planner: Planner,
                 thresholds: dict[str, int], *, event_keys: Keyring, index_key: str) -> None:
        self.enc_key = enc_key
        self.event_keys = event_keys  # opens the sealed personal fields of events (`*_enc`)
        self.index_key = index_key
        self.wake = wake
        self.planner = planner
        self.thresholds = thresholds

    async def on_events(self, tx: Tx, batch: list[Delivery[EventData]]) -> None:
        """Keep the facts an event carries, then create the messages its triggers ask for."""
        await self._facts(tx, batch)
        wanted = [w for d in batch for w in self.wanted(d)]
        if await self.planner.insert(tx.conn, wanted):
            self.wake()

    def wanted(self, d: Delivery[EventData]) -> list[Wanted]:
        # Most events cause nothing (a points earning below the large-earn threshold): decide that from the
        # event's own fields before copying them and opening sealed ones. Conditions name plain fields only.
        fired = [t for t in rules.triggers_for(d.env.type) if t.matches(d.data.__dict__, self.thresholds)]
        if not fired:
            return []
        data = opened(d.data.model_dump(), self.event_keys)
        out = []
        for t in fired:
            common: dict[str, Any] = {
                "cause_event_id": d.env.id, "template": t.template, "category": t.category, "variables": data,
                "store_id": data.get("store_id"), "brand": data.get("brand"), "traceparent": traceparent_of(d.span)}
            if t.audience == "member":
                out.append(Wanted(recipient=data["member_id"], member_id=data["member_id"], **common))
            elif t.audience == "handover_members":  # M-12: one introduction per handed-over member
                out += [Wanted(recipient=m, member_id=m, **common) for m in data["member_ids"]]
            else:
                assert t.mobile_field is not None
                out.append(Wanted(recipient=t.audience, mobile=data.get(t.mobile_field), **common))
        return out

    async def _facts(self, tx: Tx, batch: list[Delivery[EventData]]) -> None:
        last_purchase: dict[str, datetime] = {}  # member -> latest purchase in this batch: one UPDATE for all
        for d in batch:
            e = d.data
            if isinstance(e, StoreRegistered):
                stmt = pg_insert(stores).values(store_id=e.store_id, region_code=e.region_code, timezone=e.timezone)
                await tx.conn.execute(stmt.on_conflict_do_update(
                    index_elements=["store_id"], set_={"region_code": e.region_code, "timezone": e.timezone}))
            elif isinstance(e, MemberRegistered | MemberUpdated):
                await self._contact(tx, e)
            elif isinstance(e, MemberStateChanged):
                await tx.conn.execute(contacts.update().where(contacts.c.member_id == e.member_id)
                                      .values(status=e.to_state))
            elif isinstance(e, TierChanged):
                await tx.conn.execute(contacts.update().where(contacts.c.member_id == e.member_id)
                                      .values(tier=e.to_tier))
            elif isinstance(e, PointsEarned):
                if e.member_id not in last_purchase or last_purchase[e.member_id] < e.occurred_at:
                    last_purchase[e.member_id] = e.occurred_at
        if last_purchase:
            await tx.conn.execute(_LAST_PURCHASE, {"ids": list(last_purchase), "ats": list(last_purchase.values())})

    async def _contact(self, tx: Tx, e: MemberRegistered | MemberUpdated) -> None:
        mobile = normalize_mobile(self.event_keys.decrypt(e.mobile_enc))
        row: dict[str, Any] = {"member_id": e.member_id, "store_id": e.store_id, "display_name": e.display_name,
                               "mobile_enc": encrypt(self.enc_key, mobile),
                               "mobile_hash": mobile_index(self.index_key, mobile),
                               "birthday_month": e.birthday.month if e.birthday else None}
        if isinstance(e, MemberUpdated) and e.customer_class is not None:
            row["customer_class"] = e.customer_class
        if isinstance(e, MemberRegistered):
            row["status"] = e.status
        stmt = pg_insert(contacts).values(**row)
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=["member_id"], set_={c: stmt.excluded[c] for c in row if c != "member_id"}))
        # messages that waited for a contact can go now
        released = (await tx.conn.execute(
            messages.update().where(messages.c.status == "no_contact", messages.c.member_id == e.member_id)
            .values(status="queued", mobile_enc=row["mobile_enc"], updated_at=sa.func.now())
            .returning(messages.c.message_id))).scalars().all()
        if released:
            await tx.conn.execute(message_history.insert(), [
                {"message_id": m, "status": "queued", "detail": "contact known"} for m in released])
            self.wake()
