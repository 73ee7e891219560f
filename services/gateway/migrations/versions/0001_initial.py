"""gateway: api keys, sales, refunds, stores, member directory, outbox, inbox

Revision ID: gateway_0001
Revises:
"""
from gateway.adapters.tables import metadata
from vipcore.outbox import create_tables

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    metadata.create_all(op.get_bind())
    create_tables(op)


def downgrade() -> None:
    from alembic import op

    metadata.drop_all(op.get_bind())
    op.drop_table("outbox")
    op.drop_table("inbox")
