"""gateway: index sales by the time they were recorded (today's sales per store for the console's dashboard)

Revision ID: gateway_0004
Revises: gateway_0003
"""

from alembic import op

revision = "gateway_0004"
down_revision = "gateway_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("sales_created_at", "sales", ["created_at"])


def downgrade() -> None:
    op.drop_index("sales_created_at", table_name="sales")
