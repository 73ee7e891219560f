"""M-14 -> C-01/C-02/C-03: the customer class of a member file decides the class of the member's credit account.
Credit keeps each member's class from members.member.registered / updated; an account opened for a member takes
it, and a later change of the file's class changes the account's class (and caps its case limit, C-02)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.consumer import Delivery, Tx
from vipcore.contracts.members import MemberRegistered, MemberUpdated

from ..adapters.tables import accounts, member_classes
from ..domain.rules import credit_class, default_case_limit


class MemberClasses:
    async def on_members(self, tx: Tx, batch: list[Delivery[MemberRegistered | MemberUpdated]]) -> None:
        latest: dict[str, str] = {}
        for d in batch:
            e = d.data
            if isinstance(e, MemberRegistered | MemberUpdated) and (cls := credit_class(e.customer_class)):
                latest[e.member_id] = cls
        if not latest:
            return
        stmt = pg_insert(member_classes)
        await tx.conn.execute(stmt.on_conflict_do_update(
            index_elements=[member_classes.c.member_id], set_={"customer_class": stmt.excluded.customer_class}),
            [{"member_id": m, "customer_class": c} for m, c in latest.items()])
        await tx.conn.execute(
            accounts.update().where(accounts.c.member_id == sa.bindparam("m"),
                                    accounts.c.customer_class != sa.bindparam("cls"))
            .values(customer_class=sa.bindparam("cls"),
                    limit_cases=sa.func.least(accounts.c.limit_cases, sa.bindparam("cap"))),
            [{"m": m, "cls": c, "cap": default_case_limit(c)} for m, c in latest.items()])
