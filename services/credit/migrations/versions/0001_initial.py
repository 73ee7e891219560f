"""credit: receivables (C-03), accounts and limits (C-01, C-02), authorisations (C-04), payments (C-05), daily runs
(C-07), write-offs and liabilities (C-06), group-buy coupons (C-09), rebates (C-08), staff directory, member classes
(M-14), purchases, coupon ledger and closed months (C-08), outbox, inbox

Written out as explicit operations (first drafted by `alembic revision --autogenerate` against an empty
database, then reviewed by hand); tests/contracts/test_migrations.py checks that upgrading an empty database
to head gives exactly the tables of `credit.adapters.tables` and `vipcore.outbox` (no drift).

Squashed: this revision replaces the earlier chain credit_0001..0005, whose first revision built the schema from the
tables as they were at run time (so the later ones needed existence guards). No production database existed;
a development database stamped by the old chain must be dropped and made again.

Revision ID: credit_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "credit_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receivables",
        sa.Column("receivable_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("sale_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("receipt_no", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("authorization_id", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("cases", sa.Integer(), server_default="0", nullable=False),
        sa.Column("paid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("written_off", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("responsible_staff_id", sa.Text(), nullable=True),
        sa.Column("line_leader_staff_id", sa.Text(), nullable=True),
        sa.Column("region_code", sa.Text(), nullable=True),
        sa.Column("last_reminded_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("receivable_id"),
        sa.UniqueConstraint("sale_id", "customer_id", "authorization_id", name="receivable_once_per_payment"),
    )
    op.create_index("ix_receivables_customer_id", "receivables", ["customer_id"])
    op.create_table(
        "stores",
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("store_id"),
    )
    op.create_table(
        "credit_accounts",
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("customer_class", sa.Text(), nullable=False),
        sa.Column("contact_mobile", sa.Text(), nullable=True),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("responsible_staff_id", sa.Text(), nullable=False),
        sa.Column("line_leader_staff_id", sa.Text(), nullable=True),
        sa.Column("limit_cases", sa.Integer(), nullable=False),
        sa.Column("limit_amount", sa.BigInteger(), nullable=False),
        sa.Column("suspended", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("suspended_reason", sa.Text(), nullable=True),
        sa.Column("overdue", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id"),
        sa.UniqueConstraint("member_id"),
    )
    op.create_table(
        "limit_raises",
        sa.Column("raise_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("extra_cases", sa.Integer(), nullable=False),
        sa.Column("extra_amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("application_ref", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("raise_id"),
    )
    op.create_index("ix_limit_raises_customer_id", "limit_raises", ["customer_id"])
    op.create_table(
        "authorizations",
        sa.Column("authorization_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("responsible_staff_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sale_id", sa.Text(), nullable=True),
        sa.Column("released_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("authorization_id"),
    )
    op.create_index("authorizations_held", "authorizations", ["expires_at"],
                    postgresql_where=sa.text("status = 'held'"))
    op.create_index("ix_authorizations_customer_id", "authorizations", ["customer_id"])
    op.create_table(
        "due_extensions",
        sa.Column("extension_id", sa.Text(), nullable=False),
        sa.Column("receivable_id", sa.Text(), nullable=False),
        sa.Column("new_due_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("extension_id"),
    )
    op.create_index("ix_due_extensions_receivable_id", "due_extensions", ["receivable_id"])
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("clears_on", sa.Date(), nullable=True),
        sa.Column("allocated", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("payment_id"),
    )
    op.create_index("ix_payments_customer_id", "payments", ["customer_id"])
    op.create_table(
        "daily_runs",
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("timezone", sa.Text(), server_default="*", nullable=False),
        sa.Column("overdue_invoices", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("cheques_cleared", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("run_date", "timezone"),
    )
    op.create_table(
        "writeoffs",
        sa.Column("writeoff_id", sa.Text(), nullable=False),
        sa.Column("receivable_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("writeoff_id"),
        sa.UniqueConstraint("receivable_id"),
    )
    op.create_table(
        "staff_liabilities",
        sa.Column("writeoff_id", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("receivable_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("writeoff_id", "staff_id"),
    )
    op.create_table(
        "coupon_batches",
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("face_value", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("drawn_by", sa.Text(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    op.create_table(
        "coupons",
        sa.Column("coupon_no", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("face_value", sa.BigInteger(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_stock_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("coupon_sale_id", sa.Text(), nullable=True),
        sa.Column("rebate_id", sa.Text(), nullable=True),
        sa.Column("redeemed_store_id", sa.Text(), nullable=True),
        sa.Column("redeemed_receipt_no", sa.Text(), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_sale_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("coupon_no"),
    )
    op.create_index("coupons_unclaimed_spends", "coupons", ["redeemed_at"],  # spends awaiting their sale (C-09)
                    postgresql_where=sa.text("status = 'redeemed' AND redeemed_sale_id IS NULL"))
    op.create_table(
        "coupon_sales",
        sa.Column("coupon_sale_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("sold_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payment_method", sa.Text(), nullable=False),
        sa.Column("coupon_nos", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("cheque_status", sa.Text(), nullable=True),
        sa.Column("clears_on", sa.Date(), nullable=True),
        sa.Column("sold_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("coupon_sale_id"),
    )
    op.create_table(
        "rebate_tiers",
        sa.Column("min_purchases", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("min_purchases"),
    )
    op.create_table(
        "rebates",
        sa.Column("rebate_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("purchases", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("slip_no", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("collected_by", sa.Text(), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("coupon_nos", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("rebate_id"),
        sa.UniqueConstraint("customer_id", "period", name="one_rebate_per_customer_period"),
        sa.UniqueConstraint("slip_no"),
    )
    op.execute(sa.schema.CreateSequence(sa.Sequence("rebate_slip_no")))  # numbers the collection slips (C-08)
    op.create_table(
        "staff_directory",
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("mobile_enc", sa.Text(), nullable=True),
        sa.Column("line_leader_staff_id", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_table(
        "member_classes",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("customer_class", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "purchases",
        sa.Column("sale_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("sale_id", "customer_id"),
    )
    op.create_index("purchases_by_time", "purchases", ["occurred_at"])
    op.create_table(
        "coupon_movements",
        sa.Column("movement_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("coupon_no", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("face_value", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.Column("store_id", sa.Text(), nullable=True),
        sa.Column("receipt_no", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("movement_id"),
    )
    op.create_index("coupon_movements_released", "coupon_movements", ["store_id", "receipt_no"],
                    postgresql_where=sa.text("kind = 'redemption_released'"))
    op.create_index("ix_coupon_movements_at", "coupon_movements", ["at"])
    op.create_table(
        "reconciliation_closes",
        sa.Column("month", sa.Text(), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("closed_by", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_table(
        "coupon_conflicts",
        sa.Column("sale_id", sa.Text(), nullable=False),
        sa.Column("coupon_no", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("receipt_no", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("sale_id", "coupon_no"),
    )
    # vipcore.outbox: the transactional outbox (relayed to Kafka in id order) and the consumers' inbox
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("outbox_unpublished", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
    op.drop_table("coupon_conflicts")
    op.drop_table("reconciliation_closes")
    op.drop_table("coupon_movements")
    op.drop_table("purchases")
    op.drop_table("member_classes")
    op.drop_table("staff_directory")
    op.execute(sa.schema.DropSequence(sa.Sequence("rebate_slip_no")))
    op.drop_table("rebates")
    op.drop_table("rebate_tiers")
    op.drop_table("coupon_sales")
    op.drop_table("coupons")
    op.drop_table("coupon_batches")
    op.drop_table("staff_liabilities")
    op.drop_table("writeoffs")
    op.drop_table("daily_runs")
    op.drop_table("payments")
    op.drop_table("due_extensions")
    op.drop_table("authorizations")
    op.drop_table("limit_raises")
    op.drop_table("credit_accounts")
    op.drop_table("stores")
    op.drop_table("receivables")

