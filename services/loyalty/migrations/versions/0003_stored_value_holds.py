"""loyalty: stored-value holds at the POS (L-11)

Revision ID: loyalty_0003
Revises: loyalty_0002
"""
import sqlalchemy as sa
from loyalty.adapters.tables import metadata

revision = "loyalty_0003"
down_revision = "loyalty_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    bind = op.get_bind()
    if "held" not in {c["name"] for c in sa.inspect(bind).get_columns("stored_value")}:
        op.add_column("stored_value", sa.Column("held", sa.BigInteger, nullable=False, server_default="0"))
        op.create_check_constraint("stored_value_held_within_balance", "stored_value", "held >= 0 AND held <= balance")
    metadata.create_all(bind)  # new tables only (checkfirst)


def downgrade() -> None:
    from alembic import op

    op.drop_table("stored_value_holds")
    op.drop_constraint("stored_value_held_within_balance", "stored_value")
    op.drop_column("stored_value", "held")
