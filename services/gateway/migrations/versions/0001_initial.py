"""gateway: API keys, accepted sales and refunds (idempotency), stores, member directory, every card (M-17),
blacklist (M-16), outbox, inbox

Written out as explicit operations (first drafted by `alembic revision --autogenerate` against an empty
database, then reviewed by hand); tests/contracts/test_migrations.py checks that upgrading an empty database
to head gives exactly the tables of `gateway.adapters.tables` and `vipcore.outbox` (no drift).

Squashed: this revision replaces the earlier chain gateway_0001..0003, whose first revision built the schema from the
tables as they were at run time (so the later ones needed existence guards). No production database existed;
a development database stamped by the old chain must be dropped and made again.

Revision ID: gateway_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "sales",
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("receipt_no", sa.Text(), nullable=False),
        sa.Column("sale_id", sa.Text(), nullable=False),
        sa.Column("body_hash", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=True),
        sa.Column("event_key", sa.Text(), nullable=True),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("refunded", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "receipt_no"),
        sa.UniqueConstraint("sale_id"),
    )
    op.create_table(
        "refunds",
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("receipt_no", sa.Text(), nullable=False),
        sa.Column("refund_id", sa.Text(), nullable=False),
        sa.Column("original_receipt_no", sa.Text(), nullable=False),
        sa.Column("body_hash", sa.Text(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "receipt_no"),
        sa.UniqueConstraint("refund_id"),
    )
    op.create_table(
        "stores",
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("store_id"),
    )
    op.create_table(
        "member_directory",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("card_no", sa.Text(), nullable=False),
        sa.Column("mobile_index", sa.Text(), nullable=False),
        sa.Column("name_index", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("card_status", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("member_id"),
        sa.UniqueConstraint("card_no"),
    )
    op.create_index("ix_member_directory_mobile_index", "member_directory", ["mobile_index"])
    op.create_table(
        "member_cards",
        sa.Column("card_no", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("card_status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("card_no"),
    )
    op.create_index("ix_member_cards_member_id", "member_cards", ["member_id"])
    op.create_table(
        "blacklist",
        sa.Column("mobile_index", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("mobile_index"),
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
    op.drop_table("blacklist")
    op.drop_table("member_cards")
    op.drop_table("member_directory")
    op.drop_table("stores")
    op.drop_table("refunds")
    op.drop_table("sales")
    op.drop_table("api_keys")

