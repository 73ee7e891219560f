"""loyalty: dlq_actions, the audit of operators' redrive actions on dead-lettered events (vipcore.dlq)

One row per replay or discard, naming the operator; with the DLQ topic and the inbox it gives each dead-lettered
event its status (pending, replayed, discarded, applied).

Revision ID: loyalty_0002
Revises: loyalty_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "loyalty_0002"
down_revision = "loyalty_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dlq_actions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entry_id", sa.Text(), nullable=False, comment="event id, or <dlq topic>@<offset>"),
        sa.Column("topic", sa.Text(), nullable=False, comment="the source topic"),
        sa.Column("consumer", sa.Text(), nullable=False, comment="the consumer group that dead-lettered it"),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("operator", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("redrive_id", sa.Uuid(), nullable=True,
                  comment="replay: the x-redrive-id header of the record produced"),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("action IN ('replay', 'discard')", name="dlq_actions_action"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("dlq_actions_entry", "dlq_actions", ["entry_id", "id"])


def downgrade() -> None:
    op.drop_index("dlq_actions_entry", table_name="dlq_actions")
    op.drop_table("dlq_actions")
