"""Credit tables: accounts and limits (C-01, C-02), authorisations (C-04), receivables (C-03),
payments (C-05), write-offs and liabilities (C-06), daily runs (C-07)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

receivables = sa.Table(
    "receivables", metadata,
    sa.Column("receivable_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False, index=True),
    sa.Column("sale_id", sa.Text, nullable=False),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("receipt_no", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("authorization_id", sa.Text),
    sa.Column("delivered_at", TS, nullable=False),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    # added by 0002
    sa.Column("cases", sa.Integer, nullable=False, server_default="0"),
    sa.Column("paid", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("refunded", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("written_off", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("due_date", sa.Date),
    sa.Column("responsible_staff_id", sa.Text),
    sa.Column("line_leader_staff_id", sa.Text),
    sa.Column("region_code", sa.Text),
    sa.Column("last_reminded_on", sa.Date),
    sa.UniqueConstraint("sale_id", "customer_id", "authorization_id", name="receivable_once_per_payment"),
)

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("region_code", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
)

accounts = sa.Table(
    "credit_accounts", metadata,
    sa.Column("customer_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("customer_class", sa.Text, nullable=False),
    sa.Column("contact_mobile", sa.Text),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("responsible_staff_id", sa.Text, nullable=False),
    sa.Column("line_leader_staff_id", sa.Text),
    sa.Column("limit_cases", sa.Integer, nullable=False),
    sa.Column("limit_amount", sa.BigInteger, nullable=False),
    sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("suspended_reason", sa.Text),
    sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    sa.Column("member_id", sa.Text, unique=True),  # added by 0004: the account is for this member (M-14)
    sa.Column("suspension_by", sa.Text),  # added by 0006: who last suspended or resumed it (from the token)
    sa.Column("suspension_at", TS),
)

limit_raises = sa.Table(
    "limit_raises", metadata,
    sa.Column("raise_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False, index=True),
    sa.Column("extra_cases", sa.Integer, nullable=False),
    sa.Column("extra_amount", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("application_ref", sa.Text, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # pending | approved | rejected
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
)

authorizations = sa.Table(
    "authorizations", metadata,
    sa.Column("authorization_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False, index=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("cases", sa.Integer, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("responsible_staff_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # held | captured | released
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("sale_id", sa.Text),
    sa.Column("released_reason", sa.Text),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    sa.Column("receipt_no", sa.Text),  # added by 0003: the receipt that claimed it at the till (C-04)
)
sa.Index("authorizations_held", authorizations.c.expires_at, postgresql_where=authorizations.c.status == "held")

extensions = sa.Table(
    "due_extensions", metadata,
    sa.Column("extension_id", sa.Text, primary_key=True),
    sa.Column("receivable_id", sa.Text, nullable=False, index=True),
    sa.Column("new_due_date", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # pending | approved | rejected
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
)

payments = sa.Table(
    "payments", metadata,
    sa.Column("payment_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False, index=True),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("reference", sa.Text),
    sa.Column("status", sa.Text, nullable=False),  # cleared | pending | bounced
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("clears_on", sa.Date),
    sa.Column("allocated", JSONB, nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    sa.Column("settled_by", sa.Text),  # added by 0006: who cleared or bounced the cheque (none: the daily run)
    sa.Column("settled_at", TS),
)

daily_runs = sa.Table(
    "daily_runs", metadata,
    sa.Column("run_date", sa.Date, primary_key=True),
    # added by 0004: the stores' time zone the run was for ("*" = every store, the admin command's default)
    sa.Column("timezone", sa.Text, primary_key=True, server_default="*"),
    sa.Column("overdue_invoices", sa.Integer, nullable=False),
    sa.Column("reminders", sa.Integer, nullable=False),
    sa.Column("cheques_cleared", sa.Integer, nullable=False),
    sa.Column("ran_at", TS, nullable=False, server_default=sa.func.now()),
)

writeoffs = sa.Table(
    "writeoffs", metadata,
    sa.Column("writeoff_id", sa.Text, primary_key=True),
    sa.Column("receivable_id", sa.Text, nullable=False, unique=True),
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # pending | approved | rejected
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
)

liabilities = sa.Table(
    "staff_liabilities", metadata,
    sa.Column("writeoff_id", sa.Text, primary_key=True),
    sa.Column("staff_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),  # charge (100%) | fine (10%)
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("receivable_id", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
)

# C-09 group-buy coupons and C-08 rebates (added by 0003)
coupon_batches = sa.Table(
    "coupon_batches", metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("face_value", sa.BigInteger, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("drawn_by", sa.Text, nullable=False),
    sa.Column("drawn_at", TS, nullable=False),
)

coupons = sa.Table(
    "coupons", metadata,
    sa.Column("coupon_no", sa.Text, primary_key=True),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("face_value", sa.BigInteger, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # in_stock | held (cheque pending) | sold | redeemed
    sa.Column("drawn_at", TS, nullable=False),
    sa.Column("left_stock_at", TS),  # sold or given as a rebate
    sa.Column("coupon_sale_id", sa.Text),
    sa.Column("rebate_id", sa.Text),
    sa.Column("redeemed_store_id", sa.Text),
    sa.Column("redeemed_receipt_no", sa.Text),
    sa.Column("redeemed_at", TS),
    sa.Column("redeemed_sale_id", sa.Text),  # added by 0004: the pos.sales sale that spent it (C-09)
)

sa.Index("coupons_unclaimed_spends", coupons.c.redeemed_at,  # added by 0005: spends awaiting their sale (C-09)
         postgresql_where=sa.and_(coupons.c.status == "redeemed", coupons.c.redeemed_sale_id.is_(None)))

coupon_sales = sa.Table(
    "coupon_sales", metadata,
    sa.Column("coupon_sale_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("sold_at", TS, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("contact", sa.Text, nullable=False),
    sa.Column("phone_enc", sa.Text, nullable=False),  # C-09: the buyer's phone, encrypted (PII_KEYS); clear before 0003
    sa.Column("phone_index", sa.Text, index=True),  # its blind index (normalised), to find a buyer's sales
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("payment_method", sa.Text, nullable=False),
    sa.Column("coupon_nos", JSONB, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("cheque_status", sa.Text),  # pending | cleared | bounced (cheque payments only, C-05)
    sa.Column("clears_on", sa.Date),
    sa.Column("sold_by", sa.Text, nullable=False),
    sa.Column("cheque_settled_by", sa.Text),  # added by 0006: who cleared or bounced it (none: the daily run)
    sa.Column("cheque_settled_at", TS),
)

rebate_tier_versions = sa.Table(
    "rebate_tier_versions", metadata,  # added by 0007 (was rebate_tiers, replaced in place): C-08, every change kept
    sa.Column("version", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("effective_from", sa.Date, nullable=False),  # a business date of HQ's zone
    sa.Column("tiers", JSONB, nullable=False),  # [{min_purchases (fen), rate_bp (basis points)}], by floor
    sa.Column("set_by", sa.Text),  # the staff id of the token (none: the tiers of before 0007)
    sa.Column("set_at", TS, nullable=False),
)
sa.Index("rebate_tier_versions_effective", rebate_tier_versions.c.effective_from, rebate_tier_versions.c.version)

rebates = sa.Table(
    "rebates", metadata,
    sa.Column("rebate_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("purchases", sa.BigInteger, nullable=False),
    sa.Column("rate_bp", sa.Integer, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # pending | approved | rejected | collected
    sa.Column("slip_no", sa.Text, unique=True),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("collected_by", sa.Text),
    sa.Column("collected_at", TS),
    sa.Column("coupon_nos", JSONB),
    sa.Column("collection_recorded_by", sa.Text),  # added by 0006: the staff member who recorded the collection
    sa.Column("tier_version", sa.BigInteger),  # added by 0007: the rebate tiers' version it was computed with
    sa.UniqueConstraint("customer_id", "period", name="one_rebate_per_customer_period"),
)
rebate_slip_seq = sa.Sequence("rebate_slip_no", metadata=metadata)


# added by 0004
staff_directory = sa.Table(
    "staff_directory", metadata,  # from members.staff.changed (O-01): who to remind (C-07), line leaders (C-06)
    sa.Column("staff_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("region_code", sa.Text),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("position", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("mobile_enc", sa.Text),  # AES-GCM (vipcore.pii), never in clear
    sa.Column("line_leader_staff_id", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
)

member_classes = sa.Table(
    "member_classes", metadata,  # M-14 class of member files (members.member.registered / updated)
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("customer_class", sa.Text, nullable=False),
)

purchases = sa.Table(
    "purchases", metadata,  # C-08: what a credit customer bought without credit (cash, transfer...)
    sa.Column("sale_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("occurred_at", TS, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("refunded", sa.BigInteger, nullable=False, server_default="0"),
)
sa.Index("purchases_by_time", purchases.c.occurred_at)

coupon_movements = sa.Table(
    "coupon_movements", metadata,  # C-08: append-only ledger of coupon stock, booked when each movement happens
    sa.Column("movement_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("coupon_no", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # issued | sold | rebate | returned (a bounced cheque)
    # | redemption_released (C-09: a till spend whose sale never came; not a stock movement, no sign in C-08)
    sa.Column("face_value", sa.BigInteger, nullable=False),
    sa.Column("at", TS, nullable=False, index=True),
    sa.Column("rule", sa.Text),  # added by 0005: the rule a movement applies (C-09 for a released spend)
    sa.Column("store_id", sa.Text),  # added by 0005: the store and receipt a released spend was made for
    sa.Column("receipt_no", sa.Text),
)
sa.Index("coupon_movements_released", coupon_movements.c.store_id, coupon_movements.c.receipt_no,
         postgresql_where=coupon_movements.c.kind == "redemption_released")

reconciliation_closes = sa.Table(
    "reconciliation_closes", metadata,  # C-08: a month closed with finance keeps its figures
    sa.Column("month", sa.Text, primary_key=True),
    sa.Column("figures", JSONB, nullable=False),
    sa.Column("closed_by", sa.Text, nullable=False),
    sa.Column("closed_at", TS, nullable=False),
)

coupon_conflicts = sa.Table(
    "coupon_conflicts", metadata,  # C-09: a recorded sale named coupons it could not spend (seen by finance)
    sa.Column("sale_id", sa.Text, primary_key=True),
    sa.Column("coupon_no", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("receipt_no", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
)

credit_refusals = sa.Table(
    "credit_refusals", metadata,  # added by 0003 (C-04): a recorded credit sale that booked no receivable
    sa.Column("sale_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, primary_key=True),
    sa.Column("authorization_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("receipt_no", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
)
