"""gateway: each sale remembers its event's Kafka key, so its refunds are keyed the same (in order after it)

Revision ID: gateway_0003
Revises: gateway_0002
"""

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    # 0001 creates from the live metadata, so on a fresh database the column may exist already.
    op.execute("ALTER TABLE sales ADD COLUMN IF NOT EXISTS event_key text")


def downgrade() -> None:
    from alembic import op

    op.execute("ALTER TABLE sales DROP COLUMN IF EXISTS event_key")
