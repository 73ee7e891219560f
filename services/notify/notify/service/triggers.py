"""Events that cause messages (N-01) and the contacts they go to; one message per cause (N-04)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.loyalty import TierChanged
from vipcore.contracts.members import MemberRegistered
from vipcore.pii import encrypt
from vipcore.telemetry import traceparent_of

from ..adapters.tables import contacts, messages
from ..domain import templates


class Triggers:
    def __init__(self, enc_key: str, wake: object) -> None:
        self.enc_key = enc_key
        self.wake = wake

    async def on_members(self, tx: Tx, batch: list[Delivery]) -> None:
        latest = {}
        for d in batch:
            m = d.data
            if isinstance(m, MemberRegistered):
                latest[m.member_id] = {"member_id": m.member_id, "store_id": m.store_id,
                                       "display_name": m.display_name,
                                       "mobile_enc": encrypt(self.enc_key, m.mobile)}
        stmt = pg_insert(contacts)
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=["member_id"], set_={c: stmt.excluded[c] for c in
                                                ("store_id", "display_name", "mobile_enc")}),
            list(latest.values()))
        # messages that waited for a contact can go now
        await tx.conn.execute(
            messages.update().where(messages.c.status == "no_contact",
                                    messages.c.member_id.in_(latest.keys()))
            .values(status="queued", mobile_enc=sa.select(contacts.c.mobile_enc)
                    .where(contacts.c.member_id == messages.c.member_id).scalar_subquery(),
                    updated_at=sa.func.now()))

    async def on_tier_changed(self, tx: Tx, batch: list[Delivery]) -> None:
        events = [d for d in batch if isinstance(d.data, TierChanged)]
        ids = {d.data.member_id for d in events}
        rows = await tx.conn.execute(sa.select(contacts).where(contacts.c.member_id.in_(ids)))
        known = {r.member_id: r for r in rows}
        out = []
        for d in events:
            e: TierChanged = d.data
            c = known.get(e.member_id)
            name = c.display_name if c else "会员"
            out.append({"message_id": uuid.uuid5(d.env.id, templates.TIER_CHANGED),
                        "cause_event_id": d.env.id, "template": templates.TIER_CHANGED,
                        "member_id": e.member_id, "mobile_enc": c.mobile_enc if c else None,
                        "sender": e.brand, "body": templates.tier_changed(e.brand, name, e.to_tier_name),
                        "status": "queued" if c else "no_contact", "traceparent": traceparent_of(d.span)})
        if out:
            await tx.conn.execute(pg_insert(messages).on_conflict_do_nothing(), out)
            self.wake()  # type: ignore[operator]
