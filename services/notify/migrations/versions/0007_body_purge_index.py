"""notify: the body purge (N-06) at chain scale

`messages_body_kept`: a partial index on created_at of the messages whose body is still kept. The hourly purge takes
its candidates from it in batches, so a run reads only the bodies left to erase instead of every message older than
the retention period again (millions at chain scale, most of them already purged).

Revision ID: notify_0007
Revises: notify_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "notify_0007"
down_revision = "notify_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("messages_body_kept", "messages", ["created_at"], postgresql_where=sa.text("body IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("messages_body_kept", table_name="messages")
