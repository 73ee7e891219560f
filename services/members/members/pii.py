"""Personal data upkeep of the members service: key rotation and the blind-index re-index.

    python -m members.pii status     # values not yet under the current key (first in PII_KEYS)
    python -m members.pii rotate     # re-encrypt them, in batches, with progress; resumable
    python -m members.pii reindex    # recompute every blind index (normalised mobiles, current PII_INDEX_KEY)

The re-index also runs by itself when the service starts and finds that the stored indexes follow another scheme
(`pii_state`): indexes written before mobiles were normalised (`138-0013-8000`, `+86 138 0013 8000` and full-width
digits each hashed apart) then stop walking past M-05, M-06 and M-16. Every file whose index changes is announced
again (`members.member.updated`, and `members.member.blacklisted` for a listed phone) so the gateway's directory
follows. A file whose normalised mobile collides with another file of its store (M-06) keeps its old index and is
reported for a merge (`POST /v1/member-files/merge`), never silently rewritten."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.contracts.members import MemberBlacklisted, MemberUpdated
from vipcore.events import Envelope
from vipcore.logs import get_logger
from vipcore.outbox import OutgoingEvent, add_to_outbox
from vipcore.pii import Keyring, decrypt, id_card_index, mask_name, mobile_index, name_index
from vipcore.pii_upkeep import Sealed, run_command
from vipcore.topics import MEMBERS_EVENTS

from .adapters.tables import blacklist, members, pii_state, prospects, requests, staff

log = get_logger(__name__)

SEALED = (
    Sealed(members, ("mobile_enc", "id_card_enc")),
    Sealed(staff, ("mobile_enc",)),
    Sealed(blacklist, ("mobile_enc",)),
    Sealed(prospects, ("mobile_enc",)),
    Sealed(requests, ("payload",), json_key="mobile_enc"),  # account requests keep the mobile until approved
)

SCHEME = "n2"  # n2: mobiles normalised (vipcore.inputs.normalize_mobile), names NFKC, ID numbers upper-case


def scheme(index_key: str) -> str:
    """The scheme of indexes computed now: normalisation version + a fingerprint of the index key."""
    return SCHEME + ":" + hmac.new(index_key.encode(), b"vip-blind-index", hashlib.sha256).hexdigest()[:16]


async def recorded_scheme(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(pii_state.c.value).where(pii_state.c.name == "index_scheme"))


async def reindex(engine: AsyncEngine, index_key: str, keys: Keyring, event_keys: Keyring, topic: str, *,
                  batch: int = 500) -> dict[str, Any]:
    """Recompute every blind index from the decrypted values; announce the files whose index changed."""
    out: dict[str, Any] = {"members": 0, "staff": 0, "blacklist": 0, "prospects": 0, "m06_conflicts": []}
    after = ""
    while True:
        async with engine.begin() as conn:
            rows = (await conn.execute(sa.select(members).where(members.c.member_id > after)
                                       .order_by(members.c.member_id).limit(batch).with_for_update())).all()
            if not rows:
                break
            events: list[OutgoingEvent] = []
            for m in rows:
                mobile = decrypt(keys, m.mobile_enc)
                new = {"mobile_index": mobile_index(index_key, mobile),
                       "name_index": name_index(index_key, m.full_name)}
                if m.id_card_enc:
                    new["id_card_index"] = id_card_index(index_key, decrypt(keys, m.id_card_enc))
                if new["mobile_index"] != m.mobile_index and await conn.scalar(
                        sa.select(members.c.member_id).where(members.c.store_id == m.store_id,
                                                             members.c.mobile_index == new["mobile_index"],
                                                             members.c.member_id != m.member_id)):
                    out["m06_conflicts"].append(m.member_id)  # two files of one store, one phone: merge them
                    del new["mobile_index"]
                changed = {k: v for k, v in new.items() if getattr(m, k) != v}
                if not changed:
                    continue
                await conn.execute(members.update().where(members.c.member_id == m.member_id).values(**changed))
                out["members"] += 1
                if m.card_no is not None:  # known to the other services: they follow the new indexes
                    events.append(OutgoingEvent(topic, m.member_id, Envelope.new(MemberUpdated(
                        member_id=m.member_id, store_id=m.store_id, display_name=mask_name(m.full_name),
                        name_index=changed.get("name_index", m.name_index),
                        mobile_index=changed.get("mobile_index", m.mobile_index),
                        mobile_enc=event_keys.encrypt(mobile), referrer_staff_id=m.referrer_staff_id,
                        birthday=m.birthday, customer_class=(m.details or {}).get("customer_class")),
                        source="members", subject=m.member_id)))
            await add_to_outbox(conn, events)
            after = rows[-1].member_id
    async with engine.begin() as conn:
        for r in (await conn.execute(sa.select(staff.c.staff_id, staff.c.mobile_enc, staff.c.mobile_index)
                                     .where(staff.c.mobile_enc.is_not(None)).with_for_update())).all():
            mi = mobile_index(index_key, decrypt(keys, r.mobile_enc))
            if mi != r.mobile_index:
                await conn.execute(staff.update().where(staff.c.staff_id == r.staff_id).values(mobile_index=mi))
                out["staff"] += 1
        for r in (await conn.execute(sa.select(prospects.c.prospect_id, prospects.c.mobile_enc,
                                               prospects.c.mobile_index).with_for_update())).all():
            mi = mobile_index(index_key, decrypt(keys, r.mobile_enc))
            if mi != r.mobile_index:
                await conn.execute(prospects.update().where(prospects.c.prospect_id == r.prospect_id)
                                   .values(mobile_index=mi))
                out["prospects"] += 1
        events = []
        entries = [(b, mobile_index(index_key, decrypt(keys, b.mobile_enc))) for b in (await conn.execute(
            sa.select(blacklist).order_by(blacklist.c.entry_id).with_for_update())).all()]
        in_force = {mi for b, mi in entries if mi == b.mobile_index and b.lifted_at is None}
        for b, mi in entries:
            if mi == b.mobile_index:
                continue
            if b.lifted_at is None and mi in in_force:  # two spellings of one phone: one listing in force
                await conn.execute(blacklist.delete().where(blacklist.c.entry_id == b.entry_id))
                continue
            await conn.execute(blacklist.update().where(blacklist.c.entry_id == b.entry_id).values(mobile_index=mi))
            out["blacklist"] += 1
            if b.lifted_at is not None:  # history only (M-16): lookups know nothing of it
                continue
            in_force.add(mi)
            events.append(OutgoingEvent(topic, mi, Envelope.new(MemberBlacklisted(
                mobile_index=mi, store_id=b.store_id, listed_by=b.listed_by, reason=b.reason), source="members",
                subject=None)))
        listed = await conn.execute(sa.select(members.c.member_id).join(
            blacklist, sa.and_(blacklist.c.mobile_index == members.c.mobile_index, blacklist.c.lifted_at.is_(None)))
            .where(members.c.status != "blacklisted"))
        out["m16_unlisted_files"] = [r.member_id for r in listed]  # for a person to blacklist (M-16)
        await add_to_outbox(conn, events)
        stmt = pg_insert(pii_state).values(name="index_scheme", value=scheme(index_key),
                                           updated_at=datetime.now(UTC))
        await conn.execute(stmt.on_conflict_do_update(index_elements=["name"],
                                                      set_={"value": stmt.excluded.value,
                                                            "updated_at": stmt.excluded.updated_at}))
    return out


class Reindexer:
    """Runs the re-index once at start when the stored indexes follow another scheme (the data migration)."""

    def __init__(self, engine: AsyncEngine, index_key: str, keys: Keyring, event_keys: Keyring, topic: str,
                 wake: Any) -> None:
        self.engine, self.index_key, self.keys, self.event_keys = engine, index_key, keys, event_keys
        self.topic, self.wake = topic, wake
        self.done = asyncio.Event()

    async def run(self) -> None:
        try:
            if await recorded_scheme(self.engine) != scheme(self.index_key):
                async with self.engine.connect() as lock:  # one instance re-indexes, the others wait for it
                    await lock.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": REINDEX_LOCK})
                    try:
                        if await recorded_scheme(self.engine) != scheme(self.index_key):
                            result = await reindex(self.engine, self.index_key, self.keys, self.event_keys,
                                                   self.topic)
                            self.wake()
                            if any(result.values()):
                                log.info("blind indexes recomputed", **{k: v if isinstance(v, int) else v[:50]
                                                                       for k, v in result.items()})
                    finally:
                        await lock.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": REINDEX_LOCK})
        finally:
            self.done.set()

    def stop(self) -> None:
        pass


REINDEX_LOCK = 0x76697070_69696478  # "vippiidx"


def main(argv: list[str] | None = None) -> int:
    from .config import MembersSettings

    settings = MembersSettings()  # type: ignore[call-arg]

    def make() -> tuple[str, Keyring, tuple[Sealed, ...]]:
        return settings.database_url, settings.pii_keyring(), SEALED

    async def do_reindex(engine: AsyncEngine, _: argparse.Namespace) -> None:
        result = await reindex(engine, settings.pii_index_key.get_secret_value(), settings.pii_keyring(),
                               settings.event_keyring(), settings.kafka_topic_prefix + MEMBERS_EVENTS.name)
        print({k: v if isinstance(v, int) else v[:100] for k, v in result.items()})

    return run_command("members", make, {"reindex": do_reindex}, argv)


if __name__ == "__main__":
    raise SystemExit(main())
