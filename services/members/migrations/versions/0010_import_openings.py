"""members: opening balances of imported rows (M-19, issue 12): the points (and tier) a customer brought from the
chain's old system, written in the same transaction as the file and announced on members.member.registered

Revision ID: members_0010
Revises: members_0009
"""

import sqlalchemy as sa
from alembic import op

revision = "members_0010"
down_revision = "members_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_openings",
        sa.Column("member_id", sa.Text, primary_key=True),
        sa.Column("import_id", sa.Text, nullable=False),
        sa.Column("row_no", sa.Integer, nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("tier", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("points >= 0", name="import_openings_points_not_negative"),
    )
    op.create_index("ix_import_openings_import_id", "import_openings", ["import_id"])


def downgrade() -> None:
    op.drop_index("ix_import_openings_import_id", table_name="import_openings")
    op.drop_table("import_openings")
