"""loyalty: tier_changes, the tier history with reasons (L-04 upgrades, L-05 downgrades)

One row per tier change, written in the same transaction as the account and the TierChanged event; the console's
member page reads it through GET /v1/members/{member_id}/tiers.

Revision ID: loyalty_0004
Revises: loyalty_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "loyalty_0004"
down_revision = "loyalty_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tier_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("from_tier", sa.Text(), nullable=False),
        sa.Column("to_tier", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cause_event_id", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cause_event_id", "member_id", "program", name="tier_changes_one_per_cause"),
    )
    op.create_index("ix_tier_changes_member_id", "tier_changes", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_tier_changes_member_id", table_name="tier_changes")
    op.drop_table("tier_changes")
