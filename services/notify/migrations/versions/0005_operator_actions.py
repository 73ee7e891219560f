"""notify: operator_actions, the audit of what staff did through notify's routes

Template saves, consent changes, campaign creation / pause / resume and retries of parked messages each write one
row naming the operator (the staff id of the token, never a form field: O-02) in the same transaction.
The message log pages newest first by (created_at, message_id): an index for it.

Revision ID: notify_0005
Revises: notify_0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "notify_0005"
down_revision = "notify_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_actions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("operator", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("operator_actions_subject", "operator_actions", ["subject", "id"])
    op.create_index("messages_created", "messages", ["created_at", "message_id"])


def downgrade() -> None:
    op.drop_index("messages_created", table_name="messages")
    op.drop_index("operator_actions_subject", table_name="operator_actions")
    op.drop_table("operator_actions")
