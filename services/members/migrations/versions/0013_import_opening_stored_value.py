"""members: the opening stored-value (prepaid) balance of an imported row (M-19, L-11, issue 12), in fen, beside its
opening points in import_openings; written with the file and announced on members.member.registered's `opening`

Revision ID: members_0013
Revises: members_0012
"""

import sqlalchemy as sa
from alembic import op

revision = "members_0013"
down_revision = "members_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_openings", sa.Column(
        "stored_value", sa.BigInteger, nullable=False, server_default="0",
        comment="opening prepaid balance, fen, 0..OPENING_STORED_VALUE_MAX (L-11; members_0013)"))
    op.create_check_constraint("import_openings_stored_value_not_negative", "import_openings", "stored_value >= 0")


def downgrade() -> None:
    op.drop_constraint("import_openings_stored_value_not_negative", "import_openings", type_="check")
    op.drop_column("import_openings", "stored_value")
