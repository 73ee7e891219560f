"""The staff directory (O-01, O-03): every change of a staff member is published as `members.staff.changed`
through the outbox, in the transaction of the change, so credit can name the responsible staff member's mobile
and line leader on overdue reminders (C-06, C-07)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.contracts.members import StaffChanged
from vipcore.errors import RuleViolation
from vipcore.events import Envelope
from vipcore.outbox import OutgoingEvent
from vipcore.pii import Keyring, decrypt, mask_name

from ..adapters.tables import staff, staff_sessions, stores
from ..domain import validation as v


def clean_mobile(field: str, mobile: str | None) -> str | None:
    """M-02 for a staff work mobile (it receives service SMS): 11-digit mainland mobile, no landline."""
    if mobile is None:
        return None
    if (err := v.mobile_problem(mobile)) is not None:
        raise RuleViolation("M-02", field, err)
    return v.normalized_mobile(mobile)


async def check_leaders(conn: AsyncConnection, wanted: list[tuple[str, str, str | None]],
                        in_batch: set[str]) -> None:
    """C-06: a line leader is another staff member on the register (or in the same batch)."""
    named = {leader for _, _, leader in wanted if leader}
    known = set((await conn.execute(sa.select(staff.c.staff_id).where(staff.c.staff_id.in_(named)))).scalars()) \
        if named else set()
    for field, staff_id, leader in wanted:
        if leader is None:
            continue
        if leader == staff_id:
            raise RuleViolation("C-06", field, "a staff member cannot be their own line leader")
        if leader not in known and leader not in in_batch:
            raise RuleViolation("C-06", field, f"line leader {leader} is not on the staff register")


def _select() -> Any:
    return sa.select(staff, stores.c.region_code).join(stores, stores.c.store_id == staff.c.store_id)


async def snapshot(conn: AsyncConnection, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """The watched fields of these staff members now (absent ids are not on the register yet)."""
    if not ids:
        return {}
    rows = (await conn.execute(_select().where(staff.c.staff_id.in_(ids)))).all()
    return {r.staff_id: _watched(r) for r in rows}


def _watched(r: Any) -> tuple[Any, ...]:
    return (r.store_id, r.name, r.position, r.role, r.mobile_index, r.line_leader_staff_id,
            r.password_hash is not None, r.left_at is not None, r.password_hash)


def _access(w: tuple[Any, ...]) -> tuple[Any, ...]:
    """What a staff token stands for: store, role, password, employment (O-02, O-03)."""
    return w[0], w[3], w[7], w[8]


async def changed_events(conn: AsyncConnection, before: dict[str, tuple[Any, ...]], ids: list[str], enc_key: Keyring,
                         event_keys: Keyring, topic: str, now: datetime) -> list[OutgoingEvent]:
    """One `members.staff.changed` per staff member who is new or whose watched fields changed.

    O-03: where the store, role, password or employment changed, the event carries `access_changed_at` (every
    service then refuses the person's tokens issued before it) and their refresh tokens are deleted in the same
    transaction."""
    rows = (await conn.execute(_select().where(staff.c.staff_id.in_(ids)))).all() if ids else []
    changed = [r for r in rows if before.get(r.staff_id) != _watched(r)]
    revoked = {r.staff_id for r in changed
               if r.staff_id in before and _access(before[r.staff_id]) != _access(_watched(r))}
    if revoked:  # the staff rows are locked by the change: a refresh waits for it, or finished before
        await conn.execute(staff_sessions.delete().where(staff_sessions.c.staff_id.in_(revoked)))
    changed_at = datetime.now(UTC)  # after the deletion; tokens carry members' clock too
    return [event(r, enc_key, event_keys, topic, now, changed_at if r.staff_id in revoked else None)
            for r in changed]


def event(r: Any, enc_key: Keyring, event_keys: Keyring, topic: str, now: datetime,
          access_changed_at: datetime | None = None) -> OutgoingEvent:
    """The staff member's state; name and mobile sealed with the events key (no personal data in clear)."""
    data = StaffChanged(staff_id=r.staff_id, store_id=r.store_id, region_code=r.region_code,
                        display_name=mask_name(r.name), name_enc=event_keys.encrypt(r.name),
                        position=r.position, role=r.role,
                        mobile_enc=event_keys.encrypt(decrypt(enc_key, r.mobile_enc)) if r.mobile_enc else None,
                        line_leader_staff_id=r.line_leader_staff_id, active=r.left_at is None,
                        access_changed_at=access_changed_at)
    return OutgoingEvent(topic, r.staff_id, Envelope.new(data, source="members", subject=r.staff_id, time=now))
