"""members: indexes for the console at chain scale (issue 12, bench/console_scale.py): a file by mobile across
stores (HQ), by name prefix, the review queue, a store's files in creation order

Revision ID: members_0009
Revises: members_0008
"""

from alembic import op

revision = "members_0009"
down_revision = "members_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("members_mobile_index", "members", ["mobile_index"])
    op.create_index("members_name_prefix", "members", ["full_name"],
                    postgresql_ops={"full_name": "text_pattern_ops"})
    op.create_index("members_store_created", "members", ["store_id", "created_at"])
    op.create_index("members_pending_review", "members", ["submitted_at"],
                    postgresql_where="status = 'pending_review'")


def downgrade() -> None:
    for name in ("members_pending_review", "members_store_created", "members_name_prefix", "members_mobile_index"):
        op.drop_index(name, table_name="members")
