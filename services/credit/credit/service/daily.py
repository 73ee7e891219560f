"""The daily credit run (C-05, C-07, C-04): clear cheques whose 3 days have passed, find overdue invoices,
remind the customer and the responsible staff member (credit.invoice.overdue), set the overdue flags.
Idempotent per business date; a scheduler calls it each day and releases expired holds."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.contracts.credit import InvoiceOverdue
from vipcore.logs import get_logger
from vipcore.scheduler import Ticker

from ..adapters.tables import accounts, daily_runs, payments, receivables
from ..domain.rules import reminder_due
from .accounts import OUTSTANDING
from .authorizations import release_expired
from .context import Credit
from .coupons import clear_due_cheques

log = get_logger(__name__)


async def run_daily(c: Credit, day: date) -> dict[str, Any]:
    """Run the day once; a second call for the same date changes nothing and reports the first run."""
    async with c.engine.begin() as conn:
        claimed = await conn.scalar(pg_insert(daily_runs).values(
            run_date=day, overdue_invoices=0, reminders=0, cheques_cleared=0)
            .on_conflict_do_nothing().returning(daily_runs.c.run_date))
        if claimed is None:
            prev = (await conn.execute(sa.select(daily_runs).where(daily_runs.c.run_date == day))).one()
            return {**dict(prev._mapping), "already_ran": True}
        cleared = (await conn.execute(payments.update().where(
            payments.c.status == "pending", payments.c.clears_on <= day).values(status="cleared"))).rowcount
        cleared += await clear_due_cheques(conn, day)  # coupons paid by cheque are released (C-05, C-09)
        overdue = (await conn.execute(
            sa.select(receivables.c.receivable_id, receivables.c.customer_id, receivables.c.store_id,
                      receivables.c.due_date, receivables.c.last_reminded_on, receivables.c.responsible_staff_id,
                      OUTSTANDING.label("due"), accounts.c.name, accounts.c.contact_mobile)
            .select_from(receivables.outerjoin(accounts, accounts.c.customer_id == receivables.c.customer_id))
            .where(OUTSTANDING > 0, receivables.c.due_date < day).order_by(receivables.c.receivable_id))).all()
        remind = [r for r in overdue if reminder_due(r.last_reminded_on, day)]
        await c.emit(conn, [(r.customer_id, InvoiceOverdue(
            receivable_id=r.receivable_id, customer_id=r.customer_id, customer_name=r.name or r.customer_id,
            customer_mobile=r.contact_mobile, store_id=r.store_id, amount_due=r.due, due_date=r.due_date.isoformat(),
            days_overdue=(day - r.due_date).days, responsible_staff_id=r.responsible_staff_id or ""))
            for r in remind])
        if remind:
            await conn.execute(receivables.update().where(
                receivables.c.receivable_id.in_([r.receivable_id for r in remind])).values(last_reminded_on=day))
        flagged = {r.customer_id for r in overdue}
        await conn.execute(accounts.update().values(overdue=accounts.c.customer_id.in_(flagged) if flagged
                                                    else sa.false()))
        await conn.execute(daily_runs.update().where(daily_runs.c.run_date == day).values(
            overdue_invoices=len(overdue), reminders=len(remind), cheques_cleared=cleared))
    c.wake()
    return {"run_date": day, "overdue_invoices": len(overdue), "reminders": len(remind),
            "cheques_cleared": cleared, "already_ran": False}


class DailyScheduler(Ticker):
    """Background task: release expired holds every tick; run the business day once it has begun."""

    def __init__(self, c: Credit, interval_s: float) -> None:
        super().__init__(interval_s, "credit daily")
        self.c = c

    async def tick(self) -> None:
        await release_expired(self.c)
        await run_daily(self.c, self.c.business_date(self.c.default_tz))
