"""members: file_changes, every change to a member file and every review decision on it (M-13, M-04)

A change puts the file back into review (M-13); the row keeps who changed which fields (mobile and ID card masked),
the state it left and entered, and each approval or rejection with its note, so the file's history shows them all.

Revision ID: members_0008
Revises: members_0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "members_0008"
down_revision = "members_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=False),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_file_changes_member_id", "file_changes", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_file_changes_member_id", table_name="file_changes")
    op.drop_table("file_changes")
