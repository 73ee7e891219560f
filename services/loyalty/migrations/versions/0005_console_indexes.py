"""loyalty: indexes for the console at chain scale (issue 12, bench/console_scale.py): a member's ledger page by
entry id (newest first, paged with `before`), a store's members for the desk-claim list (L-09)

Revision ID: loyalty_0005
Revises: loyalty_0004
"""

from alembic import op

revision = "loyalty_0005"
down_revision = "loyalty_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ledger_member_entry", "ledger", ["member_id", "id"])
    op.create_index("members_store_member", "members", ["store_id", "member_id"])


def downgrade() -> None:
    op.drop_index("members_store_member", table_name="members")
    op.drop_index("ledger_member_entry", table_name="ledger")
