"""loyalty: a stored-value entry's detail (issue 12, M-19, L-11): the cause of an imported opening stored-value
balance — reason, import id, row, operator — kept on its `opening` entry of the stored-value ledger

Revision ID: loyalty_0006
Revises: loyalty_0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "loyalty_0006"
down_revision = "loyalty_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stored_value_ledger", sa.Column(
        "detail", JSONB, comment="an opening's cause: reason, import_id, row_no, operator (M-19; loyalty_0006)"))


def downgrade() -> None:
    op.drop_column("stored_value_ledger", "detail")
