"""notify: contacts, messages, outbox, inbox

Revision ID: notify_0001
Revises:
"""
from notify.adapters.tables import metadata
from vipcore.outbox import create_tables

revision = "notify_0001"
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
