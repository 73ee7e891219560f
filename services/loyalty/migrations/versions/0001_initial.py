"""loyalty: stores, accounts, ledger (L-02), adjustments, job runs, members, stored value with holds and ledger
(L-11), outbox, inbox

Written out as explicit operations (first drafted by `alembic revision --autogenerate` against an empty
database, then reviewed by hand); tests/contracts/test_migrations.py checks that upgrading an empty database
to head gives exactly the tables of `loyalty.adapters.tables` and `vipcore.outbox` (no drift).

Squashed: this revision replaces the earlier chain loyalty_0001..0003, whose first revision built the schema from the
tables as they were at run time (so the later ones needed existence guards). No production database existed;
a development database stamped by the old chain must be dropped and made again.

Revision ID: loyalty_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "loyalty_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("store_id"),
    )
    op.create_table(
        "accounts",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("tier", sa.Text(), nullable=False),
        sa.Column("points_balance", sa.BigInteger(), nullable=False),
        sa.Column("tier_spend", sa.BigInteger(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "program"),
    )
    op.create_table(
        "ledger",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("spend", sa.BigInteger(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=True),
        sa.Column("receipt_no", sa.Text(), nullable=True),
        sa.Column("cause_event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cause_event_id", "kind", name="ledger_one_entry_per_cause"),
    )
    op.create_index("ix_ledger_member_id", "ledger", ["member_id"])
    op.create_index("ledger_program_kind_time", "ledger", ["program", "kind", "occurred_at"])
    op.create_table(
        "adjustments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("receipt_no", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "runs",
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("job", "period"),
    )
    op.create_table(
        "members",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "stored_value",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), server_default="0", nullable=False,
                  comment="fen held by POS terminals for sales on their way (L-11); never above balance"),
        sa.CheckConstraint("held >= 0 AND held <= balance", name="stored_value_held_within_balance"),
        sa.PrimaryKeyConstraint("member_id", "program"),
    )
    op.create_table(
        "stored_value_holds",
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("receipt_no", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("store_id", "receipt_no"),
    )
    op.create_index("stored_value_holds_open", "stored_value_holds", ["expires_at"],
                    postgresql_where=sa.text("status = 'held'"))
    op.create_table(
        "stored_value_ledger",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False, comment="fen; the bonus included for top-ups"),
        sa.Column("paid", sa.BigInteger(), server_default="0", nullable=False, comment="cash paid for a top-up"),
        sa.Column("bonus", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("shortfall", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("store_id", sa.Text(), nullable=True),
        sa.Column("receipt_no", sa.Text(), nullable=True),
        sa.Column("staff_id", sa.Text(), nullable=True),
        sa.Column("cause_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cause_id", "kind", name="stored_value_one_entry_per_cause"),
    )
    op.create_index("ix_stored_value_ledger_member_id", "stored_value_ledger", ["member_id"])
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
    op.drop_table("stored_value_ledger")
    op.drop_table("stored_value_holds")
    op.drop_table("stored_value")
    op.drop_table("members")
    op.drop_table("runs")
    op.drop_table("adjustments")
    op.drop_table("ledger")
    op.drop_table("accounts")
    op.drop_table("stores")

