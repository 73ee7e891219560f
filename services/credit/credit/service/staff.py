"""The staff directory credit keeps from members.staff.changed (O-01): the responsible staff member's mobile for
the overdue reminder (C-07, N-01) and their line leader when a receivable names none (C-06). Mobiles arrive sealed
with the events key, are kept encrypted under credit's own key (AES-GCM, vipcore.pii) and are decrypted only to
be sealed again on the reminder event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.members import StaffChanged
from vipcore.pii import Keyring, decrypt, encrypt

from ..adapters.tables import staff_directory


@dataclass(frozen=True)
class StaffContact:
    mobile: str | None  # None once the staff member has left: nobody to remind on that number
    line_leader_staff_id: str | None


class StaffDirectory:
    def __init__(self, enc_key: Keyring, event_keys: Keyring | None = None) -> None:
        self.enc_key = enc_key
        self.event_keys = event_keys  # opens the sealed name and mobile of members.staff.changed

    async def on_staff(self, tx: Tx, batch: list[Delivery[StaffChanged]]) -> None:
        """Keep the latest state of each staff member (events of one staff member arrive in order: keyed by id)."""
        rows = {}
        for d in batch:
            e = d.data
            if isinstance(e, StaffChanged):
                assert self.event_keys is not None, "EVENT_PII_KEYS needed to read members.staff.changed"
                name = self.event_keys.decrypt(e.name_enc)
                mobile = self.event_keys.decrypt(e.mobile_enc) if e.mobile_enc else None
                rows[e.staff_id] = {
                    "staff_id": e.staff_id, "store_id": e.store_id, "region_code": e.region_code, "name": name,
                    "position": e.position, "role": e.role, "line_leader_staff_id": e.line_leader_staff_id,
                    "mobile_enc": encrypt(self.enc_key, mobile) if mobile else None, "active": e.active}
        if rows:
            stmt = pg_insert(staff_directory)
            cols = ("store_id", "region_code", "name", "position", "role", "line_leader_staff_id", "mobile_enc",
                    "active")
            await tx.conn.execute(stmt.on_conflict_do_update(
                index_elements=[staff_directory.c.staff_id],
                set_={**{c: stmt.excluded[c] for c in cols}, "updated_at": sa.func.now()}), list(rows.values()))

    async def contacts(self, conn: AsyncConnection, staff_ids: Iterable[str | None]) -> dict[str, StaffContact]:
        ids = {s for s in staff_ids if s}
        if not ids:
            return {}
        rows = await conn.execute(sa.select(staff_directory.c.staff_id, staff_directory.c.mobile_enc,
                                            staff_directory.c.line_leader_staff_id, staff_directory.c.active)
                                  .where(staff_directory.c.staff_id.in_(ids)))
        return {r.staff_id: StaffContact(decrypt(self.enc_key, r.mobile_enc) if r.mobile_enc and r.active else None,
                                         r.line_leader_staff_id) for r in rows}
