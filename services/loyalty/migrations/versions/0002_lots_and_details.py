"""loyalty: account state (lots, spend history), ledger details, store regions, adjustments, job runs

Revision ID: loyalty_0002
Revises: loyalty_0001
"""
import sqlalchemy as sa
from loyalty.adapters.tables import metadata
from sqlalchemy.dialects.postgresql import JSONB

revision = "loyalty_0002"
down_revision = "loyalty_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    bind = op.get_bind()
    cols = {c["name"] for c in sa.inspect(bind).get_columns("accounts")}
    if "state" not in cols:  # 0001 builds a fresh database from the current metadata; older ones need these
        op.add_column("accounts", sa.Column("state", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")))
        op.add_column("ledger", sa.Column("detail", JSONB))
        op.add_column("stores", sa.Column("region_code", sa.Text))
    op.create_index("ledger_program_kind_time", "ledger", ["program", "kind", "occurred_at"], if_not_exists=True)
    metadata.create_all(bind)  # new tables only (checkfirst)


def downgrade() -> None:
    from alembic import op

    op.drop_table("runs")
    op.drop_table("adjustments")
    op.drop_index("ledger_program_kind_time", "ledger")
