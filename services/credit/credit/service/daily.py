"""The daily credit run (C-05, C-07, C-04): clear cheques whose 3 days have passed, find overdue invoices,
remind the customer and the responsible staff member (credit.invoice.overdue, with the staff member's mobile
from the staff directory), set the overdue flags. Each store's business day is its own: the scheduler runs the
day of each time zone when it begins there (an account belongs to its home store's zone). Idempotent per
(business date, zone); a scheduler calls it, releases expired holds and unclaimed coupon spends."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from vipcore.contracts.credit import InvoiceOverdue
from vipcore.logs import get_logger
from vipcore.scheduler import Ticker

from ..adapters.sql import OUTSTANDING
from ..adapters.tables import accounts, coupon_sales, daily_runs, payments, receivables
from ..domain.rules import reminder_due
from .authorizations import release_expired
from .context import Credit
from .coupon_release import release_unclaimed
from .coupons import release
from .staff import StaffDirectory

log = get_logger(__name__)
ALL_ZONES = "*"


async def run_daily(c: Credit, day: date, tz: str | None = None) -> dict[str, Any]:
    """Run `day` once for the stores of zone `tz` (every store when None); a second call for the same date and
    zone changes nothing and reports the first run."""
    zone = tz or ALL_ZONES
    acct_zone = c.zone_sql(accounts.c.store_id)
    rec_zone = c.zone_sql(accounts.c.store_id, receivables.c.store_id)  # the account's home store first

    def in_zone(expr: Any) -> Any:
        return sa.true() if tz is None else expr == tz

    async with c.engine.begin() as conn:
        claimed = await conn.scalar(pg_insert(daily_runs).values(
            run_date=day, timezone=zone, overdue_invoices=0, reminders=0, cheques_cleared=0)
            .on_conflict_do_nothing().returning(daily_runs.c.run_date))
        if claimed is None:
            prev = (await conn.execute(sa.select(daily_runs).where(daily_runs.c.run_date == day,
                                                                   daily_runs.c.timezone == zone))).one()
            return {**dict(prev._mapping), "already_ran": True}
        zone_accounts = sa.select(accounts.c.customer_id).where(in_zone(acct_zone))
        cleared = (await conn.execute(payments.update().where(
            payments.c.status == "pending", payments.c.clears_on <= day,
            payments.c.customer_id.in_(zone_accounts)).values(status="cleared"))).rowcount
        # coupons paid by cheque are released when it clears (C-05, C-09)
        due_coupon_sales = list(await conn.scalars(sa.select(coupon_sales.c.coupon_sale_id).where(
            coupon_sales.c.cheque_status == "pending", coupon_sales.c.clears_on <= day,
            in_zone(c.zone_sql(coupon_sales.c.store_id)))))
        if due_coupon_sales:
            await release(conn, due_coupon_sales, True, c.clock())
        cleared += len(due_coupon_sales)
        overdue = (await conn.execute(
            sa.select(receivables.c.receivable_id, receivables.c.customer_id, receivables.c.store_id,
                      receivables.c.due_date, receivables.c.last_reminded_on, receivables.c.responsible_staff_id,
                      OUTSTANDING.label("due"), accounts.c.name, accounts.c.contact_mobile)
            .select_from(receivables.outerjoin(accounts, accounts.c.customer_id == receivables.c.customer_id))
            .where(OUTSTANDING > 0, receivables.c.due_date < day, in_zone(rec_zone))
            .order_by(receivables.c.receivable_id))).all()
        remind = [r for r in overdue if reminder_due(r.last_reminded_on, day)]
        staff = await StaffDirectory(c.keys).contacts(conn, (r.responsible_staff_id for r in remind)) \
            if remind else {}
        await c.emit(conn, [(r.customer_id, InvoiceOverdue(
            receivable_id=r.receivable_id, customer_id=r.customer_id,
            customer_name_enc=c.seal_event(r.name or r.customer_id) or "",
            customer_mobile_enc=c.seal_event(c.unseal(r.contact_mobile)), store_id=r.store_id, amount_due=r.due,
            due_date=r.due_date.isoformat(), days_overdue=(day - r.due_date).days,
            responsible_staff_id=r.responsible_staff_id or "",
            responsible_staff_mobile_enc=c.seal_event(s.mobile if (s := staff.get(r.responsible_staff_id or ""))
                                                      else None)))
            for r in remind])
        if remind:
            await conn.execute(receivables.update().where(
                receivables.c.receivable_id.in_([r.receivable_id for r in remind])).values(last_reminded_on=day))
        flagged = {r.customer_id for r in overdue}
        await conn.execute(accounts.update().where(in_zone(acct_zone)).values(
            overdue=accounts.c.customer_id.in_(flagged) if flagged else sa.false()))
        await conn.execute(daily_runs.update().where(daily_runs.c.run_date == day, daily_runs.c.timezone == zone)
                           .values(overdue_invoices=len(overdue), reminders=len(remind), cheques_cleared=cleared))
    c.wake()
    return {"run_date": day, "timezone": zone, "overdue_invoices": len(overdue), "reminders": len(remind),
            "cheques_cleared": cleared, "already_ran": False}


class DailyScheduler(Ticker):
    """Background task: release expired holds (C-04) and till coupon spends whose sale never came (C-09) every
    tick; run each zone's business day once it has begun there."""

    def __init__(self, c: Credit, interval_s: float) -> None:
        super().__init__(interval_s, "credit daily")
        self.c = c

    async def tick(self) -> None:
        await release_expired(self.c)
        await release_unclaimed(self.c)
        async with self.c.engine.connect() as conn:
            zones = await self.c.zones(conn)
        for tz in zones:
            await run_daily(self.c, self.c.business_date(tz), tz)
