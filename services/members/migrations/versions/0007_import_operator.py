"""members: who started an import (imports.started_by), and hand-overs listed newest first per store

The console uploads spreadsheets with the HQ admin's staff token; the import now records that operator (issue 12:
every action leaves an audit entry naming its operator). GET /v1/handovers lists a store's hand-overs newest first
(index on store_id, raised_at).

Revision ID: members_0007
Revises: members_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "members_0007"
down_revision = "members_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("imports", sa.Column("started_by", sa.Text(), nullable=True))
    op.create_index("handovers_store_raised", "handovers", ["store_id", "raised_at"])


def downgrade() -> None:
    op.drop_index("handovers_store_raised", table_name="handovers")
    op.drop_column("imports", "started_by")
