"""members: pii_state, which blind-index scheme the stored indexes follow (mobiles normalised, index key)

Indexes written before mobiles were normalised (`138-0013-8000` and `13800138000` hashed apart) are recomputed by
the service at start (members.pii.reindex, in the background, resumable) when the scheme recorded here differs
from the running one; `python -m members.pii reindex` does the same by hand.

Revision ID: members_0005
Revises: members_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "members_0005"
down_revision = "members_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pii_state",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("pii_state")
