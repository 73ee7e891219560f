"""notify: the message log and the parked queue at chain scale (issue 12 item 5)

messages.store_id (the member's store when the message was made, filled from contacts for the messages already
there) and one index per filter of the message log, each ending in the log's page key (created_at, message_id) and
carrying the status (INCLUDE: the counts per status read the index alone): status, member (replaces the
single-column member index), store, template, and `messages_created` again with the status; the parked queue's
partial index (updated_at, message_id) WHERE status = 'parked'.

Revision ID: notify_0006
Revises: notify_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "notify_0006"
down_revision = "notify_0005"
branch_labels = None
depends_on = None

KEY = ["created_at", "message_id"]


def upgrade() -> None:
    op.add_column("messages", sa.Column("store_id", sa.Text(), nullable=True))
    op.execute("UPDATE messages m SET store_id = c.store_id FROM contacts c WHERE c.member_id = m.member_id")
    op.drop_index("ix_messages_member_id", table_name="messages")
    op.drop_index("messages_created", table_name="messages")
    op.create_index("messages_created", "messages", KEY, postgresql_include=["status"])
    op.create_index("messages_status_created", "messages", ["status", *KEY])
    op.create_index("messages_member_created", "messages", ["member_id", *KEY], postgresql_include=["status"])
    op.create_index("messages_store_created", "messages", ["store_id", *KEY], postgresql_include=["status"])
    op.create_index("messages_template_created", "messages", ["template", *KEY], postgresql_include=["status"])
    op.create_index("messages_parked", "messages", ["updated_at", "message_id"],
                    postgresql_where=sa.text("status = 'parked'"))


def downgrade() -> None:
    op.drop_index("messages_parked", table_name="messages")
    op.drop_index("messages_template_created", table_name="messages")
    op.drop_index("messages_store_created", table_name="messages")
    op.drop_index("messages_member_created", table_name="messages")
    op.drop_index("messages_status_created", table_name="messages")
    op.drop_index("messages_created", table_name="messages")
    op.create_index("messages_created", "messages", KEY)
    op.create_index("ix_messages_member_id", "messages", ["member_id"])
    op.drop_column("messages", "store_id")
