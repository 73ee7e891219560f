"""notify: campaigns keep their release allowance (release_tokens as of release_at) in the row

Several notify instances release a campaign from this one bucket (claimed with the row's lock), so `rate_per_s`
is the chain-wide rate whatever the number of instances (docs/scaling.md).

Revision ID: notify_0004
Revises: notify_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "notify_0004"
down_revision = "notify_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("release_tokens", sa.Float(), server_default="0", nullable=False))
    op.add_column("campaigns", sa.Column("release_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("campaigns", "release_at")
    op.drop_column("campaigns", "release_tokens")
