"""members: stores and staff (O-01, O-03), member files (M-01..M-06), cards (M-17), consumptions, blacklist (M-16),
access log (M-07), periodic runs, requests, hand-overs (M-12), imports (M-19), revisits and prospects (M-20),
referrer losses (M-21), merges (M-06), reviewer leave (O-03), card validity (M-17), outbox, inbox

Written out as explicit operations (first drafted by `alembic revision --autogenerate` against an empty
database, then reviewed by hand); tests/contracts/test_migrations.py checks that upgrading an empty database
to head gives exactly the tables of `members.adapters.tables` and `vipcore.outbox` (no drift).

Squashed: this revision replaces the earlier chain members_0001..0003, whose first revision built the schema from the
tables as they were at run time (so the later ones needed existence guards). No production database existed;
a development database stamped by the old chain must be dropped and made again.

Revision ID: members_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "members_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
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
        "staff",
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("mobile_index", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("mobile_enc", sa.Text(), nullable=True),
        sa.Column("line_leader_staff_id", sa.Text(), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"]),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_index("ix_staff_mobile_index", "staff", ["mobile_index"])
    op.create_table(
        "card_sequences",
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code"),
    )
    op.create_table(
        "members",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("referrer_staff_id", sa.Text(), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("name_index", sa.Text(), nullable=False),
        sa.Column("mobile_enc", sa.Text(), nullable=False),
        sa.Column("mobile_index", sa.Text(), nullable=False),
        sa.Column("card_no", sa.Text(), nullable=True),
        sa.Column("card_status", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id_card_enc", sa.Text(), nullable=True),
        sa.Column("id_card_index", sa.Text(), nullable=True),
        sa.Column("stage", sa.Integer(), server_default="2", nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("merged_into", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"]),
        sa.PrimaryKeyConstraint("member_id"),
        sa.UniqueConstraint("card_no"),
        sa.UniqueConstraint("store_id", "mobile_index", name="members_one_file_per_store"),
    )
    op.create_table(
        "consumptions",
        sa.Column("sale_id", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("cashier_staff_id", sa.Text(), nullable=True),
        sa.Column("booked_by_staff_id", sa.Text(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sale_id"),
    )
    op.create_index("ix_consumptions_member_id", "consumptions", ["member_id"])
    op.create_table(
        "cards",
        sa.Column("card_no", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("replaced_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("card_no"),
    )
    op.create_index("ix_cards_member_id", "cards", ["member_id"])
    op.create_table(
        "blacklist",
        sa.Column("mobile_index", sa.Text(), nullable=False),
        sa.Column("mobile_enc", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("listed_by", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mobile_index"),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("member_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_staff_id", "access_log", ["staff_id"])
    op.create_table(
        "periodic_runs",
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("rule", "period"),
    )
    op.create_table(
        "claim_carry",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "staff_id"),
    )
    op.create_table(
        "requests",
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=True),
        sa.Column("raised_by", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index("ix_requests_kind_status", "requests", ["kind", "status"])
    op.create_table(
        "handovers",
        sa.Column("handover_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("from_staff_id", sa.Text(), nullable=False),
        sa.Column("to_staff_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("member_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("history", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handover_id"),
    )
    op.create_table(
        "imports",
        sa.Column("import_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("import_id"),
    )
    op.create_table(
        "import_rejects",
        sa.Column("import_id", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("row", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "row_no"),
    )
    op.create_table(
        "revisits",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("next_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_revisits_member_id", "revisits", ["member_id"])
    op.create_table(
        "prospects",
        sa.Column("prospect_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("mobile_enc", sa.Text(), nullable=False),
        sa.Column("mobile_index", sa.Text(), nullable=False),
        sa.Column("intent", sa.Text(), nullable=False),
        sa.Column("next_visit", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("prospect_id"),
    )
    op.create_table(
        "referrer_losses",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "period"),
    )
    op.create_index("ix_referrer_losses_staff_id", "referrer_losses", ["staff_id"])
    op.create_table(
        "handover_files",
        sa.Column("handover_id", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("rechecked_by", sa.Text(), nullable=True),
        sa.Column("rechecked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recheck_note", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approval_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("handover_id", "member_id"),
    )
    op.create_table(
        "merges",
        sa.Column("merge_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("kept_member_id", sa.Text(), nullable=False),
        sa.Column("merged_member_id", sa.Text(), nullable=False),
        sa.Column("referrer_staff_id", sa.Text(), nullable=True),
        sa.Column("dropped_referrer_staff_id", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("merged_by", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("merge_id"),
        sa.UniqueConstraint("merged_member_id"),
    )
    op.create_table(
        "reviewer_leave",
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("delegate_staff_id", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_table(
        "program_cards",
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("validity_years", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("program"),
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
    op.drop_table("program_cards")
    op.drop_table("reviewer_leave")
    op.drop_table("merges")
    op.drop_table("handover_files")
    op.drop_table("referrer_losses")
    op.drop_table("prospects")
    op.drop_table("revisits")
    op.drop_table("import_rejects")
    op.drop_table("imports")
    op.drop_table("handovers")
    op.drop_table("requests")
    op.drop_table("claim_carry")
    op.drop_table("periodic_runs")
    op.drop_table("access_log")
    op.drop_table("blacklist")
    op.drop_table("cards")
    op.drop_table("consumptions")
    op.drop_table("members")
    op.drop_table("card_sequences")
    op.drop_table("staff")
    op.drop_table("stores")

