"""notify: index messages by creation time (the console's SMS tile counts today's messages per status)

Revision ID: notify_0005
Revises: notify_0004
"""

from alembic import op

revision = "notify_0005"
down_revision = "notify_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("messages_created_at", "messages", ["created_at"])


def downgrade() -> None:
    op.drop_index("messages_created_at", table_name="messages")
