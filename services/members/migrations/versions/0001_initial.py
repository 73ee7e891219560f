"""members: stores, staff, members, cards, consumptions, outbox, inbox

Revision ID: members_0001
Revises:
"""
from members.adapters.tables import metadata
from vipcore.outbox import create_tables

revision = "members_0001"
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
